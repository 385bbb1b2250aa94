"""1.6: train/validation/test split, k-fold cross-validation (Fig 1.11), model choice on
validation data only, and the overfitting example (Fig 1.12)."""
import numpy as np
import pytest

from dlbook.errors import UsageError
from dlbook.nn import validation


def test_split_is_a_partition():
    train, val, test = validation.train_val_test_split(103, 0.2, 0.1, seed=1)
    assert (len(train), len(val), len(test)) == (72, 21, 10)
    assert np.array_equal(np.sort(np.concatenate([train, val, test])), np.arange(103))
    with pytest.raises(UsageError, match="below 1"):
        validation.train_val_test_split(10, 0.6, 0.5)


@pytest.mark.parametrize("n, k, seed", [(10, 4, None), (23, 5, 0), (8, 8, 3)])
def test_k_fold_validates_every_sample_exactly_once(n, k, seed):
    folds = validation.k_fold_indices(n, k, seed=seed)
    assert len(folds) == k
    val_all = np.concatenate([va for _, va in folds])
    assert np.array_equal(np.sort(val_all), np.arange(n))
    sizes = [len(va) for _, va in folds]
    assert max(sizes) - min(sizes) <= 1
    for tr, va in folds:
        assert not set(tr) & set(va) and len(tr) + len(va) == n
    with pytest.raises(UsageError, match="2 <= k <= n"):
        validation.k_fold_indices(3, 4)


def test_polynomial_fit_matches_numpy_polyfit():
    x, y = validation.noisy_curve(30, seed=2)
    for degree in (1, 3, 5):
        ours = validation.polynomial_fit(x, y, degree)
        np.testing.assert_allclose(ours, np.polyfit(x, y, degree)[::-1], rtol=1e-7, atol=1e-9)


def test_model_is_chosen_on_validation_data_only():
    x, y = validation.noisy_curve(60, noise=0.2, seed=0)
    train, val, test = validation.train_val_test_split(60, seed=0)
    degrees = range(1, 9)
    best, errors = validation.select_degree(x[train], y[train], x[val], y[val], degrees)
    by_hand = {d: np.mean((np.polyval(np.polyfit(x[train], y[train], d), x[val]) - y[val]) ** 2)
               for d in degrees}
    assert best == min(by_hand, key=by_hand.get)
    assert errors == pytest.approx(by_hand, rel=1e-6)
    # cross-validation over train + val: the mean of the per-fold validation errors
    pool = np.concatenate([train, val])
    best_cv, cv_errors = validation.cross_validate(x[pool], y[pool], degrees, k=4, seed=0)
    folds = validation.k_fold_indices(len(pool), 4, seed=0)
    xp, yp = x[pool], y[pool]
    expected = np.mean([np.mean((np.polyval(np.polyfit(xp[tr], yp[tr], 3), xp[va]) - yp[va]) ** 2)
                        for tr, va in folds])
    assert cv_errors[3] == pytest.approx(expected, rel=1e-6)
    assert best_cv == min(cv_errors, key=cv_errors.get) and 2 <= best_cv <= 6


def test_high_degree_polynomial_overfits():
    demo = validation.overfitting_demo()
    assert demo.train_mse[9] < 1e-10 < demo.train_mse[1]    # 10 points: degree 9 interpolates
    assert demo.test_mse[9] > 3 * demo.test_mse[1]
