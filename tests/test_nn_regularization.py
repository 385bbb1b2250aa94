"""1.7: weight decay (1.23), dropout, batch normalization, early stopping, image augmentation."""
import numpy as np
import pytest

from dlbook.compat import tl
import tensorflow as tf

from dlbook.errors import ShapeError, UsageError
from dlbook.nn import regularization as reg


def test_penalties_match_keras_regularizers():
    w = np.random.default_rng(0).normal(size=(4, 3))
    # Keras computes in float32: 1e-5 relative
    assert reg.l1_penalty(w, 0.01) == pytest.approx(float(tf.keras.regularizers.L1(0.01)(w)), rel=1e-5)
    assert reg.l2_penalty(w, 0.01) == pytest.approx(float(tf.keras.regularizers.L2(0.01)(w)), rel=1e-5)


def test_l2_weight_decay_reaches_the_ridge_solution():
    X, y, _ = reg.sparse_regression_data(seed=1)
    lam = 0.5
    w = reg.fit_weight_decay(X, y, "l2", lam)
    # minimiser of mean((Xw - y)^2) + lam |w|^2: (X^T X / n + lam I) w = X^T y / n
    closed = np.linalg.solve(X.T @ X / len(X) + lam * np.eye(X.shape[1]), X.T @ y / len(X))
    np.testing.assert_allclose(w, closed, atol=1e-8)


def test_l1_weight_decay_drives_weights_to_exactly_zero():
    X, y, w_true = reg.sparse_regression_data(n_features=20, n_informative=3, seed=2)
    lam = 0.1
    w1, w2 = reg.fit_weight_decay(X, y, "l1", lam), reg.fit_weight_decay(X, y, "l2", lam)
    assert np.sum(w1 == 0) >= 15 and np.sum(w2 == 0) == 0
    assert set(np.flatnonzero(w1)) >= {0, 1, 2}
    # optimality of the L1 problem (subgradient condition), to 1e-6:
    # grad_i = -lam sign(w_i) where w_i != 0, and |grad_i| <= lam where w_i == 0
    grad = 2 * X.T @ (X @ w1 - y) / len(X)
    nz = w1 != 0
    np.testing.assert_allclose(grad[nz], -lam * np.sign(w1[nz]), atol=1e-6)
    assert np.all(np.abs(grad[~nz]) <= lam + 1e-6)
    with pytest.raises(UsageError):
        reg.fit_weight_decay(X, y, "l3", lam)


def test_constraint_regions_touch_points_fig_1_13():
    # loss |w - c|^2: on the L2 ball the closest point is c / |c|; on the L1 ball a corner
    center = np.array([2.0, 0.5])
    l2_point, _ = reg.constrained_minimum(center, np.eye(2), "l2")
    np.testing.assert_allclose(l2_point, center / np.linalg.norm(center), atol=1e-3)  # grid step
    l1_point, l1_loss = reg.constrained_minimum(center, np.eye(2), "l1")
    np.testing.assert_allclose(l1_point, [1.0, 0.0], atol=1e-12)
    assert l1_loss == pytest.approx(1.0 + 0.25)
    inside, loss = reg.constrained_minimum([0.2, 0.1], np.eye(2), "l1")
    assert loss == 0 and np.array_equal(inside, [0.2, 0.1])


def test_inverted_dropout_matches_tensorlayer_dropout_keep():
    x = np.random.default_rng(3).uniform(1, 2, size=(200, 50))
    keep = 0.8
    ours, mask = reg.dropout(x, keep, np.random.default_rng(0))
    layer = tl.layers.Dropout(keep=keep)
    layer.is_train = True
    theirs = layer.forward(tf.constant(x)).numpy()
    for out in (ours, theirs):   # survivors are scaled by 1/keep, the rest are 0
        kept = out != 0
        np.testing.assert_allclose(out[kept], x[kept] / keep, rtol=1e-12)
        # 10,000 Bernoulli(0.8) draws: std of the kept fraction is 0.004, allow 5 std
        assert kept.mean() == pytest.approx(keep, abs=0.02)
    assert np.array_equal(mask, ours != 0)
    # the expected output equals the input (the point of the 1/keep scaling): mean over draws
    many = np.mean([reg.dropout(x[:1], keep, np.random.default_rng(s))[0] for s in range(2000)], axis=0)
    np.testing.assert_allclose(many, x[:1], rtol=0.05)
    layer.is_train = False
    assert np.array_equal(layer.forward(tf.constant(x)).numpy(), x)
    assert np.array_equal(reg.dropout(x, keep, None, training=False)[0], x)
    with pytest.raises(UsageError, match="keep"):
        reg.dropout(x, 0.0, np.random.default_rng(0))


