"""1.6: hand-written backpropagation vs tf.GradientTape; gradient descent, mini-batch SGD
(Algorithm 1.1) and Adam (Algorithm 1.2) vs tf.optimizers.Adam."""
import numpy as np
import pytest

from dlbook.compat import tl  # noqa: F401
import tensorflow as tf

from dlbook.nn import backprop, optimizers


def tape_gradients(params, X, Y):
    """The same loss written with TF ops, differentiated by GradientTape (float64)."""
    variables = [tf.Variable(a) for pair in params for a in pair]
    with tf.GradientTape() as tape:
        a = tf.constant(X)
        for W, b in zip(variables[::2], variables[1::2]):
            a = tf.sigmoid(a @ tf.transpose(W) + b)
        loss = tf.reduce_mean(0.5 * tf.reduce_sum((a - Y) ** 2, axis=1))
    return loss.numpy(), [g.numpy() for g in tape.gradient(loss, variables)]


@pytest.mark.parametrize("sizes", [[3, 5, 2], [4, 6, 5, 3], [2, 1]])
def test_backprop_matches_gradient_tape(sizes):
    rng = np.random.default_rng(len(sizes))
    params = backprop.init_mlp(sizes, seed=1)
    X, Y = rng.normal(size=(7, sizes[0])), rng.uniform(size=(7, sizes[-1]))
    loss, expected = tape_gradients(params, X, Y)
    assert backprop.loss(params, X, Y) == pytest.approx(loss, abs=1e-12)
    ours = [g for pair in backprop.backprop(params, X, Y) for g in pair]
    for g, e in zip(ours, expected):   # float64 on both sides: 1e-12
        assert g.shape == e.shape
        np.testing.assert_allclose(g, e, rtol=0, atol=1e-12)


def test_backprop_matches_finite_differences():
    rng = np.random.default_rng(5)
    params = backprop.init_mlp([2, 3, 1], seed=2)
    X, Y = rng.normal(size=(4, 2)), rng.uniform(size=(4, 1))
    (dW1, _), _ = backprop.backprop(params, X, Y)
    h = 1e-6
    for i, j in [(0, 0), (2, 1)]:   # central differences: error O(h^2), tolerance 1e-8
        plus, minus = [(W.copy(), b.copy()) for W, b in params], [(W.copy(), b.copy()) for W, b in params]
        plus[0][0][i, j] += h
        minus[0][0][i, j] -= h
        numeric = (backprop.loss(plus, X, Y) - backprop.loss(minus, X, Y)) / (2 * h)
        assert dW1[i, j] == pytest.approx(numeric, abs=1e-8)


def test_gradient_descent_path_on_a_quadratic():
    # L = a theta^2: each step multiplies theta by (1 - 2 a lr), converging iff |1 - 2 a lr| < 1
    a, theta0 = 1.0, 4.0
    small = optimizers.gradient_descent(lambda t: 2 * a * t, theta0, lr=0.1, steps=20)[:, 0]
    large = optimizers.gradient_descent(lambda t: 2 * a * t, theta0, lr=1.05, steps=20)[:, 0]
    np.testing.assert_allclose(small, theta0 * 0.8 ** np.arange(21), rtol=1e-12)
    np.testing.assert_allclose(large, theta0 * (-1.1) ** np.arange(21), rtol=1e-12)
    assert abs(small[-1]) < 0.1 and abs(large[-1]) > abs(theta0)


def test_minibatch_sgd_reduces_the_loss_and_covers_every_sample():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    Y = (X[:, :1] > 0).astype(float)
    params = backprop.init_mlp([3, 4, 1], seed=0)
    run = optimizers.minibatch_sgd(params, X, Y, lr=1.0, batch_size=8, epochs=30)
    assert len(run.train_loss) == 30 and run.train_loss[-1] < 0.5 * run.train_loss[0]
    assert run.params[0][0] is not params[0][0]   # the caller's parameters are not modified
    # one epoch with batch_size = N is exactly one full-batch gradient step
    one = optimizers.minibatch_sgd(params, X, Y, lr=0.5, batch_size=50, epochs=1)
    grads = backprop.backprop(params, X, Y)
    np.testing.assert_allclose(one.params[0][0], params[0][0] - 0.5 * grads[0][0], atol=1e-12)


