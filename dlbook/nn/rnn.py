"""1.9 Recurrent cells from the equations (1.25), (1.26) and the GRU, and gradients through time."""
import numpy as np

from dlbook.errors import UsageError
from dlbook.nn.activations import sigmoid, tanh

LSTM_GATES = ("f", "i", "c", "o")
GRU_GATES = ("z", "r", "h")


def init_cell(gates, units, inputs, seed=0, scale=0.5):
    """Random weights W_g (units, units + inputs) and biases b_g for each gate name."""
    rng = np.random.default_rng(seed)
    params = {}
    for g in gates:
        params[f"W_{g}"] = rng.normal(0.0, scale, (units, units + inputs))
        params[f"b_{g}"] = rng.normal(0.0, scale, units)
    return params


def init_simple_cell(units, inputs, seed=0, scale=0.5):
    """Random {"W": (units, inputs + units), "b": (units,)} for :func:`simple_rnn_cell` and
    :func:`tanh_rnn_cell` (the first ``inputs`` columns of W act on x_t, the rest on h_(t-1))."""
    rng = np.random.default_rng(seed)
    return {"W": rng.normal(0.0, scale, (units, inputs + units)), "b": rng.normal(0.0, scale, units)}


def simple_rnn_cell(x, h, params):
    """(1.25) as printed: h_t = W [x_t; h_(t-1)] + b, linear (no activation).

    params {"W": (units, inputs + units), "b": (units,)}. W is not square: its last ``units``
    columns, the recurrent block W_h, carry h_(t-1), so dh_t/dh_(t-k) = W_h^k and the eigenvalues
    of W_h (its spectral radius) decide whether gradients vanish or explode (errata
    rnn-eigenvalues); the usual cell adds tanh (:func:`tanh_rnn_cell`)."""
    return params["W"] @ np.concatenate([x, h]) + params["b"]


def tanh_rnn_cell(x, h, params):
    """The usual simple cell (Elman; Keras's ``SimpleRNNCell``): h_t = tanh(W [x_t; h_(t-1)] + b),
    with the same parameters as :func:`simple_rnn_cell`."""
    return tanh(simple_rnn_cell(x, h, params))


def lstm_cell(x, h, c, params):
    """(1.26) one LSTM step for one sample; returns (h_t, c_t)."""
    hx = np.concatenate([h, x])
    gate = {g: params[f"W_{g}"] @ hx + params[f"b_{g}"] for g in LSTM_GATES}
    # o is the output gate, i the input gate   # errata: lstm-output-gate
    f, i, o = sigmoid(gate["f"]), sigmoid(gate["i"]), sigmoid(gate["o"])
    c = f * c + i * tanh(gate["c"])
    return o * tanh(c), c


def gru_cell(x, h, params):
    """One GRU step for one sample; returns h_t."""
    hx = np.concatenate([h, x])
    z = sigmoid(params["W_z"] @ hx + params["b_z"])
    r = sigmoid(params["W_r"] @ hx + params["b_r"])
    candidate = tanh(params["W_h"] @ np.concatenate([r * h, x]) + params["b_h"])
    return (1 - z) * h + z * candidate


#: The cells :func:`run_sequence` unrolls: "simple" is (1.25) as printed, "tanh" its usual form.
CELLS = {"simple": simple_rnn_cell, "tanh": tanh_rnn_cell, "lstm": lstm_cell, "gru": gru_cell}


def run_sequence(cell, xs, params, units):
    """Unroll ``cell`` (a name in :data:`CELLS`) over xs of shape (T, inputs) from zero states;
    returns the hidden states, shape (T, units)."""
    if cell not in CELLS:
        raise UsageError(f"cell must be one of {', '.join(CELLS)}; got {cell!r}")
    h, c, states = np.zeros(units), np.zeros(units), []
    for x in np.asarray(xs, dtype=float):
        if cell == "lstm":
            h, c = lstm_cell(x, h, c, params)
        else:
            h = CELLS[cell](x, h, params)
        states.append(h)
    return np.array(states)


