"""1.7 Regularization: L1/L2 weight decay (1.23), dropout, batch normalization, early stopping, augmentation."""

import numpy as np

from dlbook.errors import ShapeError, UsageError
from dlbook.nn import backprop, optimizers, validation


# --- L1 / L2 weight decay (1.23) ---------------------------------------------------------

def l1_penalty(w, lam):
    """lambda * sum |w_i| (what tf.keras.regularizers.L1(lam) adds)."""
    return float(lam * np.sum(np.abs(w)))


def l2_penalty(w, lam):
    """lambda * sum w_i^2 (what tf.keras.regularizers.L2(lam) adds)."""
    return float(lam * np.sum(np.square(w)))


def sparse_regression_data(n=200, n_features=20, n_informative=3, noise=0.1, seed=0):
    """y = X w_true + noise where only the first ``n_informative`` of w_true are non-zero.

    Returns (X (n, n_features), y (n,), w_true)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_features))
    w_true = np.zeros(n_features)
    w_true[:n_informative] = rng.uniform(1.0, 2.0, n_informative) * rng.choice([-1, 1], n_informative)
    return X, X @ w_true + rng.normal(0.0, noise, n), w_true


def soft_threshold(w, threshold):
    """argmin_v 1/2 (v - w)^2 + threshold |v|: shrink towards 0 by ``threshold``, stop at 0."""
    return np.sign(w) * np.maximum(np.abs(w) - threshold, 0.0)


def fit_weight_decay(X, y, penalty, lam, steps=3000):
    """Minimise mean((X w - y)^2) + the L1 or L2 penalty of (1.23) by gradient descent.

    L2: w <- w - lr (grad_data + 2 lambda w). L1: |w| has no gradient at 0, so the step is
    the proximal one (gradient step on the data loss, then :func:`soft_threshold` by
    lr * lambda), which is what lets weights land exactly on 0. The step size is
    1 / (Lipschitz constant of the data gradient). Returns w.
    """
    if penalty not in ("l1", "l2"):
        raise UsageError(f"penalty must be 'l1' or 'l2', got {penalty!r}")
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    gram = X.T @ X / len(X)
    lr = 1.0 / (2.0 * np.linalg.eigvalsh(gram).max() + (2.0 * lam if penalty == "l2" else 0.0))
    w = np.zeros(X.shape[1])
    for _ in range(steps):
        grad = 2.0 * (gram @ w - X.T @ y / len(X))
        if penalty == "l2":
            w = w - lr * (grad + 2.0 * lam * w)
        else:
            w = soft_threshold(w - lr * grad, lr * lam)
    return w


def constrained_minimum(center, A, norm, radius=1.0, n=20000):
    """Fig 1.13: the point of the L1 or L2 ball of ``radius`` where the quadratic loss
    (w - center)^T A (w - center) is smallest, found on a fine grid of the ball's boundary
    (the L1 ball's four corners included). Returns (point, loss there); the loss contour
    through that point is the one that touches the ball.
    """
    center, A = np.asarray(center, dtype=float), np.asarray(A, dtype=float)
    if norm not in ("l1", "l2"):
        raise UsageError(f"norm must be 'l1' or 'l2', got {norm!r}")
    if np.linalg.norm(center, ord=1 if norm == "l1" else 2) <= radius:
        return center, 0.0
    if norm == "l2":
        angle = np.linspace(0, 2 * np.pi, n, endpoint=False)
        points = radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    else:
        corners = radius * np.array([[1, 0], [0, 1], [-1, 0], [0, -1], [1, 0]], dtype=float)
        t = np.linspace(0, 1, n // 4, endpoint=False)[:, None]
        points = np.concatenate([a + t * (b - a) for a, b in zip(corners[:-1], corners[1:])])
    diff = points - center
    losses = np.einsum("ni,ij,nj->n", diff, A, diff)
    best = np.argmin(losses)
    return points[best], float(losses[best])


# --- Dropout ---------------------------------------------------------------------------------

def dropout(x, keep, rng, training=True):
    """Inverted dropout: in training keep each unit with probability ``keep`` (TensorLayer's
    ``Dropout(keep=...)`` argument) and scale the kept ones by 1/keep, so the expected output
    equals x; at test time return x unchanged. Returns (output, mask)."""
    x = np.asarray(x, dtype=float)
    if not 0 < keep <= 1:
        raise UsageError(f"keep is the probability of keeping a unit, in (0, 1]; got {keep}")
    if not training:
        return x, np.ones_like(x, dtype=bool)
    mask = rng.random(x.shape) < keep
    return np.where(mask, x / keep, 0.0), mask


# --- Batch normalization ----------------------------------------------------------------------

class BatchNorm:
    """Batch normalization over the batch axis (and spatial axes), per feature (the last axis).

    Training:  y = gamma (x - mean_B) / sqrt(var_B + epsilon) + beta, with the batch mean and
               (biased) variance; then moving = decay * moving + (1 - decay) * batch statistic.
    Test:      the same with the moving mean and variance in place of the batch statistics.
    ``decay=0.9`` and ``epsilon=1e-5`` are TensorLayer's BatchNorm defaults.
    """

    def __init__(self, num_features, decay=0.9, epsilon=1e-5, moving_var_init=1.0):
        self.decay, self.epsilon = decay, epsilon
        self.gamma, self.beta = np.ones(num_features), np.zeros(num_features)
        self.moving_mean = np.zeros(num_features)
        self.moving_var = np.full(num_features, float(moving_var_init))

    def __call__(self, x, training):
        x = np.asarray(x, dtype=float)
        if x.shape[-1] != len(self.gamma):
            raise ShapeError(f"BatchNorm: input has {x.shape[-1]} features on its last axis, "
                             f"the layer was built for {len(self.gamma)}")
        if training:
            axes = tuple(range(x.ndim - 1))
            mean, var = x.mean(axis=axes), x.var(axis=axes)
            self.moving_mean = self.decay * self.moving_mean + (1 - self.decay) * mean
            self.moving_var = self.decay * self.moving_var + (1 - self.decay) * var
        else:
            mean, var = self.moving_mean, self.moving_var
        return self.gamma * (x - mean) / np.sqrt(var + self.epsilon) + self.beta


# --- Early stopping -----------------------------------------------------------------------------

def early_stopping_run(hidden=64, n_train=10, n_val=100, noise=0.15, lr=0.02, epochs=1500,
                       patience=200, seed=0):
    """Fig 1.16 from a real training run: a 1-hidden-hidden-1 sigmoid MLP trained with Adam on
    ``n_train`` noisy points of y = 0.5 + 0.3 sin(3x) overfits; the validation loss falls, then
    rises. Training stops ``patience`` epochs after the lowest validation loss and keeps the
    weights of that epoch. Returns a :class:`dlbook.nn.optimizers.TrainingRun`
    (train_loss, val_loss per epoch, best_epoch, stopped_epoch, best_params).
    """
    curve = lambda x: 0.5 + 0.3 * np.sin(3 * x)  # noqa: E731
    x, y = validation.noisy_curve(n_train, noise, seed, func=curve, low=-1, high=1)
    x_val, y_val = validation.noisy_curve(n_val, noise, seed + 1, func=curve, low=-1, high=1)
    params = backprop.init_mlp([1, hidden, hidden, 1], seed=seed)
    return optimizers.minibatch_sgd(params, x[:, None], y[:, None], batch_size=n_train,
                                    epochs=epochs, seed=seed, X_val=x_val[:, None],
                                    Y_val=y_val[:, None], patience=patience,
                                    optimizer=optimizers.Adam(lr=lr))


# --- Image augmentation (images are (H, W) or (H, W, C) arrays) ---------------------------------

def flip_horizontal(image):
    """Mirror left-right."""
    return np.asarray(image)[:, ::-1]


def crop(image, top, left, height, width):
    """The height x width window whose top-left pixel is (top, left)."""
    image = np.asarray(image)
    if top < 0 or left < 0 or top + height > image.shape[0] or left + width > image.shape[1]:
        raise ShapeError(f"crop window {height}x{width} at ({top}, {left}) does not fit in an "
                         f"image of {image.shape[0]}x{image.shape[1]}")
    return image[top:top + height, left:left + width]


def random_crop(image, height, width, rng):
    """A height x width window at a uniformly random position (a random crop, unlike
    ``tl.prepro.crop(img, h, w, False)``, which is the centre crop)."""
    image = np.asarray(image)
    top = rng.integers(0, image.shape[0] - height + 1)
    left = rng.integers(0, image.shape[1] - width + 1)
    return crop(image, top, left, height, width)


def shift(image, dy, dx):
    """Move the content dy pixels down and dx pixels right, filling the uncovered border with 0."""
    image = np.asarray(image)
    out = np.zeros_like(image)
    h, w = image.shape[:2]
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        image[max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def resize_bilinear(image, height, width):
    """Bilinear resize with half-pixel centres: output pixel i samples the input at
    (i + 0.5) * in / out - 0.5, clamped to the image (TensorFlow 2's convention)."""
    image = np.asarray(image, dtype=float)

    def taps(n_out, n_in):
        src = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
        low = np.floor(src).astype(int)
        return low, np.minimum(low + 1, n_in - 1), src - low

    y0, y1, fy = taps(height, image.shape[0])
    x0, x1, fx = taps(width, image.shape[1])
    if image.ndim == 3:
        fy, fx = fy[:, None], fx[:, None]
    rows = image[y0] * (1 - fy[:, None]) + image[y1] * fy[:, None]
    return rows[:, x0] * (1 - fx) + rows[:, x1] * fx


def scale(image, factor):
    """Zoom by ``factor`` about the centre, keeping the size: resize to round(factor * size),
    then take the centre (factor > 1) or pad the border with 0 (factor < 1)."""
    image = np.asarray(image, dtype=float)
    h, w = image.shape[:2]
    sh, sw = max(1, round(h * factor)), max(1, round(w * factor))
    resized = resize_bilinear(image, sh, sw)
    if sh >= h and sw >= w:
        return crop(resized, (sh - h) // 2, (sw - w) // 2, h, w)
    out = np.zeros_like(image)
    top, left = (h - sh) // 2, (w - sw) // 2
    out[top:top + sh, left:left + sw] = resized
    return out
