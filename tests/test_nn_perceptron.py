"""1.2–1.3: dense layer, decision boundaries, perceptron learning, logic gates and XOR."""
import numpy as np
import pytest

from dlbook.compat import tl
import tensorflow as tf

from dlbook.errors import ShapeError, UsageError
from dlbook.nn import backprop, logic_gates, perceptron


def test_dense_matches_keras_dense_with_copied_weights():
    rng = np.random.default_rng(0)
    W, b, X = rng.normal(size=(3, 5)), rng.normal(size=3), rng.normal(size=(7, 5))
    layer = tf.keras.layers.Dense(3, dtype="float64")
    layer.build((None, 5))
    layer.set_weights([W.T, b])   # Keras computes x @ kernel, the book W x: kernel = W^T
    # float64 on both sides: agreement to rounding (1e-12)
    np.testing.assert_allclose(perceptron.dense(X, W, b), layer(X).numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(perceptron.dense(X[0], W, b), layer(X[:1]).numpy()[0], atol=1e-12)


def test_dense_matches_tensorlayer_dense():
    rng = np.random.default_rng(1)
    W, b, X = rng.normal(size=(4, 6)), rng.normal(size=4), rng.normal(size=(5, 6))
    layer = tl.layers.Dense(n_units=4, in_channels=6)
    layer.W.assign(W.T.astype(np.float32))
    layer.b.assign(b.astype(np.float32))
    # TensorLayer computes in float32: tolerance 1e-5
    np.testing.assert_allclose(perceptron.dense(X, W, b), layer.forward(tf.constant(X, tf.float32)).numpy(),
                               rtol=1e-5, atol=1e-5)


def test_step_is_1_only_for_positive_z():
    # (1.3): y = 1 if z > 0, 0 if z <= 0 (and (1.7): 1 if z > 0, 0 otherwise), by hand
    z = np.array([-2.0, -1e-12, 0.0, -0.0, 1e-12, 3.0])
    expected = [0, 0, 0, 0, 1, 1]
    assert perceptron.step(z).tolist() == expected
    assert perceptron.step(0.0) == 0
    # a neuron exactly on its boundary outputs 0
    assert perceptron.perceptron(np.array([1.0, 1.0]), [1.0, 1.0], -2.0) == 0
    assert perceptron.perceptron(np.array([1.0, 1.0]), [1.0, 1.0], -1.999) == 1


def test_dense_rejects_wrong_width_with_a_clear_message():
    with pytest.raises(ShapeError, match="W has shape"):
        perceptron.dense(np.ones(4), np.ones((2, 3)))


@pytest.mark.parametrize("w, b", [([2.0, -1.0], 1.0), ([0.5, 4.0], -2.0)])
def test_two_input_intercepts_lie_on_the_boundary(w, b):
    x1_axis, x2_axis = perceptron.decision_boundary_intercepts(w, b)
    assert (x1_axis, x2_axis) == pytest.approx((-b / w[0], -b / w[1]))
    for point in ([x1_axis, 0.0], [0.0, x2_axis]):
        assert perceptron.dense(point, [w], [b])[0] == pytest.approx(0.0, abs=1e-12)
    assert perceptron.boundary_x2(w, b, x1_axis) == pytest.approx(0.0, abs=1e-12)


def test_without_bias_the_boundary_passes_through_the_origin():
    assert np.all(perceptron.decision_boundary_intercepts([1.0, 2.0, -3.0], 0.0) == 0)


def test_three_input_plane_intercepts():
    w, b = np.array([1.0, -2.0, 4.0]), 2.0
    intercepts = perceptron.decision_boundary_intercepts(w, b)
    for axis, value in enumerate(intercepts):
        point = np.zeros(3)
        point[axis] = value
        assert point @ w + b == pytest.approx(0.0, abs=1e-12)
    assert perceptron.boundary_x3(w, b, 0.0, 0.0) == pytest.approx(intercepts[2])
    assert np.isinf(perceptron.decision_boundary_intercepts([1.0, 0.0], 1.0)[1])


def test_perceptron_rule_separates_a_separable_set():
    X, y = perceptron.linearly_separable_set(n=100, w=[1.0, 2.0], b=-0.5, seed=3)
    run = perceptron.train_perceptron(X, y)
    assert run.converged and len(run.history) == len(run.errors)
    assert np.array_equal(perceptron.perceptron(X, run.w, run.b), y)


def test_impossible_margin_is_a_usage_error():
    with pytest.raises(UsageError, match="smaller margin"):
        perceptron.linearly_separable_set(n=10, margin=5.0)


def test_without_bias_a_set_off_the_origin_is_not_separated():
    X, y = perceptron.linearly_separable_set(n=100, w=[1.0, 1.0], b=-0.5, seed=0)
    run = perceptron.train_perceptron(X, y, epochs=50, bias=False)
    assert run.b == 0 and not run.converged and min(run.errors) > 0


@pytest.mark.parametrize("gate", logic_gates.LINEARLY_SEPARABLE)
def test_separable_gates_are_learned(gate):
    run = logic_gates.train_gate(gate)
    assert run.converged
    assert np.array_equal(perceptron.perceptron(logic_gates.INPUTS, run.w, run.b),
                          logic_gates.GATES[gate])
    assert np.any(logic_gates.signed_sum(logic_gates.GATES[gate]) != 0)


@pytest.mark.parametrize("gate", ["XOR", "XNOR"])
def test_no_perceptron_computes_xor_or_xnor(gate):
    targets = logic_gates.GATES[gate]
    assert np.all(logic_gates.signed_sum(targets) == 0)
    # the certificate: for random weights sum_i s_i z_i is 0, so not every s_i z_i can be > 0
    rng = np.random.default_rng(0)
    signs = 2 * targets - 1
    for _ in range(5):
        w, b = rng.normal(size=2), rng.normal()
        assert signs @ (logic_gates.INPUTS @ w + b) == pytest.approx(0.0, abs=1e-12)
    assert logic_gates.best_single_perceptron_accuracy(targets) == 0.75
    assert not perceptron.train_perceptron(logic_gates.INPUTS, targets, epochs=200).converged


def test_fig_1_7_mlp_computes_xor_from_or_and_nand():
    hidden, out = logic_gates.xor_mlp(logic_gates.INPUTS)
    assert np.array_equal(hidden[:, 0], logic_gates.GATES["OR"])
    assert np.array_equal(hidden[:, 1], logic_gates.GATES["NAND"])
    assert np.array_equal(out, logic_gates.GATES["XOR"])
    # in the (OR, NAND) feature space XOR is linearly separable, in the input space it is not
    assert logic_gates.best_single_perceptron_accuracy(out, inputs=hidden) == 1.0
    assert logic_gates.best_single_perceptron_accuracy(out) == 0.75


def test_mlp_learns_xor_from_data():
    run = logic_gates.learn_xor()
    out = backprop.predict(run.params, logic_gates.INPUTS)[:, 0]
    assert np.array_equal((out > 0.5).astype(int), logic_gates.GATES["XOR"])
    assert run.train_loss[-1] < 0.01 < run.train_loss[0]
