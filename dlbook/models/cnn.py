"""The BatchNorm CNN of section 1.10.5 (CIFAR-10), as printed, with two options of 1.7 (dense dropout, no BatchNorm)."""
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
