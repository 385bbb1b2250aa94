"""1.6 Choosing a model: train / validation / test split and k-fold cross-validation (Fig 1.11)."""
from dataclasses import dataclass

import numpy as np

from dlbook.errors import UsageError


def train_val_test_split(n, val_fraction=0.2, test_fraction=0.2, seed=0):
    """Shuffle range(n) and cut it into (train, validation, test) index arrays."""
    if not (0 <= val_fraction and 0 <= test_fraction and val_fraction + test_fraction < 1):
        raise UsageError(f"val_fraction + test_fraction must be below 1, got "
                         f"{val_fraction} + {test_fraction}")
    order = np.random.default_rng(seed).permutation(n)
    n_test, n_val = round(n * test_fraction), round(n * val_fraction)
    return order[n_test + n_val:], order[n_test:n_test + n_val], order[:n_test]


def k_fold_indices(n, k, seed=None):
    """Split range(n) (shuffled when ``seed`` is given) into k folds of nearly equal size.

    Returns k pairs (train_idx, val_idx): fold i validates on the i-th part and trains on the
    other k - 1 (Fig 1.11). Every index is validated on exactly once.
    """
    if not 2 <= k <= n:
        raise UsageError(f"k-fold cross-validation needs 2 <= k <= n samples, got k={k}, n={n}")
    order = np.arange(n) if seed is None else np.random.default_rng(seed).permutation(n)
    folds = np.array_split(order, k)
    return [(np.concatenate(folds[:i] + folds[i + 1:]), folds[i]) for i in range(k)]


def polynomial_fit(x, y, degree):
    """Least-squares coefficients c (lowest power first) of y ~ sum_j c_j x^j."""
    vander = np.vander(np.asarray(x, dtype=float), degree + 1, increasing=True)
    return np.linalg.lstsq(vander, np.asarray(y, dtype=float), rcond=None)[0]


def polynomial_predict(coef, x):
    return np.vander(np.asarray(x, dtype=float), len(coef), increasing=True) @ coef


def fit_error(coef, x, y):
    """Mean squared error of the polynomial ``coef`` on (x, y)."""
    return float(np.mean((polynomial_predict(coef, x) - np.asarray(y, dtype=float)) ** 2))


def noisy_curve(n, noise=0.2, seed=0, func=np.sin, low=0.0, high=np.pi):
    """n points x ~ U(low, high), y = func(x) + N(0, noise^2). Returns (x, y)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(low, high, n)
    return x, func(x) + rng.normal(0.0, noise, n)


def select_degree(x_train, y_train, x_val, y_val, degrees):
    """Fit each degree on the training data; return (best degree, {degree: validation MSE})."""
    errors = {d: fit_error(polynomial_fit(x_train, y_train, d), x_val, y_val) for d in degrees}
    return min(errors, key=errors.get), errors


def cross_validate(x, y, degrees, k=4, seed=0):
    """k-fold cross-validation of each degree on (x, y) (training + validation data only).

    Returns (best degree, {degree: mean validation MSE over the k folds}).
    """
    folds = k_fold_indices(len(x), k, seed=seed)
    errors = {d: float(np.mean([fit_error(polynomial_fit(x[tr], y[tr], d), x[va], y[va])
                                for tr, va in folds])) for d in degrees}
    return min(errors, key=errors.get), errors


@dataclass
class OverfittingDemo:
    """Fig 1.12: a line and a high-degree polynomial fitted to the same few training points."""
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    fits: dict          # degree -> coefficients
    train_mse: dict     # degree -> MSE on the training points
    test_mse: dict      # degree -> MSE on the test points


def overfitting_demo(n_train=10, n_test=50, degrees=(1, 9), noise=0.3, seed=0):
    """Points on the line y = x + noise: degree 1 generalises, degree 9 fits the noise
    (lower training error, much higher test error)."""
    x_train, y_train = noisy_curve(n_train, noise, seed, func=lambda x: x, low=-1, high=1)
    x_test, y_test = noisy_curve(n_test, noise, seed + 1, func=lambda x: x, low=-1, high=1)
    fits = {d: polynomial_fit(x_train, y_train, d) for d in degrees}
    return OverfittingDemo(x_train, y_train, x_test, y_test, fits,
                           {d: fit_error(c, x_train, y_train) for d, c in fits.items()},
                           {d: fit_error(c, x_test, y_test) for d, c in fits.items()})
