"""The BatchNorm CNN of section 1.10.5 (CIFAR-10), as printed, with two options of 1.7.

    from dlbook.models import get_model_batchnorm
    net = get_model_batchnorm([None, 24, 24, 3])   # 24x24 crops, as the listing trains it

conv 5x5x64 (no bias) -> BatchNorm2d(decay=0.99, relu) -> max-pool 3x3/2 (twice), then
Dense 384 -> Dense 192 (ReLU) -> Dense 10 (logits). On 24x24x3 inputs it has 1,068,426
trainable parameters (conv 4,800 + 102,400; BatchNorm beta/gamma 2 x 128; Dense 885,120 +
73,920 + 1,930) and 256 non-trainable ones (the BatchNorm moving means and variances).

The listing's lines are below as printed, but for the model's name (errata cnn-model-name). Its
layers have no names, so TensorLayer numbers them (``conv2d_1``, ``batchnorm2d_1``, ...) anew for
each model; weights files are written and read by position, so they do not depend on those names.

Two options, both off by default (the model is then the printed one), for measuring what the
chapter's regularizers do to it (``dlbook.recipes``):

* ``dense_keep=k < 1`` (1.7.3): a ``Dropout(keep=k)`` after each hidden Dense layer, as AlexNet
  put dropout on its fully connected layers; it has no weights, so the parameter count is unchanged.
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


# CNN with BatchNorm
def get_model_batchnorm(inputs_shape, dense_keep=1.0, batch_norm=True):  # book: def get_model_batchnorm(inputs_shape):
    """The book's static model for inputs of ``inputs_shape`` (e.g. ``[None, 24, 24, 3]``); logits out.

    ``dense_keep`` (keep probability of dropout on the hidden Dense layers; 1 = none) and
    ``batch_norm`` are the options of the module docstring; the defaults give the model as printed.
    """
    if not 0 < dense_keep <= 1:  # added: the options' range checked
        raise UsageError(f"dense_keep is the probability of keeping a unit, in (0, 1]; got {dense_keep}")
    # self-defined initialization
    W_init = tl.initializers.truncated_normal(stddev=5e-2)
    W_init2 = tl.initializers.truncated_normal(stddev=0.04)
    b_init2 = tl.initializers.constant(value=0.1)

    # input layer
    ni = Input(inputs_shape)

    # the first convolution, with BatchNorm and max-pooling
    if batch_norm:  # added: option (the default: the printed layers)
        nn = Conv2d(64, (5, 5), (1, 1), padding='SAME', W_init=W_init, b_init=None)(ni)
        nn = BatchNorm2d(decay=0.99, act=tf.nn.relu)(nn)
    else:  # added: option, the convolution's own bias and ReLU instead of BatchNorm's
        nn = Conv2d(64, (5, 5), (1, 1), padding='SAME', act=tf.nn.relu, W_init=W_init)(ni)
    nn = MaxPool2d((3, 3), (2, 2), padding='SAME')(nn)

    # the second convolution, with BatchNorm and max-pooling
    if batch_norm:  # added: option (the default: the printed layers)
        nn = Conv2d(64, (5, 5), (1, 1), padding='SAME', W_init=W_init, b_init=None)(nn)
        nn = BatchNorm2d(decay=0.99, act=tf.nn.relu)(nn)
    else:  # added: option, no BatchNorm
        nn = Conv2d(64, (5, 5), (1, 1), padding='SAME', act=tf.nn.relu, W_init=W_init)(nn)
    nn = MaxPool2d((3, 3), (2, 2), padding='SAME')(nn)

    # the convolutions' output goes through three dense layers
    nn = Flatten()(nn)
    nn = Dense(384, act=tf.nn.relu, W_init=W_init2, b_init=b_init2)(nn)
    if dense_keep < 1:  # added: option, dropout on the hidden dense layers
        nn = Dropout(keep=dense_keep)(nn)
    nn = Dense(192, act=tf.nn.relu, W_init=W_init2, b_init=b_init2)(nn)
    if dense_keep < 1:  # added: option, dropout
        nn = Dropout(keep=dense_keep)(nn)
    nn = Dense(10, act=None, W_init=W_init2)(nn)

    # the model, from its input and output
    M = Model(inputs=ni, outputs=nn, name=None)  # errata: cnn-model-name
    return M
