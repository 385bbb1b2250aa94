"""1.9: simple RNN (1.25), LSTM (1.26) and GRU cells vs Keras cells with the weights copied
over; vanishing/exploding gradients through time vs tf.GradientTape."""
import numpy as np
import pytest

from dlbook.compat import tl  # noqa: F401
import tensorflow as tf

from dlbook.errors import UsageError
from dlbook.nn import rnn

UNITS, INPUTS, T = 4, 3, 6
XS = np.random.default_rng(0).normal(size=(T, INPUTS))


def keras_states(cell, weights):
    """Run a float64 Keras cell over XS from zero states; returns its outputs per step."""
    cell.build((None, INPUTS))
    cell.set_weights(weights)
    state = [tf.zeros((1, UNITS), tf.float64)] * (2 if isinstance(cell, tf.keras.layers.LSTMCell) else 1)
    outputs = []
    for x in XS:
        out, state = cell(tf.constant(x[None]), state)
        state = state if isinstance(state, (list, tuple)) else [state]
        outputs.append(out.numpy()[0])
    return np.array(outputs)


def by_hand_simple_keras_weights(params):
    """Keras SimpleRNNCell weights for W [x_t; h_(t-1)] + b, split by hand: (1.25) puts x_t
    first, so the first INPUTS columns of W multiply x (kernel) and the rest h (recurrent)."""
    W, b = params["W"], params["b"]
    assert W.shape == (UNITS, INPUTS + UNITS)
    return [W[:, :INPUTS].T, W[:, INPUTS:].T, b]


def test_printed_simple_cell_1_25_is_linear_with_the_input_first():
    params = rnn.init_simple_cell(UNITS, INPUTS, seed=1)
    W, b = params["W"], params["b"]
    # (1.25) written out: h_t = W [x_t; h_(t-1)] + b = W_x x_t + W_h h_(t-1) + b, no activation
    h, by_hand = np.zeros(UNITS), []
    for x in XS:
        h = sum(W[:, j] * x[j] for j in range(INPUTS)) + sum(
            W[:, INPUTS + k] * h[k] for k in range(UNITS)) + b
        by_hand.append(h)
    ours = rnn.run_sequence("simple", XS, params, UNITS)
    np.testing.assert_allclose(ours, by_hand, rtol=0, atol=1e-12)   # float64 on both sides
    # TensorFlow: a linear SimpleRNNCell with the weights split by hand
    theirs = keras_states(tf.keras.layers.SimpleRNNCell(UNITS, activation=None, dtype="float64"),
                          by_hand_simple_keras_weights(params))
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)
    # linear: states leave [-1, 1] (a tanh cell's could not)
    assert np.max(np.abs(ours)) > 1


def test_tanh_variant_matches_keras_simple_rnn_cell():
    params = rnn.init_simple_cell(UNITS, INPUTS, seed=1)
    ours = rnn.run_sequence("tanh", XS, params, UNITS)
    theirs = keras_states(tf.keras.layers.SimpleRNNCell(UNITS, dtype="float64"),   # tanh default
                          by_hand_simple_keras_weights(params))
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)
    assert not np.allclose(ours, rnn.run_sequence("simple", XS, params, UNITS), atol=1e-3)


def test_simple_rnn_to_keras_splits_x_first():
    params = rnn.init_simple_cell(UNITS, INPUTS, seed=2)
    for ours, by_hand in zip(rnn.simple_rnn_to_keras(params), by_hand_simple_keras_weights(params)):
        assert np.array_equal(ours, by_hand)
    with pytest.raises(UsageError, match="simple, tanh, lstm, gru"):
        rnn.run_sequence("elman", XS, params, UNITS)


