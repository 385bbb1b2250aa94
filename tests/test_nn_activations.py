"""1.4: activations and derivatives against tf.nn, Keras layers and tf.GradientTape (float64)."""
import numpy as np
import pytest

from dlbook.compat import tl
import tensorflow as tf

from dlbook.nn import activations as act

Z = np.concatenate([np.linspace(-8, 8, 161), [-30.0, -1e-3, 1e-3, 30.0]])
TOL = 1e-12   # float64 on both sides: agreement to rounding


def tape_grad(func, z):
    z = tf.constant(z)
    with tf.GradientTape() as tape:
        tape.watch(z)
        y = func(z)
    return tape.gradient(y, z).numpy()


@pytest.mark.parametrize("name, oracle, tol", [
    ("sigmoid", tf.nn.sigmoid, TOL),
    ("tanh", tf.nn.tanh, TOL),
    ("relu", tf.nn.relu, TOL),
    # tf.nn.leaky_relu keeps alpha as a float32 attribute (0.2 -> 0.2000000030): 1e-7 * |z|
    ("leaky_relu", lambda z: tf.nn.leaky_relu(z, alpha=0.2), 1e-7 * 30),
])
def test_activation_and_derivative_match_tensorflow(name, oracle, tol):
    func, grad = act.ACTIVATIONS[name]
    np.testing.assert_allclose(func(Z), oracle(tf.constant(Z)).numpy(), rtol=0, atol=tol)
    np.testing.assert_allclose(grad(Z), tape_grad(oracle, Z), rtol=0, atol=tol)


def test_leaky_relu_matches_keras_layer_for_another_alpha():
    layer = tf.keras.layers.LeakyReLU(negative_slope=0.05, dtype="float64")
    np.testing.assert_allclose(act.leaky_relu(Z, 0.05), layer(Z).numpy(), atol=TOL)


def test_prelu_matches_keras_prelu_and_its_alpha_gradient():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 4))
    alpha = np.array([0.1, 0.25, 0.5, 0.0])   # one trainable slope per channel
    layer = tf.keras.layers.PReLU(dtype="float64")
    layer.build((None, 4))
    layer.set_weights([alpha])
    with tf.GradientTape() as tape:
        y = layer(x)
        total = tf.reduce_sum(y)
    np.testing.assert_allclose(act.prelu(x, alpha), y.numpy(), atol=TOL)
    np.testing.assert_allclose(act.prelu_grad_alpha(x).sum(axis=0),
                               tape.gradient(total, layer.trainable_weights[0]).numpy(), atol=TOL)


def test_prelu_matches_tensorlayer_prelu():
    # TensorLayer keeps alpha in (0, 1) as sigmoid(alpha_var): copy logit(alpha) in
    x = np.random.default_rng(1).normal(size=(5, 3)).astype(np.float32)
    alpha = np.array([0.1, 0.3, 0.7])
    layer = tl.layers.PRelu(channel_shared=False, in_channels=3)
    layer.alpha_var.assign(np.log(alpha / (1 - alpha)).astype(np.float32))
    np.testing.assert_allclose(act.prelu(x, alpha), layer.forward(tf.constant(x)).numpy(),
                               rtol=1e-6, atol=1e-6)   # float32 layer


def test_softmax_matches_tf_and_is_stable_for_large_logits():
    rng = np.random.default_rng(2)
    z = rng.normal(size=(4, 10)) * 5
    np.testing.assert_allclose(act.softmax(z), tf.nn.softmax(z).numpy(), atol=TOL)
    np.testing.assert_allclose(act.softmax(z).sum(axis=-1), 1.0, atol=TOL)
    big = np.array([1000.0, 1001.0, 1002.0])
    assert np.all(np.isnan(act.softmax_naive(big)))
    np.testing.assert_allclose(act.softmax(big), tf.nn.softmax(big).numpy(), atol=TOL)
    np.testing.assert_allclose(act.softmax(big), act.softmax(big - 1000), atol=TOL)


def test_softmax_jacobian_matches_tape_jacobian():
    z = tf.constant(np.random.default_rng(3).normal(size=6))
    with tf.GradientTape() as tape:
        tape.watch(z)
        s = tf.nn.softmax(z)
    np.testing.assert_allclose(act.softmax_jacobian(z.numpy()), tape.jacobian(s, z).numpy(),
                               atol=TOL)
