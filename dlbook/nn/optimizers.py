"""1.6 Optimization: gradient descent, mini-batch SGD (Algorithm 1.1) and Adam (Algorithm 1.2)."""
from dataclasses import dataclass, field

import numpy as np

from dlbook.nn import backprop


def gradient_descent(grad, theta0, lr, steps):
    """theta <- theta - lr * grad(theta), ``steps`` times. Returns the path, shape (steps+1, dim)."""
    theta = np.atleast_1d(np.asarray(theta0, dtype=float))
    path = [theta]
    for _ in range(steps):
        theta = theta - lr * np.atleast_1d(grad(theta))
        path.append(theta)
    return np.array(path)


def quadratic(scales):
    """The bowl L(theta) = sum_i s_i theta_i^2 used for Figs 1.9 and 1.10; returns (loss, grad).

    Gradient descent multiplies theta_i by (1 - 2 lr s_i) each step: it converges when
    lr < 1 / s_i, oscillates when lr > 1 / (2 s_i), and diverges when lr > 1 / s_i.
    """
    scales = np.asarray(scales, dtype=float)
    return (lambda theta: float(np.sum(scales * np.square(theta))),
            lambda theta: 2.0 * scales * np.asarray(theta, dtype=float))


def learning_rate_paths(lrs, theta0=4.0, steps=20, scale=1.0):
    """Fig 1.10: gradient-descent paths on L = scale * theta^2 for each learning rate.
    Returns {lr: path of shape (steps+1,)}."""
    _, grad = quadratic([scale])
    return {lr: gradient_descent(grad, [theta0], lr, steps)[:, 0] for lr in lrs}


class Adam:
    """Algorithm 1.2 (Kingma & Ba, 2015) on a list of NumPy arrays, updated in place.

        m <- beta1 m + (1 - beta1) g             v <- beta2 v + (1 - beta2) g^2
        m_hat = m / (1 - beta1^t)                v_hat = v / (1 - beta2^t)   (bias corrections)
        theta <- theta - lr * m_hat / (sqrt(v_hat) + epsilon)

    m and v are the moving averages (the moments; beta1 and beta2 their decay rates), m_hat and
    v_hat the bias-corrected moments (the book's comments on lines 7-8 call them moving averages:
    errata adam-bias-correction). The book's line 9 reads theta <- theta - lr * m_hat / sqrt(v_hat + epsilon), with epsilon
    inside the root; ``epsilon_inside_sqrt=True`` reproduces it to show the difference.
    """

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8, epsilon_inside_sqrt=False):
        self.lr, self.beta1, self.beta2, self.epsilon = lr, beta1, beta2, epsilon
        self.epsilon_inside_sqrt = epsilon_inside_sqrt
        self.t, self.m, self.v = 0, None, None

    def step(self, params, grads):
        """One update of every array in ``params`` (a list) with the matching ``grads``."""
        if self.m is None:
            self.m = [np.zeros_like(p, dtype=float) for p in params]
            self.v = [np.zeros_like(p, dtype=float) for p in params]
        self.t += 1
        for p, g, m, v in zip(params, grads, self.m, self.v):
            m *= self.beta1
            m += (1 - self.beta1) * g
            v *= self.beta2
            v += (1 - self.beta2) * g * g
            m_hat = m / (1 - self.beta1 ** self.t)
            v_hat = v / (1 - self.beta2 ** self.t)
            if self.epsilon_inside_sqrt:   # errata: adam-epsilon (the book's line 9)
                p -= self.lr * m_hat / np.sqrt(v_hat + self.epsilon)
            else:
                p -= self.lr * m_hat / (np.sqrt(v_hat) + self.epsilon)


def adam_path(grad, theta0, steps, **adam_args):
    """Run :class:`Adam` on one parameter vector; returns the path, shape (steps+1, dim)."""
    theta = np.atleast_1d(np.asarray(theta0, dtype=float)).copy()
    adam, path = Adam(**adam_args), [theta.copy()]
    for _ in range(steps):
        adam.step([theta], [np.atleast_1d(grad(theta))])
        path.append(theta.copy())
    return np.array(path)


@dataclass
class TrainingRun:
    """The result of :func:`minibatch_sgd`: final parameters, the loss after every epoch on the
    training data (and the validation data when given), and for early stopping the epoch with
    the lowest validation loss (1-based), its parameters and the epoch training stopped at."""
    params: list
    train_loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    best_epoch: int = 0
    best_params: list = None
    stopped_epoch: int = 0


def _copy(params):
    return [(W.copy(), b.copy()) for W, b in params]


def minibatch_sgd(params, X, Y, lr=0.1, batch_size=32, epochs=10, seed=0,
                  X_val=None, Y_val=None, patience=None, optimizer=None):
    """Algorithm 1.1 for the MLP of :mod:`dlbook.nn.backprop`: every epoch, shuffle the training
    set, split it into mini-batches and, for each, step against the backprop gradient.

    The step is plain SGD, theta <- theta - lr * g, unless an ``optimizer`` with a
    ``step(params, grads)`` method (e.g. :class:`Adam`) is given. With validation data and
    ``patience``, training stops once the validation loss has not improved for ``patience``
    epochs (early stopping); ``best_params`` are those of the lowest validation loss.
    """
    X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
    rng = np.random.default_rng(seed)
    params = _copy(params)
    run = TrainingRun(params=params)
    best = np.inf
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            batch = order[start:start + batch_size]
            grads = backprop.backprop(params, X[batch], Y[batch])
            flat_params = [a for pair in params for a in pair]
            flat_grads = [g for pair in grads for g in pair]
            if optimizer is None:
                for p, g in zip(flat_params, flat_grads):
                    p -= lr * g
            else:
                optimizer.step(flat_params, flat_grads)
        run.train_loss.append(backprop.loss(params, X, Y))
        run.stopped_epoch = epoch
        if X_val is None:
            continue
        run.val_loss.append(backprop.loss(params, X_val, Y_val))
        if run.val_loss[-1] < best:
            best, run.best_epoch, run.best_params = run.val_loss[-1], epoch, _copy(params)
        elif patience is not None and epoch - run.best_epoch >= patience:
            break
    return run
