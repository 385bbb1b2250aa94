# Python 3 + nltk 3.10: TensorLayer's data.py run under Python 3 (protocols 3 = its default then, 4, 5)
import itertools, pickle, sys
from nltk.probability import FreqDist
out = sys.argv[1]
tokenized = [['happy', 'birthday'], ['thank', 'you', 'happy']]
freq_dist = FreqDist(itertools.chain(*tokenized))
idx2w = ['_'] + ['unk'] + [x[0] for x in freq_dist.most_common(6000)]
w2idx = dict([(w, i) for i, w in enumerate(idx2w)])
metadata = {'w2idx': w2idx, 'idx2w': idx2w, 'limit': {'maxq': 20, 'minq': 0, 'maxa': 20, 'mina': 3},
            'freq_dist': freq_dist}
for protocol in (3, 4, 5):
    with open(f'{out}/tl_metadata_py3_protocol{protocol}.pkl', 'wb') as f:
        pickle.dump(metadata, f, protocol=protocol)
print(idx2w)
