"""1.8: output size (1.24), convolution and pooling by hand vs tf.nn, parameter counts vs Keras."""
import itertools

import numpy as np
import pytest

from dlbook.compat import tl  # noqa: F401
import tensorflow as tf

from dlbook.errors import ShapeError, UsageError
from dlbook.nn import conv


def test_output_size_formula_matches_tf_conv2d_shapes():
    checked = 0
    for W, F, P, S in itertools.product(range(3, 10), range(1, 5), range(0, 3), range(1, 4)):
        if F > W + 2 * P:
            with pytest.raises(ShapeError):
                conv.conv_output_size(W, F, P, S)
            continue
        x = tf.zeros((1, W, W + 1, 1))
        k = tf.zeros((F, F, 1, 1))
        y = tf.nn.conv2d(x, k, strides=S, padding=[[0, 0], [P, P], [P, P], [0, 0]])
        assert y.shape[1:3] == (conv.conv_output_size(W, F, P, S),
                                conv.conv_output_size(W + 1, F, P, S)), (W, F, P, S)
        checked += 1
    assert checked > 240


def test_fig_1_18_convolution_matches_tf_conv2d():
    image, kernel = conv.fig_1_18_example()
    assert image.shape == (4, 4, 3) and kernel.shape == (3, 3, 3, 1)
    ours = conv.conv2d(image, kernel)
    assert ours.shape == (2, 2, 1)
    oracle = tf.nn.conv2d(image[None], kernel, strides=1, padding="VALID").numpy()[0]
    np.testing.assert_allclose(ours, oracle, atol=1e-12)   # float64, small integers: exact
    # the top-left output is the sum of the elementwise product with the top-left window
    assert ours[0, 0, 0] == np.sum(image[:3, :3] * kernel[..., 0])


@pytest.mark.parametrize("stride, padding", [(1, 1), (2, 0), (2, 1), (3, 2)])
def test_conv2d_with_stride_padding_bias_matches_tf(stride, padding):
    rng = np.random.default_rng(stride * 10 + padding)
    image, kernel, bias = rng.normal(size=(7, 6, 2)), rng.normal(size=(3, 3, 2, 4)), rng.normal(size=4)
    ours = conv.conv2d(image, kernel, stride, padding, bias)
    oracle = tf.nn.conv2d(image[None], kernel, strides=stride,
                          padding=[[0, 0], [padding, padding], [padding, padding], [0, 0]])[0] + bias
    np.testing.assert_allclose(ours, oracle.numpy(), atol=1e-12)   # float64
    with pytest.raises(ShapeError, match="same C"):
        conv.conv2d(image, kernel[:, :, :1])


def test_fig_1_19_pooling_matches_tf_pooling():
    x = conv.POOLING_EXAMPLE
    for mode, oracle in [("max", tf.nn.max_pool2d), ("avg", tf.nn.avg_pool2d)]:
        ours = conv.pool2d(x, 2, 2, mode)
        expected = oracle(x[None, :, :, None], ksize=2, strides=2, padding="VALID").numpy()[0, :, :, 0]
        np.testing.assert_allclose(ours, expected, atol=1e-12)
    np.testing.assert_array_equal(conv.pool2d(x, mode="max"), [[6, 8], [3, 4]])
    np.testing.assert_array_equal(conv.pool2d(x, mode="avg"), [[3.25, 5.25], [2, 2]])
    with pytest.raises(UsageError):
        conv.pool2d(x, mode="median")


def test_multichannel_pooling_with_overlap_matches_tf():
    x = np.random.default_rng(4).normal(size=(7, 7, 3))
    ours = conv.pool2d(x, size=3, stride=2, mode="max")
    oracle = tf.nn.max_pool2d(x[None], ksize=3, strides=2, padding="VALID").numpy()[0]
    np.testing.assert_allclose(ours, oracle, atol=1e-12)


def test_parameter_counts_match_keras_layers():
    # a 16x16x3 input: a 5x5 conv with 8 filters vs a dense layer with as many outputs (12x12x8)
    conv_layer = tf.keras.layers.Conv2D(8, 5)
    conv_layer.build((None, 16, 16, 3))
    dense_layer = tf.keras.layers.Dense(12 * 12 * 8)
    dense_layer.build((None, 16 * 16 * 3))
    assert conv.conv_param_count(5, 3, 8) == conv_layer.count_params() == 608
    assert conv.dense_param_count(16 * 16 * 3, 12 * 12 * 8) == dense_layer.count_params()
    assert conv.dense_param_count(16 * 16 * 3, 12 * 12 * 8) > 1000 * conv.conv_param_count(5, 3, 8)
    assert conv.conv_param_count(5, 3, 8, bias=False) == 600
