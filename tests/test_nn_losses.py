"""1.5: losses (1.13)–(1.20) against TensorFlow/Keras losses and tl.cost."""
import numpy as np
import pytest

from dlbook.compat import tl
import tensorflow as tf

from dlbook.errors import UsageError
from dlbook.nn import losses
from dlbook.nn.activations import sigmoid, softmax

TOL64 = 1e-12   # float64 oracles: agreement to rounding
TOL32 = 1e-5    # tl.cost works in float32 (and adds epsilon=1e-8 inside its logs)

rng = np.random.default_rng(0)
P = softmax(rng.normal(size=(8, 5)))
Q = softmax(rng.normal(size=(8, 5)))
LOGITS = rng.normal(size=(8, 5)) * 3
LABELS = rng.integers(0, 5, size=8)
ONEHOT = np.eye(5)[LABELS]
Y_BIN = rng.integers(0, 2, size=(8, 3)).astype(float)
Z_BIN = rng.normal(size=(8, 3)) * 3
Y_REG, Y_PRED = rng.normal(size=(8, 3)), rng.normal(size=(8, 3))


def test_kl_divergence_matches_keras_and_the_entropy_identity():
    oracle = tf.keras.losses.KLDivergence(reduction="sum_over_batch_size")(P, Q).numpy()
    assert losses.kl_divergence(P, Q) == pytest.approx(oracle, abs=1e-6)   # Keras clips at 1e-7
    assert losses.kl_divergence(P, P) == pytest.approx(0.0, abs=TOL64)
    assert losses.cross_entropy(P, Q) == pytest.approx(
        losses.entropy(P) + losses.kl_divergence(P, Q), abs=TOL64)
    # 0 log 0 = 0: a zero in p contributes nothing
    p0 = np.array([[0.0, 0.5, 0.5]])
    assert losses.kl_divergence(p0, np.array([[0.2, 0.4, 0.4]])) == pytest.approx(np.log(0.5 / 0.4))


def test_categorical_cross_entropy_from_probabilities_and_from_logits():
    oracle = tf.keras.losses.categorical_crossentropy(ONEHOT, softmax(LOGITS)).numpy().mean()
    assert losses.categorical_cross_entropy(ONEHOT, softmax(LOGITS)) == pytest.approx(oracle, abs=1e-6)
    oracle = tf.nn.softmax_cross_entropy_with_logits(ONEHOT, LOGITS).numpy().mean()
    assert losses.categorical_cross_entropy_with_logits(ONEHOT, LOGITS) == pytest.approx(oracle, abs=TOL64)
    tl_value = tl.cost.cross_entropy(tf.constant(LOGITS, tf.float32), tf.constant(LABELS)).numpy()
    assert losses.sparse_categorical_cross_entropy_with_logits(LABELS, LOGITS) == pytest.approx(
        tl_value, abs=TOL32)


def test_logit_form_survives_where_the_probability_form_overflows():
    z = np.array([[1000.0, 0.0, -1000.0]])
    y = np.array([[0.0, 0.0, 1.0]])
    oracle = tf.nn.softmax_cross_entropy_with_logits(y, z).numpy().mean()
    assert losses.categorical_cross_entropy_with_logits(y, z) == pytest.approx(oracle) == 2000.0
    assert np.isinf(losses.categorical_cross_entropy(y, softmax(z)))   # log(0)


def test_binary_cross_entropy_from_probabilities_and_from_logits():
    oracle = tf.nn.sigmoid_cross_entropy_with_logits(Y_BIN, Z_BIN).numpy().mean()
    assert losses.binary_cross_entropy_with_logits(Y_BIN, Z_BIN) == pytest.approx(oracle, abs=TOL64)
    assert losses.binary_cross_entropy(Y_BIN, sigmoid(Z_BIN)) == pytest.approx(oracle, abs=1e-10)
    keras = tf.keras.losses.BinaryCrossentropy()(Y_BIN, sigmoid(Z_BIN)).numpy()
    assert losses.binary_cross_entropy(Y_BIN, sigmoid(Z_BIN)) == pytest.approx(keras, abs=1e-5)
    # tl.cost.binary_cross_entropy sums over the features: divide by their number
    tl_value = tl.cost.binary_cross_entropy(tf.constant(sigmoid(Z_BIN), tf.float32),
                                            tf.constant(Y_BIN, tf.float32)).numpy()
    assert losses.binary_cross_entropy(Y_BIN, sigmoid(Z_BIN)) == pytest.approx(tl_value / 3, abs=TOL32)
    tl_logits = tl.cost.sigmoid_cross_entropy(tf.constant(Z_BIN, tf.float32),
                                              tf.constant(Y_BIN, tf.float32)).numpy()
    assert losses.binary_cross_entropy_with_logits(Y_BIN, Z_BIN) == pytest.approx(tl_logits, abs=TOL32)


