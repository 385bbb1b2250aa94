#!/usr/bin/env python2
# Python 2.7 + numpy 1.16 + nltk 3.4.5: the formats as their authors' code wrote them.
import cPickle, pickle, sys, itertools
import numpy as np
from nltk.probability import FreqDist
out = sys.argv[1]
rng = np.random.RandomState(0)
batch = {'batch_label': 'testing batch 1 of 1', 'labels': [3, 8],
         'data': rng.randint(0, 256, size=(2, 3072)).astype(np.uint8),
         'filenames': ['cat_s_000001.png', 'ship_s_000002.png']}
with open(out + '/cifar10_py2_test_batch', 'wb') as f:
    cPickle.dump(batch, f, protocol=2)
meta = {'num_cases_per_batch': 10000, 'num_vis': 3072,
        'label_names': ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']}
with open(out + '/cifar10_py2_batches.meta', 'wb') as f:
    cPickle.dump(meta, f, protocol=2)
# TensorLayer's data/twitter/data.py (index_ and process_data), on two tokenized lines
tokenized = [['happy', 'birthday'], ['thank', 'you', 'happy']]
freq_dist = FreqDist(itertools.chain(*tokenized))
vocab = freq_dist.most_common(6000)
idx2w = ['_'] + ['unk'] + [x[0] for x in vocab]
w2idx = dict([(w, i) for i, w in enumerate(idx2w)])
limit = {'maxq': 20, 'minq': 0, 'maxa': 20, 'mina': 3}
metadata = {'w2idx': w2idx, 'idx2w': idx2w, 'limit': limit, 'freq_dist': freq_dist}
with open(out + '/tl_metadata_py2_protocol0.pkl', 'wb') as f:
    pickle.dump(metadata, f)
with open(out + '/tl_metadata_py2_protocol2.pkl', 'wb') as f:
    cPickle.dump(metadata, f, protocol=2)
print(idx2w)
