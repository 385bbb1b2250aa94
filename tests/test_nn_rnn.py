"""1.9: simple RNN (1.25), LSTM (1.26) and GRU cells vs Keras cells with the weights copied
over; vanishing/exploding gradients through time vs tf.GradientTape."""
import numpy as np
import pytest

from dlbook.compat import tl  # noqa: F401
import tensorflow as tf

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


def test_simple_rnn_cell_matches_keras():
    params = rnn.init_simple_cell(UNITS, INPUTS, seed=1)
    ours = rnn.run_sequence("simple", XS, params, UNITS)
    theirs = keras_states(tf.keras.layers.SimpleRNNCell(UNITS, dtype="float64"),
                          rnn.simple_rnn_to_keras(params))
    np.testing.assert_allclose(ours, theirs, atol=1e-12)   # float64 on both sides


def test_lstm_cell_equations_1_26_match_keras_lstm_cell():
    params = rnn.init_cell(rnn.LSTM_GATES, UNITS, INPUTS, seed=2)
    ours = rnn.run_sequence("lstm", XS, params, UNITS)
    theirs = keras_states(tf.keras.layers.LSTMCell(UNITS, dtype="float64"), rnn.lstm_to_keras(params))
    np.testing.assert_allclose(ours, theirs, atol=1e-12)   # float64 on both sides


def test_lstm_gates_are_not_interchangeable():
    # the conversion must map each gate to its own Keras block: swapping the book's input and
    # output gates (the book's text calls o_t an input gate) gives different states
    params = rnn.init_cell(rnn.LSTM_GATES, UNITS, INPUTS, seed=3)
    swapped = dict(params, W_i=params["W_o"], W_o=params["W_i"], b_i=params["b_o"], b_o=params["b_i"])
    theirs = keras_states(tf.keras.layers.LSTMCell(UNITS, dtype="float64"), rnn.lstm_to_keras(params))
    assert not np.allclose(rnn.run_sequence("lstm", XS, swapped, UNITS), theirs, atol=1e-3)


def test_gru_cell_matches_keras_gru_cell():
    params = rnn.init_cell(rnn.GRU_GATES, UNITS, INPUTS, seed=4)
    ours = rnn.run_sequence("gru", XS, params, UNITS)
    cell = tf.keras.layers.GRUCell(UNITS, reset_after=False, dtype="float64")
    np.testing.assert_allclose(ours, keras_states(cell, rnn.gru_to_keras(params)), atol=1e-12)


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