@pytest.mark.parametrize("p", [1, 2, 3, 0.5, np.inf])
def test_lp_norm_matches_tf_norm(p):
    x = rng.normal(size=7)
    if p == 0.5:   # not a norm, tf.norm refuses it: check the formula directly
        assert losses.lp_norm(x, p) == pytest.approx(np.sum(np.sqrt(np.abs(x))) ** 2)
    else:
        assert losses.lp_norm(x, p) == pytest.approx(tf.norm(x, ord=p).numpy(), abs=TOL64)


@pytest.mark.parametrize("p", [1, 2, 3, 1.5])
def test_lp_loss_is_the_printed_sum_of_pth_powers(p):
    """(1.18) L_p = ||y - y_hat||_p^p = sum_i |y_i - y_hat_i|^p, over every element, no root."""
    # the equation written out term by term (float64: agreement to rounding)
    by_hand = 0.0
    for target, prediction in zip(Y_REG.ravel(), Y_PRED.ravel()):
        by_hand += abs(target - prediction) ** p
    assert losses.lp_loss(Y_REG, Y_PRED, p) == pytest.approx(by_hand, rel=1e-12)
    # TensorFlow: the p-norm of the flattened difference, raised to the p-th power
    oracle = tf.norm(tf.reshape(Y_REG - Y_PRED, [-1]), ord=p).numpy() ** p
    assert losses.lp_loss(Y_REG, Y_PRED, p) == pytest.approx(oracle, rel=1e-12)


def test_lp_loss_takes_no_root_and_does_not_average():
    # y - y_hat = [3, 4] and [0, 1]: sum of squares 9 + 16 + 0 + 1 = 26 (the root would be
    # sqrt(26), a per-row norm averaged (5 + 1) / 2 = 3)
    y, y_hat = np.array([[3.0, 4.0], [0.0, 1.0]]), np.zeros((2, 2))
    assert losses.lp_loss(y, y_hat, 2) == 26.0
    assert losses.lp_loss(y, y_hat, 1) == 8.0
    with pytest.raises(UsageError, match="p >= 1"):
        losses.lp_loss(y, y_hat, np.inf)


def test_mse_and_mae_match_keras_and_tl_cost():
    assert losses.mse(Y_REG, Y_PRED) == pytest.approx(
        tf.keras.losses.MeanSquaredError()(Y_REG, Y_PRED).numpy(), abs=1e-6)
    assert losses.mae(Y_REG, Y_PRED) == pytest.approx(
        tf.keras.losses.MeanAbsoluteError()(Y_REG, Y_PRED).numpy(), abs=1e-6)
    out, target = tf.constant(Y_PRED, tf.float32), tf.constant(Y_REG, tf.float32)
    assert losses.mse(Y_REG, Y_PRED) == pytest.approx(
        tl.cost.mean_squared_error(out, target, is_mean=True).numpy(), abs=TOL32)
    # tl.cost's default (is_mean=False) sums the squared errors over the features
    assert losses.mse(Y_REG, Y_PRED) * 3 == pytest.approx(
        tl.cost.mean_squared_error(out, target).numpy(), abs=TOL32)
    assert losses.mae(Y_REG, Y_PRED) == pytest.approx(
        tl.cost.absolute_difference_error(out, target, is_mean=True).numpy(), abs=TOL32)
    # (1.19) is the L2 loss (1.18) divided by the number of elements, (1.20) the L1 loss
    assert losses.mse(Y_REG, Y_PRED) == pytest.approx(
        losses.lp_loss(Y_REG, Y_PRED, 2) / Y_REG.size, abs=TOL64)
    assert losses.mae(Y_REG, Y_PRED) == pytest.approx(
        losses.lp_loss(Y_REG, Y_PRED, 1) / Y_REG.size, abs=TOL64)
