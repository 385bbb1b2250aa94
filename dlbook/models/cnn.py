"""The BatchNorm CNN of section 1.10.5 (CIFAR-10), exactly as printed, with the options of 1.7.

    from dlbook.models import get_model_batchnorm
    net = get_model_batchnorm([None, 24, 24, 3])   # 24x24 crops, as the listing trains it

conv 5x5x64 (no bias) -> BatchNorm2d(decay=0.99, relu) -> max-pool 3x3/2 (twice), then
Dense 384 -> Dense 192 (ReLU) -> Dense 10 (logits). On 24x24x3 inputs it has 1,068,426
trainable parameters (conv 4,800 + 102,400; BatchNorm beta/gamma 2 x 128; Dense 885,120 +
73,920 + 1,930) and 256 non-trainable ones (the BatchNorm moving means and variances).

Two options, both off by default (the model is then the printed one), for measuring what the
chapter's regularizers do to it (``dlbook.recipes``):

* ``dense_keep=k < 1`` (1.7.3): a ``Dropout(keep=k)`` after each hidden Dense layer (``drop1``
  after ``dense1relu``, ``drop2`` after ``dense2relu``), as AlexNet put dropout on its fully
  connected layers; it has no weights, so the parameter count is unchanged.
* ``batch_norm=False`` (1.7.4): the model without batch normalization. Each BatchNorm2d's beta
  was the only offset and its ReLU the only nonlinearity of the block, so the convolution gets
  both instead (a zero-initialised bias and ``act=relu``): 1,068,298 trainable parameters.
"""
from dlbook.compat import tl
from dlbook.errors import UsageError
import tensorflow as tf
from tensorlayer.layers import BatchNorm2d, Conv2d, Dense, Dropout, Flatten, Input, MaxPool2d
from tensorlayer.models import Model

TRAINABLE_PARAMS_24x24 = 1_068_426
TRAINABLE_PARAMS_24x24_NO_BATCHNORM = 1_068_298  # minus 2 x (beta + gamma) x 64, plus 2 x 64 biases


def get_model_batchnorm(inputs_shape, name=None, dense_keep=1.0, batch_norm=True):
    """The book's static model: ``inputs_shape`` like ``[None, 24, 24, 3]``; returns logits.

    ``name`` defaults to a fresh unique model name: TensorLayer refuses a second model named
    like the printed ``'cnn'`` in one process. ``dense_keep`` (keep probability of dropout on
    the hidden Dense layers; 1 = none) and ``batch_norm`` are the options of the module
    docstring; the defaults give the model as printed.
    """
    if not 0 < dense_keep <= 1:
        raise UsageError(f"dense_keep is the probability of keeping a unit, in (0, 1]; got {dense_keep}")
    # self defined initialization (the printed initializers)
    W_init = tl.initializers.truncated_normal(stddev=5e-2)
    W_init2 = tl.initializers.truncated_normal(stddev=0.04)
    b_init2 = tl.initializers.constant(value=0.1)

    ni = Input(inputs_shape)
    if batch_norm:
        nn = Conv2d(64, (5, 5), (1, 1), padding='SAME', W_init=W_init, b_init=None, name='conv1')(ni)
        nn = BatchNorm2d(decay=0.99, act=tf.nn.relu, name='batch1')(nn)
    else:
        nn = Conv2d(64, (5, 5), (1, 1), padding='SAME', act=tf.nn.relu, W_init=W_init, name='conv1')(ni)
    nn = MaxPool2d((3, 3), (2, 2), padding='SAME', name='pool1')(nn)

    if batch_norm:
        nn = Conv2d(64, (5, 5), (1, 1), padding='SAME', W_init=W_init, b_init=None, name='conv2')(nn)
        nn = BatchNorm2d(decay=0.99, act=tf.nn.relu, name='batch2')(nn)
    else:
        nn = Conv2d(64, (5, 5), (1, 1), padding='SAME', act=tf.nn.relu, W_init=W_init, name='conv2')(nn)
    nn = MaxPool2d((3, 3), (2, 2), padding='SAME', name='pool2')(nn)

    nn = Flatten(name='flatten')(nn)
    nn = Dense(384, act=tf.nn.relu, W_init=W_init2, b_init=b_init2, name='dense1relu')(nn)
    if dense_keep < 1:
        nn = Dropout(keep=dense_keep, name='drop1')(nn)
    nn = Dense(192, act=tf.nn.relu, W_init=W_init2, b_init=b_init2, name='dense2relu')(nn)
    if dense_keep < 1:
        nn = Dropout(keep=dense_keep, name='drop2')(nn)
    nn = Dense(10, act=None, W_init=W_init2, name='output')(nn)

    return Model(inputs=ni, outputs=nn, name=name)  # errata: cnn-model-name