def by_hand_gate_keras_weights(params, keras_order, signs=None):
    """Keras weights for gates computed on [h_(t-1); x_t] (the order of (1.26)), split by hand:
    the first UNITS columns of each W_g multiply h (recurrent kernel), the rest x (kernel);
    blocks in Keras's gate order; ``signs`` negates a gate (Keras's GRU z is our 1 - z)."""
    signs = signs or {}
    blocks = [(signs.get(g, 1.0) * params[f"W_{g}"], signs.get(g, 1.0) * params[f"b_{g}"])
              for g in keras_order]
    for W, _ in blocks:
        assert W.shape == (UNITS, UNITS + INPUTS)
    return [np.concatenate([W[:, UNITS:].T for W, _ in blocks], axis=1),
            np.concatenate([W[:, :UNITS].T for W, _ in blocks], axis=1),
            np.concatenate([b for _, b in blocks])]


def test_lstm_cell_equations_1_26_match_keras_lstm_cell():
    params = rnn.init_cell(rnn.LSTM_GATES, UNITS, INPUTS, seed=2)
    ours = rnn.run_sequence("lstm", XS, params, UNITS)
    by_hand = by_hand_gate_keras_weights(params, ("i", "f", "c", "o"))   # Keras: i, f, c, o
    theirs = keras_states(tf.keras.layers.LSTMCell(UNITS, dtype="float64"), by_hand)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)   # float64 on both sides
    for converted, expected in zip(rnn.lstm_to_keras(params), by_hand):
        assert np.array_equal(converted, expected)


def test_lstm_gates_are_not_interchangeable():
    # each gate must be its own: swapping the input and output gates (the text before (1.26)
    # calls the output gate an input gate) gives other states than Keras's cell
    params = rnn.init_cell(rnn.LSTM_GATES, UNITS, INPUTS, seed=3)
    swapped = dict(params, W_i=params["W_o"], W_o=params["W_i"], b_i=params["b_o"], b_o=params["b_i"])
    theirs = keras_states(tf.keras.layers.LSTMCell(UNITS, dtype="float64"),
                          by_hand_gate_keras_weights(params, ("i", "f", "c", "o")))
    assert not np.allclose(rnn.run_sequence("lstm", XS, swapped, UNITS), theirs, atol=1e-3)


def test_gru_cell_matches_keras_gru_cell():
    params = rnn.init_cell(rnn.GRU_GATES, UNITS, INPUTS, seed=4)
    ours = rnn.run_sequence("gru", XS, params, UNITS)
    by_hand = by_hand_gate_keras_weights(params, ("z", "r", "h"), signs={"z": -1.0})
    cell = tf.keras.layers.GRUCell(UNITS, reset_after=False, dtype="float64")
    np.testing.assert_allclose(ours, keras_states(cell, by_hand), rtol=0, atol=1e-12)
    for converted, expected in zip(rnn.gru_to_keras(params), by_hand):
        assert np.array_equal(converted, expected)


def test_linear_gradient_norm_is_the_eigenvalue_to_the_power_t():
    for radius in (0.8, 1.0, 1.2):
        W = rnn.recurrent_matrix(UNITS, radius, seed=5)
        assert np.max(np.abs(np.linalg.eigvalsh(W))) == pytest.approx(radius, rel=1e-12)
        norms, _ = rnn.gradient_through_time(W, 30, np.ones(UNITS))
        np.testing.assert_allclose(norms, radius ** np.arange(1, 31), rtol=1e-9)
    # below 1 the gradient vanishes, above 1 it explodes
    assert 0.8 ** 30 < 1e-2 and 1.2 ** 30 > 200


@pytest.mark.parametrize("activation", ["tanh", "linear"])
def test_gradient_through_time_matches_tape_jacobian(activation):
    W = rnn.recurrent_matrix(UNITS, 1.1, seed=6)
    xs = np.random.default_rng(7).normal(0, 0.3, size=(12, UNITS))
    h0 = np.random.default_rng(8).normal(size=UNITS)
    _, ours = rnn.gradient_through_time(W, 12, h0, activation, xs)
    h0_t = tf.constant(h0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(h0_t)
        h = h0_t
        for x in xs:
            a = tf.linalg.matvec(tf.constant(W), h) + x
            h = tf.tanh(a) if activation == "tanh" else a
    theirs = tape.jacobian(h, h0_t, experimental_use_pfor=False).numpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-10)   # float64
