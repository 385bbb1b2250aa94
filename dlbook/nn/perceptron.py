"""1.2 The perceptron: a dense layer z = Wx + b, a step output, and its decision boundary."""
from dataclasses import dataclass, field

import numpy as np

from dlbook.errors import ShapeError, UsageError


def dense(x, W, b=None):
    """z = Wx + b for one sample x of shape (n,) or a batch of shape (N, n).

    W has the book's shape (m, n); b has shape (m,) or is None (a neuron without bias).
    Returns shape (m,) for one sample, (N, m) for a batch.
    """
    x, W = np.asarray(x, dtype=float), np.atleast_2d(np.asarray(W, dtype=float))
    if x.shape[-1] != W.shape[1]:
        raise ShapeError(f"dense: input has {x.shape[-1]} features but W has shape {W.shape} "
                         f"(outputs, inputs); give W with {x.shape[-1]} columns")
    z = x @ W.T
    return z if b is None else z + np.asarray(b, dtype=float)


def step(z):
    """The perceptron's output (1.3): 1 where z > 0, 0 where z <= 0 (so step(0) = 0)."""
    return (np.asarray(z) > 0).astype(int)


def perceptron(x, w, b=0.0):
    """A single neuron with a step output: step(w^T x + b), for one sample or a batch."""
    return step(dense(x, np.reshape(w, (1, -1)), [b])[..., 0])


def decision_boundary_intercepts(w, b):
    """Where the boundary w^T x + b = 0 crosses each axis: x_i = -b / w_i (others zero).

    For two inputs the boundary is a line through (-b/w1, 0) and (0, -b/w2); for three inputs a
    plane through (-b/w1, 0, 0), (0, -b/w2, 0), (0, 0, -b/w3). Without bias (b = 0) every
    intercept is 0: the boundary passes through the origin. An axis the boundary is parallel
    to (w_i = 0) gives inf.
    """
    w = np.asarray(w, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(w != 0, -b / np.where(w != 0, w, 1.0), np.inf) + 0.0   # no -0.0


def boundary_x2(w, b, x1):
    """The 2-input boundary as a line: x2 = -(w1*x1 + b) / w2 (for plotting Fig 1.3)."""
    return -(w[0] * np.asarray(x1, dtype=float) + b) / w[1]


def boundary_x3(w, b, x1, x2):
    """The 3-input boundary as a plane: x3 = -(w1*x1 + w2*x2 + b) / w3 (for plotting Fig 1.3)."""
    return -(w[0] * np.asarray(x1, dtype=float) + w[1] * np.asarray(x2, dtype=float) + b) / w[2]


def linearly_separable_set(n=100, n_inputs=2, w=None, b=-0.5, margin=0.1, seed=0):
    """Points in [-1, 1]^n_inputs labelled 1 where w^T x + b > 0, keeping only points at
    least ``margin`` away from that boundary. Returns (X of shape (n, n_inputs), y in {0, 1}).
    """
    rng = np.random.default_rng(seed)
    w = np.ones(n_inputs) if w is None else np.asarray(w, dtype=float)
    points = []
    for _ in range(100):
        x = rng.uniform(-1, 1, size=(n, n_inputs))
        distance = (x @ w + b) / np.linalg.norm(w)
        points.extend(x[np.abs(distance) >= margin])
        if len(points) >= n:
            break
    else:
        raise UsageError(f"margin {margin} leaves (almost) no points of [-1, 1]^{n_inputs} "
                         f"off the boundary w = {w.tolist()}, b = {b}; use a smaller margin")
    X = np.array(points[:n])
    return X, step(X @ w + b)


@dataclass
class PerceptronRun:
    """The result of :func:`train_perceptron`: final weights, and per epoch the number of
    misclassified samples and the weights after the epoch (for plotting the boundary moving)."""
    w: np.ndarray
    b: float
    errors: list = field(default_factory=list)
    history: list = field(default_factory=list)   # (w, b) after each epoch

    @property
    def converged(self):
        """True when the last epoch classified every sample correctly."""
        return bool(self.errors) and self.errors[-1] == 0


def train_perceptron(X, y, lr=1.0, epochs=100, bias=True, seed=0):
    """The perceptron learning rule: for each sample, w += lr * (y - a) x and b += lr * (y - a).

    Stops after the first epoch with no mistakes (it converges on any linearly separable set).
    With ``bias=False`` b stays 0, so the boundary must pass through the origin.
    """
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    rng = np.random.default_rng(seed)
    run = PerceptronRun(w=np.zeros(X.shape[1]), b=0.0)
    for _ in range(epochs):
        mistakes = 0
        for i in rng.permutation(len(X)):
            error = y[i] - perceptron(X[i], run.w, run.b)
            if error:
                mistakes += 1
                run.w = run.w + lr * error * X[i]
                if bias:
                    run.b = run.b + lr * error
        run.errors.append(mistakes)
        run.history.append((run.w.copy(), run.b))
        if mistakes == 0:
            break
    return run
