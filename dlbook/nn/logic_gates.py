"""1.3 Logic gates with perceptrons (Fig 1.6) and the multilayer perceptron for XOR (Fig 1.7)."""
import numpy as np

from dlbook.nn import backprop, optimizers
from dlbook.nn.perceptron import perceptron, step, train_perceptron

#: The four inputs of a two-input gate, in truth-table order.
INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])

#: Each gate's outputs for :data:`INPUTS`.
GATES = {
    "AND": np.array([0, 0, 0, 1]),
    "OR": np.array([0, 1, 1, 1]),
    "NAND": np.array([1, 1, 1, 0]),
    "NOR": np.array([1, 0, 0, 0]),
    "XOR": np.array([0, 1, 1, 0]),
    "XNOR": np.array([1, 0, 0, 1]),
}
LINEARLY_SEPARABLE = ("AND", "OR", "NAND", "NOR")

#: Explicit weights (w, b) of the XOR network of Fig 1.7: two hidden perceptrons, one output.
XOR_MLP = {
    "OR": (np.array([1.0, 1.0]), -0.5),
    "NAND": (np.array([-1.0, -1.0]), 1.5),
    "AND": (np.array([1.0, 1.0]), -1.5),
}


def train_gate(name, epochs=100, seed=0):
    """Train one perceptron on the gate's truth table; returns a PerceptronRun."""
    return train_perceptron(INPUTS, GATES[name], epochs=epochs, seed=seed)


def signed_sum(targets):
    """sum_i s_i [x_i; 1] with s_i = +1 where the target is 1 and -1 where it is 0.

    For any weights, sum_i s_i z_i = w . v[:2] + b * v[2] where v is this vector. A perceptron
    that computes the gate (output 1 iff z > 0, as in (1.7)) needs s_i z_i > 0 where the target
    is 1 and s_i z_i >= 0 where it is 0, so the sum is > 0 when some target is 1. If v is zero
    the sum is always 0: no perceptron computes the gate. v is zero for XOR and XNOR; for the
    separable gates it is not.
    """
    signs = 2 * np.asarray(targets) - 1
    augmented = np.hstack([INPUTS, np.ones((4, 1))])
    return signs @ augmented


def best_single_perceptron_accuracy(targets, inputs=INPUTS, grid=np.linspace(-2, 2, 41)):
    """The best fraction of ``inputs`` (two columns; the gate's inputs by default) that any
    perceptron with w1, w2, b on ``grid`` maps to ``targets``."""
    inputs = np.asarray(inputs, dtype=float)
    w1, w2, b = np.meshgrid(grid, grid, grid, indexing="ij")
    z = w1[..., None] * inputs[:, 0] + w2[..., None] * inputs[:, 1] + b[..., None]
    correct = (step(z) == np.asarray(targets)).mean(axis=-1)
    return float(correct.max())


def xor_mlp(X):
    """Fig 1.7: h1 = OR(x), h2 = NAND(x), y = AND(h1, h2). Returns (hidden (N, 2), y (N,))."""
    hidden = np.stack([perceptron(X, *XOR_MLP["OR"]), perceptron(X, *XOR_MLP["NAND"])], axis=1)
    return hidden, perceptron(hidden, *XOR_MLP["AND"])


def learn_xor(hidden=4, lr=2.0, epochs=2000, seed=0):
    """Train a 2-hidden-1 sigmoid MLP on the XOR truth table with the hand-written backprop
    and full-batch gradient descent. Returns a :class:`dlbook.nn.optimizers.TrainingRun`;
    ``backprop.predict(run.params, INPUTS)`` gives outputs near the XOR targets.
    """
    params = backprop.init_mlp([2, hidden, 1], seed=seed)
    targets = GATES["XOR"][:, None].astype(float)
    return optimizers.minibatch_sgd(params, INPUTS.astype(float), targets, lr=lr,
                                    batch_size=len(INPUTS), epochs=epochs, seed=seed)


def all_gate_weights(epochs=100, seed=0):
    """{gate: PerceptronRun} for the four separable gates (the weights Fig 1.6 draws)."""
    return {name: train_gate(name, epochs=epochs, seed=seed) for name in LINEARLY_SEPARABLE}

