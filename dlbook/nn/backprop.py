"""1.6.1 Backpropagation by hand for an MLP with sigmoid activations and a squared-error loss."""
import numpy as np

from dlbook.nn.activations import sigmoid, sigmoid_grad


def init_mlp(sizes, seed=0):
    """Weights ~ N(0, 1/n_in) and zero biases for layer sizes like [2, 4, 1]."""
    rng = np.random.default_rng(seed)
    return [(rng.normal(0.0, 1.0 / np.sqrt(n_in), size=(n_out, n_in)), np.zeros(n_out))
            for n_in, n_out in zip(sizes[:-1], sizes[1:])]


def forward(params, X):
    """Forward pass for a batch X of shape (N, n_in). Returns (zs, activations) as lists of
    column batches: zs[l-1] = z^l of shape (n_l, N), activations[l] = a^l (activations[0] = x)."""
    a = np.asarray(X, dtype=float).T
    zs, activations = [], [a]
    for W, b in params:
        z = W @ a + b[:, None]
        a = sigmoid(z)
        zs.append(z)
        activations.append(a)
    return zs, activations


def predict(params, X):
    """The network's output a^L for a batch X, one row per sample."""
    return forward(params, X)[1][-1].T


def loss(params, X, Y):
    """Mean over the batch of 1/2 ||a^L - y||^2 (1.21 sums it over the samples)."""
    # errata: backprop-half-mse
    diff = predict(params, X) - np.asarray(Y, dtype=float)
    return float(0.5 * np.mean(np.sum(diff ** 2, axis=1)))


def backprop(params, X, Y):
    """Gradients [(dL/dW^l, dL/db^l)] of :func:`loss`, computed with the deltas above."""
    zs, activations = forward(params, X)
    n = activations[0].shape[1]
    delta = (activations[-1] - np.asarray(Y, dtype=float).T) * sigmoid_grad(zs[-1])
    grads = []
    for layer in range(len(params) - 1, -1, -1):
        grads.append((delta @ activations[layer].T / n, delta.mean(axis=1)))
        if layer:
            delta = (params[layer][0].T @ delta) * sigmoid_grad(zs[layer - 1])
    return grads[::-1]
