"""1.4 Activation functions and their derivatives, from their definitions."""
import numpy as np


def sigmoid(z):
    """1 / (1 + e^-z), evaluated without overflow for large |z|."""
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_grad(z):
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z):
    """(e^z - e^-z) / (e^z + e^-z), written as (1 - e^-2|z|) / (1 + e^-2|z|) with z's sign."""
    z = np.asarray(z, dtype=float)
    e = np.exp(-2.0 * np.abs(z))
    return np.sign(z) * (1.0 - e) / (1.0 + e)


def tanh_grad(z):
    return 1.0 - tanh(z) ** 2


def relu(z):
    return np.maximum(np.asarray(z, dtype=float), 0.0)


def relu_grad(z):
    """1 for z > 0, else 0 (the subgradient 0 at z = 0, as TensorFlow uses)."""
    return (np.asarray(z) > 0).astype(float)


def leaky_relu(z, alpha=0.2):
    z = np.asarray(z, dtype=float)
    return np.where(z > 0, z, alpha * z)


def leaky_relu_grad(z, alpha=0.2):
    return np.where(np.asarray(z) > 0, 1.0, alpha)


def prelu(z, alpha):
    """Leaky ReLU with a learned slope ``alpha`` (a scalar or one per channel)."""
    return leaky_relu(z, alpha)


def prelu_grad_alpha(z):
    """d prelu(z) / d alpha = z where z <= 0, else 0 (per element; sum over shared alphas)."""
    return np.minimum(np.asarray(z, dtype=float), 0.0)


def softmax(z, axis=-1):
    """e^(z_i) / sum_j e^(z_j) along ``axis``, shifted by max(z) first to avoid overflow."""
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def softmax_naive(z, axis=-1):
    """The formula as written, without the shift: overflows to nan once some z_i > ~709."""
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(np.asarray(z, dtype=float))
        return e / e.sum(axis=axis, keepdims=True)


def softmax_jacobian(z):
    """d softmax(z)_i / d z_j = s_i (delta_ij - s_j) for one vector z."""
    s = softmax(z)
    return np.diag(s) - np.outer(s, s)


#: name -> (function, derivative) for the four activations Fig 1.8 plots.
ACTIVATIONS = {
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
    "relu": (relu, relu_grad),
    "leaky_relu": (leaky_relu, leaky_relu_grad),
}
