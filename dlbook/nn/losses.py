"""1.5 Loss functions, from the book's equations (1.13)-(1.20)."""
import numpy as np

from dlbook.errors import UsageError


def _xlogy(x, y):
    """x * log(y), defined as 0 where x == 0 (so 0 log 0 = 0)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, 0.0, x * np.log(np.where(x == 0, 1.0, y)))


def kl_divergence(p, q):
    """(1.13) D_KL(p || q) = sum p log(p / q) over the last axis, averaged over rows."""
    return float(np.mean(np.sum(_xlogy(p, p) - _xlogy(p, q), axis=-1)))


def entropy(p):
    """H(p) = -sum p log p over the last axis, averaged over rows."""
    return float(np.mean(-np.sum(_xlogy(p, p), axis=-1)))


def cross_entropy(p, q):
    """(1.14) H(p, q) = -sum p log q over the last axis, averaged over rows."""
    return float(np.mean(-np.sum(_xlogy(p, q), axis=-1)))


def binary_cross_entropy(y, y_hat):
    """(1.15) mean of -[y log y_hat + (1 - y) log(1 - y_hat)], y_hat a probability."""
    y = np.asarray(y, dtype=float)
    return float(np.mean(-(_xlogy(y, y_hat) + _xlogy(1 - y, 1 - np.asarray(y_hat, dtype=float)))))


def binary_cross_entropy_with_logits(y, z):
    """(1.15) with y_hat = sigmoid(z): mean of max(z, 0) - z y + log(1 + e^-|z|)."""
    y, z = np.asarray(y, dtype=float), np.asarray(z, dtype=float)
    return float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))


def logsumexp(z, axis=-1):
    """log sum_j e^(z_j), shifted by max(z) so it does not overflow."""
    z = np.asarray(z, dtype=float)
    top = z.max(axis=axis, keepdims=True)
    return np.squeeze(top, axis) + np.log(np.sum(np.exp(z - top), axis=axis))


def categorical_cross_entropy(y, y_hat):
    """(1.16) mean over rows of -sum_c y_c log y_hat_c, y one-hot (or soft), y_hat probabilities."""
    return cross_entropy(y, y_hat)


def categorical_cross_entropy_with_logits(y, z):
    """(1.16) with y_hat = softmax(z): mean over rows of logsumexp(z) sum_c y_c - sum_c y_c z_c."""
    y, z = np.asarray(y, dtype=float), np.asarray(z, dtype=float)
    return float(np.mean(logsumexp(z) * y.sum(axis=-1) - np.sum(y * z, axis=-1)))


def sparse_categorical_cross_entropy_with_logits(labels, z):
    """(1.16) with integer class labels: mean of logsumexp(z) - z[label] (what tl.cost.cross_entropy
    computes)."""
    z = np.asarray(z, dtype=float)
    labels = np.asarray(labels)
    return float(np.mean(logsumexp(z) - z[np.arange(len(z)), labels]))


def lp_norm(x, p=2, axis=None):
    """(1.17) (sum |x_i|^p)^(1/p); p = inf gives max |x_i|."""
    x = np.abs(np.asarray(x, dtype=float))
    if np.isinf(p):
        return np.max(x, axis=axis)
    return np.sum(x ** p, axis=axis) ** (1.0 / p)


def lp_loss(y, y_hat, p=2):
    """(1.18) ||y - y_hat||_p^p = sum_i |y_i - y_hat_i|^p over every element: the p-th power of
    the p-norm (no root), summed, not averaged. p = 2 gives the sum of squared errors, which
    MSE (1.19) divides by the number of elements; p = 1 the sum of absolute errors (MAE * n).
    p must be a finite number >= 1, as in the book."""
    if not (np.isfinite(p) and p >= 1):
        raise UsageError(f"the Lp loss (1.18) needs a finite p >= 1, got p = {p}")
    diff = np.asarray(y, dtype=float) - np.asarray(y_hat, dtype=float)
    return float(np.sum(np.abs(diff) ** p))


def mse(y, y_hat):
    """(1.19) mean of (y - y_hat)^2 over all elements (tl.cost's default sums over features)."""
    # errata: tl-cost-sums-features
    return float(np.mean((np.asarray(y, dtype=float) - np.asarray(y_hat, dtype=float)) ** 2))


def mae(y, y_hat):
    """(1.20) mean of |y - y_hat| over all elements."""
    return float(np.mean(np.abs(np.asarray(y, dtype=float) - np.asarray(y_hat, dtype=float))))
