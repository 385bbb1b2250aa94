"""
Title: 1.9 Recurrent neural networks
Description: the simple recurrent cell as (1.25) prints it, linear in W[x_t; h_(t-1)] + b, and its
usual tanh form; the LSTM cell exactly as (1.26), on [h_(t-1); x_t]; and a GRU cell, each run over
a short sequence and compared with the Keras cell holding the same weights; then vanishing and
exploding gradients through time as a function of the largest eigenvalue of the recurrent block W_h
(the W of (1.25) is not square: errata rnn-eigenvalues).

Prints:
- each cell's equations, then its final hidden state (4 units, 6 steps) by hand and from
  Keras's SimpleRNNCell(activation=None) for (1.25), SimpleRNNCell (tanh), LSTMCell and
  GRUCell(reset_after=False) with the converted weights (difference ~1e-16);
- the LSTM gates at the last step (forget, input, output: all in (0, 1));
- ||dh_t / dh_0|| for t = 1, 10, 20, 50 with largest eigenvalue 0.8, 1.0 and 1.2: a linear
  recurrence gives exactly 0.8^t (1.4e-5 at t = 50), 1 and 1.2^t (9100 at t = 50); tanh only
  shrinks these (its slope is at most 1): with 1.2 the gradient first grows, then the state
  saturates and it vanishes.

Run: `dlbook run 1.9` or `python -m chapters.ch01.s1_09_rnn`.
"""
# %% [markdown]
# ## Setup
# The simple recurrent cell, the LSTM and the GRU are written in `dlbook.nn.rnn` (NumPy).

# %%
import numpy as np

from dlbook.nn import rnn
from dlbook.nn.activations import sigmoid
from dlbook.options import add_seed_arg, make_parser


# %% [markdown]
# ## The Keras reference
# Runs a Keras cell, given the same weights as the hand-written one, over a sequence.

# %%
def keras_final_state(cell, weights, xs, n_states):
    """Run a float64 Keras cell over xs from zero states; returns the last output."""
    import tensorflow as tf
    cell.build((None, xs.shape[1]))
    cell.set_weights(weights)
    state = [tf.zeros((1, cell.units), tf.float64)] * n_states
    for x in xs:
        out, state = cell(tf.constant(x[None]), state)
        state = state if isinstance(state, (list, tuple)) else [state]
    return out.numpy()[0]


# %% [markdown]
# ## The section, step by step
# `main` follows section 1.9:
#
# 1. **Three cells.** The simple recurrent cell as (1.25) writes it and in its usual tanh form,
#    the LSTM exactly as (1.26) (on [h_(t-1); x_t]) and a GRU, each run over a short sequence;
#    the final hidden state equals that of the Keras cell with the same weights.
# 2. **Gates.** The LSTM's forget, input and output gates lie in (0, 1).
# 3. **Gradients through time.** The norm of dh_t/dh_0 shrinks or grows geometrically with the
#    largest eigenvalue of the recurrent block W_h (the columns of (1.25)'s W that act on
#    h_(t-1); W itself is not square, errata rnn-eigenvalues): vanishing below 1, exploding above.

# %%
def main(argv=None):
    parser = make_parser(prog="dlbook run 1.9",
                         description="1.9 Recurrent neural networks")
    add_seed_arg(parser, "the weights and inputs")
    args = parser.parse_args(argv)

    # ## Setup
    from dlbook.compat import tl  # noqa: F401
    import tensorflow as tf
    units, inputs, steps = 4, 3, 6
    xs = np.random.default_rng(args.seed).normal(size=(steps, inputs))

    # ## Model: the three cells by hand and in Keras with the same weights
    simple = rnn.init_simple_cell(units, inputs, seed=args.seed)
    lstm = rnn.init_cell(rnn.LSTM_GATES, units, inputs, seed=args.seed + 1)
    gru = rnn.init_cell(rnn.GRU_GATES, units, inputs, seed=args.seed + 2)
    cases = [
        ("(1.25)", "h_t = W[x_t; h_{t-1}] + b   (as printed: linear)", "simple", simple,
         tf.keras.layers.SimpleRNNCell(units, activation=None, dtype="float64"),
         rnn.simple_rnn_to_keras(simple), 1),
        ("tanh", "h_t = tanh(W[x_t; h_{t-1}] + b)   (the usual cell, a variant)", "tanh", simple,
         tf.keras.layers.SimpleRNNCell(units, dtype="float64"), rnn.simple_rnn_to_keras(simple), 1),
        ("LSTM (1.26)", "f_t, i_t, o_t = sigma(W_g[h_{t-1}; x_t] + b_g); "
         "C_t = f_t * C_{t-1} + i_t * tanh(W_C[h_{t-1}; x_t] + b_C); h_t = o_t * tanh(C_t)",
         "lstm", lstm, tf.keras.layers.LSTMCell(units, dtype="float64"), rnn.lstm_to_keras(lstm), 2),
        ("GRU", "z_t, r_t = sigma(W_g[h_{t-1}; x_t] + b_g); "
         "h_t = (1 - z_t) * h_{t-1} + z_t * tanh(W_h[r_t * h_{t-1}; x_t] + b_h)", "gru", gru,
         tf.keras.layers.GRUCell(units, reset_after=False, dtype="float64"), rnn.gru_to_keras(gru), 1),
    ]
    print(f"{units} units, {steps} steps of {inputs} inputs; final hidden state h_T:")
    for title, equation, kind, params, cell, weights, n_states in cases:
        ours = rnn.run_sequence(kind, xs, params, units)[-1]
        theirs = keras_final_state(cell, weights, xs, n_states)
        print(f"  {title}: {equation}\n  {'by hand':>13}: {np.round(ours, 6).tolist()}\n  {'Keras':>13}: "
              f"{np.round(theirs, 6).tolist()}  (largest difference {np.max(np.abs(ours - theirs)):.1e})")

    h = rnn.run_sequence("lstm", xs[:-1], lstm, units)[-1]
    hx = np.concatenate([h, xs[-1]])
    for gate, name in [("f", "forget"), ("i", "input"), ("o", "output")]:
        value = sigmoid(lstm[f"W_{gate}"] @ hx + lstm[f"b_{gate}"])
        print(f"  LSTM {name} gate {gate}_T = {np.round(value, 3).tolist()}")

    # ## Gradients through time: ||dh_t/dh_0|| against the largest eigenvalue of W_h
    print("\n||dh_t/dh_0||      t = 1        t = 10       t = 20       t = 50")
    for activation in ("linear", "tanh"):
        for radius in (0.8, 1.0, 1.2):
            W = rnn.recurrent_matrix(units, radius, seed=args.seed)
            norms, _ = rnn.gradient_through_time(W, 50, np.full(units, 0.1), activation)
            print(f"{activation:>6}, lambda {radius}:"
                  + "".join(f"{norms[t - 1]:>13.4g}" for t in (1, 10, 20, 50)))
    return 0


# %% [markdown]
# ## Parameters
# The section's command-line options for a notebook run, with underscores for dashes
# (`{"seed": 1}` is `--seed 1`); the command line ignores this dict and reads its own options.

# %% tags=["parameters"]
options = dict(seed=0)

# %% [markdown]
# ## Run
# Prints each cell's equations and final state (by hand and from Keras), the LSTM gates and the
# gradient norms for three eigenvalues.

# %%
if __name__ == "__main__":
    from dlbook.cli.entry import run_section
    run_section(main)
