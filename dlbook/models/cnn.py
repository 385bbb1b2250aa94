"""The BatchNorm CNN of section 1.10.5 (CIFAR-10), exactly as printed.

    from dlbook.models import get_model_batchnorm
    net = get_model_batchnorm([None, 24, 24, 3])   # 24x24 crops, as the listing trains it

conv 5x5x64 (no bias) -> BatchNorm2d(decay=0.99, relu) -> max-pool 3x3/2 (twice), then
Dense 384 -> Dense 192 (ReLU) -> Dense 10 (logits). On 24x24x3 inputs it has 1,068,426
trainable parameters (conv 4,800 + 102,400; BatchNorm beta/gamma 2 x 128; Dense 885,120 +
73,920 + 1,930) and 256 non-trainable ones (the BatchNorm moving means and variances).
"""
from dlbook.compat import tl
import tensorflow as tf
from tensorlayer.layers import BatchNorm2d, Conv2d, Dense, Flatten, Input, MaxPool2d
from tensorlayer.models import Model

TRAINABLE_PARAMS_24x24 = 1_068_426


def get_model_batchnorm(inputs_shape, name=None):
    """The book's static model: ``inputs_shape`` like ``[None, 24, 24, 3]``; returns logits.

    ``name`` defaults to a fresh unique model name: TensorLayer refuses a second model named
    like the printed ``'cnn'`` in one process.
    """
    # self defined initialization (the printed initializers)
    W_init = tl.initializers.truncated_normal(stddev=5e-2)
    W_init2 = tl.initializers.truncated_normal(stddev=0.04)
    b_init2 = tl.initializers.constant(value=0.1)

    ni = Input(inputs_shape)
    nn = Conv2d(64, (5, 5), (1, 1), padding='SAME', W_init=W_init, b_init=None, name='conv1')(ni)
    nn = BatchNorm2d(decay=0.99, act=tf.nn.relu, name='batch1')(nn)
    nn = MaxPool2d((3, 3), (2, 2), padding='SAME', name='pool1')(nn)

    nn = Conv2d(64, (5, 5), (1, 1), padding='SAME', W_init=W_init, b_init=None, name='conv2')(nn)
    nn = BatchNorm2d(decay=0.99, act=tf.nn.relu, name='batch2')(nn)
    nn = MaxPool2d((3, 3), (2, 2), padding='SAME', name='pool2')(nn)

    nn = Flatten(name='flatten')(nn)
    nn = Dense(384, act=tf.nn.relu, W_init=W_init2, b_init=b_init2, name='dense1relu')(nn)
    nn = Dense(192, act=tf.nn.relu, W_init=W_init2, b_init=b_init2, name='dense2relu')(nn)
    nn = Dense(10, act=None, W_init=W_init2, name='output')(nn)

    return Model(inputs=ni, outputs=nn, name=name)  # errata: cnn-model-name