def _split(W, units):
    """(recurrent part acting on h, input part acting on x) of a matrix acting on [h; x] (the
    order of (1.26)), Keras-shaped."""
    return W[:, :units].T, W[:, units:].T


def simple_rnn_to_keras(params):
    """[kernel, recurrent_kernel, bias] for ``keras.layers.SimpleRNNCell.set_weights``:
    W [x; h] = x @ kernel + h @ recurrent_kernel with kernel = W[:, :inputs]^T (x comes first
    in (1.25)). ``SimpleRNNCell(units, activation=None)`` then computes :func:`simple_rnn_cell`,
    the default ``SimpleRNNCell(units)`` :func:`tanh_rnn_cell`."""
    W = params["W"]
    inputs = W.shape[1] - len(params["b"])
    return [W[:, :inputs].T, W[:, inputs:].T, params["b"]]


def lstm_to_keras(params):
    """[kernel, recurrent_kernel, bias] for ``keras.layers.LSTMCell.set_weights``
    (gate order i, f, c, o; Keras applies x @ kernel + h @ recurrent_kernel)."""
    units = len(params["b_i"])
    order = ("i", "f", "c", "o")
    recurrent, kernel = zip(*(_split(params[f"W_{g}"], units) for g in order))
    bias = np.concatenate([params[f"b_{g}"] for g in order])
    return [np.concatenate(kernel, axis=1), np.concatenate(recurrent, axis=1), bias]


def gru_to_keras(params):
    """[kernel, recurrent_kernel, bias] for ``keras.layers.GRUCell(reset_after=False)``.

    Keras's update gate is 1 - z: since sigmoid(-a) = 1 - sigmoid(a), its z weights and bias
    are ours negated."""
    units = len(params["b_z"])
    sign = {"z": -1.0, "r": 1.0, "h": 1.0}
    recurrent, kernel = zip(*(_split(sign[g] * params[f"W_{g}"], units) for g in GRU_GATES))
    bias = np.concatenate([sign[g] * params[f"b_{g}"] for g in GRU_GATES])
    return [np.concatenate(kernel, axis=1), np.concatenate(recurrent, axis=1), bias]


# --- Vanishing and exploding gradients through time -------------------------------------------

def recurrent_matrix(units, radius, seed=0):
    """A symmetric matrix whose eigenvalues lie in [-radius, radius], the largest in absolute
    value being exactly ``radius`` (its spectral radius and its 2-norm)."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(units, units)))
    eig = rng.uniform(-radius, radius, units)
    eig[0] = radius
    return q @ np.diag(eig) @ q.T


def gradient_through_time(W, steps, h0, activation="linear", xs=None):
    """Backpropagate through h_t = f(W h_(t-1) + x_t) by hand, W the (square) recurrent block W_h:

        dh_t/dh_0 = diag(f'(a_t)) W  ...  diag(f'(a_1)) W,   a_t = W h_(t-1) + x_t

    Returns (norms, jacobian): the 2-norm of dh_t/dh_0 for t = 1..steps, and dh_T/dh_0.
    With a linear f and a symmetric W the norm is exactly radius**t: it vanishes for a largest
    eigenvalue below 1 and explodes above 1; tanh (f' <= 1) can only shrink it further.
    """
    W = np.asarray(W, dtype=float)
    h = np.asarray(h0, dtype=float)
    xs = np.zeros((steps, len(h))) if xs is None else np.asarray(xs, dtype=float)
    jacobian, norms = np.eye(len(h)), []
    for t in range(steps):
        a = W @ h + xs[t]
        if activation == "tanh":
            h = tanh(a)
            local = (1.0 - h ** 2)[:, None] * W
        else:
            h = a
            local = W
        jacobian = local @ jacobian
        norms.append(np.linalg.norm(jacobian, 2))
    return np.array(norms), jacobian