def keras_adam_path(grad, theta0, steps, **kwargs):
    var = tf.Variable(np.array(theta0, dtype=np.float64))
    opt = tf.optimizers.Adam(**kwargs)
    path = [var.numpy().copy()]
    for _ in range(steps):
        opt.apply_gradients([(tf.constant(grad(var.numpy())), var)])
        path.append(var.numpy().copy())
    return np.array(path)


def rosenbrock_grad(t):
    x, y = t
    return np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


def test_adam_matches_tf_optimizers_adam_step_by_step():
    # Keras rounds the learning rate and the betas' powers through float32: use values that
    # float32 holds exactly (close to the defaults 0.001, 0.9, 0.999)
    lr, beta1, beta2 = 2.0 ** -10, 1 - 2.0 ** -3, 1 - 2.0 ** -10
    args = dict(lr=lr, beta1=beta1, beta2=beta2)
    keras_args = dict(learning_rate=lr, beta_1=beta1, beta_2=beta2)
    # with epsilon = 0 the two are the same algebra: agreement to float64 rounding (1e-10)
    ours = optimizers.adam_path(rosenbrock_grad, [-1.0, 1.5], 60, epsilon=0.0, **args)
    keras = keras_adam_path(rosenbrock_grad, [-1.0, 1.5], 60, epsilon=0.0, **keras_args)
    np.testing.assert_allclose(ours, keras, rtol=0, atol=1e-10)
    # with epsilon = 1e-7 Keras adds epsilon to sqrt(v) before the bias correction, not to
    # sqrt(v_hat): for gradients of order 1 that changes the path by far less than 1e-6
    ours = optimizers.adam_path(rosenbrock_grad, [-1.0, 1.5], 60, epsilon=1e-7, **args)
    keras = keras_adam_path(rosenbrock_grad, [-1.0, 1.5], 60, epsilon=1e-7, **keras_args)
    np.testing.assert_allclose(ours, keras, rtol=0, atol=1e-6)
    assert not np.allclose(ours[-1], ours[0])


def test_book_adam_epsilon_inside_the_root_shrinks_small_gradient_steps():
    # First step with a constant gradient g: m_hat = g and v_hat = g^2 exactly, so
    # the paper's step is lr * g / (|g| + eps), the book's lr * g / sqrt(g^2 + eps).
    g, eps, lr = 1e-4, 1e-8, 0.001
    paper = optimizers.adam_path(lambda t: np.array([g]), [0.0], 1, lr=lr, epsilon=eps)
    book = optimizers.adam_path(lambda t: np.array([g]), [0.0], 1, lr=lr, epsilon=eps,
                                epsilon_inside_sqrt=True)
    assert -paper[1, 0] == pytest.approx(lr * g / (g + eps), rel=1e-12)          # ~0.9999 lr
    assert -book[1, 0] == pytest.approx(lr * g / np.sqrt(g * g + eps), rel=1e-12)  # lr / sqrt(2)
    assert -book[1, 0] / -paper[1, 0] == pytest.approx(1 / np.sqrt(2), rel=1e-3)
    keras = keras_adam_path(lambda t: np.array([g]), [0.0], 1, learning_rate=lr, epsilon=eps)
    assert keras[1, 0] == pytest.approx(paper[1, 0], rel=5e-3)   # Keras: 0.9969 lr
    assert keras[1, 0] != pytest.approx(book[1, 0], rel=0.2)
    # for gradients much larger than sqrt(eps) the two placements agree
    big = optimizers.adam_path(lambda t: np.array([1.0]), [0.0], 1, lr=lr, epsilon=eps,
                               epsilon_inside_sqrt=True)
    assert big[1, 0] == pytest.approx(-lr, rel=1e-7)


def test_adam_trains_the_mlp_through_minibatch_sgd():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 2))
    Y = (X[:, :1] * X[:, 1:] > 0).astype(float)
    params = backprop.init_mlp([2, 8, 1], seed=0)
    run = optimizers.minibatch_sgd(params, X, Y, batch_size=10, epochs=200,
                                   optimizer=optimizers.Adam(lr=0.05))
    assert run.train_loss[-1] < 0.3 * run.train_loss[0]