def test_batchnorm_by_hand_matches_tensorlayer_batchnorm():
    rng = np.random.default_rng(4)
    batches = [rng.normal(3.0, 2.0, size=(16, 5)) for _ in range(3)]
    layer = tl.layers.BatchNorm(num_features=5)   # eager: the moving averages update
    ours = reg.BatchNorm(5, moving_var_init=layer.moving_var.numpy()[0])
    ours.gamma, ours.beta = layer.gamma.numpy().astype(float), rng.normal(size=5)
    layer.beta.assign(ours.beta.astype(np.float32))
    layer.is_train = True
    for batch in batches:   # TensorLayer computes in float32: tolerance 1e-4
        out = ours(batch, training=True)
        np.testing.assert_allclose(out, layer.forward(tf.constant(batch, tf.float32)).numpy(),
                                   rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(out.mean(axis=0), ours.beta, atol=1e-9)
    np.testing.assert_allclose(ours.moving_mean, layer.moving_mean.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours.moving_var, layer.moving_var.numpy(), rtol=1e-5, atol=1e-5)
    layer.is_train = False
    test_batch = rng.normal(3.0, 2.0, size=(4, 5))
    np.testing.assert_allclose(ours(test_batch, training=False),
                               layer.forward(tf.constant(test_batch, tf.float32)).numpy(),
                               rtol=1e-4, atol=1e-4)
    with pytest.raises(ShapeError, match="5"):
        ours(np.ones((2, 4)), training=False)


def test_batchnorm_over_images_normalises_per_channel():
    x = np.random.default_rng(5).normal(2.0, 3.0, size=(4, 6, 6, 3))
    out = reg.BatchNorm(3)(x, training=True)
    mean, var = tf.nn.moments(tf.constant(x), axes=[0, 1, 2])
    oracle = tf.nn.batch_normalization(x, mean, var, offset=0.0, scale=1.0, variance_epsilon=1e-5)
    np.testing.assert_allclose(out, oracle.numpy(), atol=1e-10)   # float64


def test_early_stopping_stops_after_the_validation_minimum():
    run = reg.early_stopping_run(epochs=1500, patience=100)
    val = np.array(run.val_loss)
    assert run.best_epoch == int(np.argmin(val)) + 1
    assert run.stopped_epoch == run.best_epoch + 100 == len(val)
    assert val[-1] > val.min() * 1.02          # the validation loss rose again
    assert run.train_loss[-1] < run.train_loss[run.best_epoch - 1]   # training loss still fell
    assert val[0] > 2 * val.min()


def test_augmentations_match_tf_image():
    rng = np.random.default_rng(6)
    img = rng.uniform(size=(8, 10, 3))
    t = tf.constant(img)
    np.testing.assert_array_equal(reg.flip_horizontal(img), tf.image.flip_left_right(t).numpy())
    np.testing.assert_array_equal(reg.crop(img, 1, 2, 5, 6),
                                  tf.image.crop_to_bounding_box(t, 1, 2, 5, 6).numpy())
    with pytest.raises(ShapeError, match="does not fit"):
        reg.crop(img, 4, 0, 5, 6)
    # shift down 2, left 3 = pad top 2 / right 3, then crop back to the original size
    padded = tf.image.pad_to_bounding_box(t, 2, 0, 10, 13)
    np.testing.assert_array_equal(reg.shift(img, 2, -3),
                                  tf.image.crop_to_bounding_box(padded, 0, 3, 8, 10).numpy())
    window = reg.random_crop(img, 5, 5, np.random.default_rng(0))
    assert any(np.array_equal(window, img[i:i + 5, j:j + 5]) for i in range(4) for j in range(6))


@pytest.mark.parametrize("size", [(12, 15), (5, 7), (8, 10)])
def test_bilinear_resize_matches_tf_image_resize(size):
    img = np.random.default_rng(7).uniform(size=(8, 10, 3))
    ours = reg.resize_bilinear(img, *size)
    oracle = tf.image.resize(img, size, method="bilinear").numpy()
    np.testing.assert_allclose(ours, oracle, atol=1e-5)   # TF resizes in float32


def test_scale_zooms_about_the_centre():
    img = np.random.default_rng(8).uniform(size=(10, 10))
    zoomed = reg.scale(img, 1.6)
    oracle = tf.image.crop_to_bounding_box(tf.image.resize(img[..., None], (16, 16)), 3, 3, 10, 10)
    np.testing.assert_allclose(zoomed, oracle.numpy()[..., 0], atol=1e-5)
    shrunk = reg.scale(img, 0.5)
    np.testing.assert_allclose(shrunk[2:7, 2:7],
                               tf.image.resize(img[..., None], (5, 5)).numpy()[..., 0], atol=1e-5)
    assert np.all(shrunk[:2] == 0) and np.all(shrunk[7:] == 0) and np.all(shrunk[:, 7:] == 0)
