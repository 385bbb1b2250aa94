"""
Title: 1.7 Regularization
Description: L1 and L2 weight decay (1.23) and what they do to the weights; where the loss
contours touch the L1 and L2 balls (Fig 1.13); the overfitting example (Fig 1.12); dropout at
training and test time with TensorLayer's `keep`; batch normalization by hand; early stopping
on a real validation curve (Fig 1.16); image augmentation.

Prints:
- a linear regression with 20 weights of which 3 matter: L1 (lambda 0.1) sets ~17 weights to
  exactly 0, L2 none (it only shrinks them);
- the point where a loss centred at (2, 0.5) first touches each ball: a corner (1, 0) of the L1
  ball, (0.97, 0.24) on the L2 circle;
- train / test MSE of a line and a degree-9 polynomial on 10 points (the polynomial's training
  error is ~0, its test error ~10x larger);
- dropout with keep = 0.8: survivors scaled by 1.25, the average over many masks equal to x,
  test time the identity;
- batch norm: per-feature mean 0 and std 1 in training (gamma = 1, beta = 0 as initialized; in
  general mean beta and std gamma: errata bn-scale-shift), the moving averages after 50 batches
  close to the data's mean 3 and variance 4, and test-time outputs from them;
- early stopping: the epoch of the lowest validation loss (~270) and the epoch training stopped;
- flip, crop, shift and scale of a small 4x4 image.

Run: `dlbook run 1.7` or `python -m chapters.ch01.s1_07_regularization`.
"""
# %% [markdown]
# ## Setup
# Weight decay, dropout, batch normalization, early stopping and augmentation are in
# `dlbook.nn.regularization`; the overfitting example in `dlbook.nn.validation`.

# %%
import numpy as np

from dlbook.nn import regularization as reg
from dlbook.nn import validation
from dlbook.options import add_seed_arg, make_parser, positive_int


# %% [markdown]
# ## The section, step by step
# `main` goes through 1.7.1 to 1.7.5:
#
# 1. **Weight decay (1.23, 1.7.2).** On a regression where 3 of 20 weights matter, an L1 penalty
#    sets most of the others to exactly 0 while L2 only shrinks them; Fig 1.13 shows why: the
#    loss contours first touch the L1 ball at a corner.
# 2. **Overfitting (1.7.1, Fig 1.12).** A degree-9 polynomial through 10 noisy points fits them
#    exactly and misses new ones; a line does better on the test points.
# 3. **Dropout (1.7.3).** With `keep = 0.8` the kept units are scaled by 1/0.8, so the average
#    over many masks is the input, and nothing is dropped at test time.
# 4. **Batch normalization (1.7.4)** by hand: each feature with mean 0 and std 1 in training
#    (gamma = 1 and beta = 0 as initialized: errata bn-scale-shift),
#    moving averages for inference.
# 5. **Early stopping and augmentation (1.7.5, Fig 1.16).** Training stops `patience` epochs after
#    the best validation loss; flips, crops, shifts and scaling of a small image.

# %%
def weight_decay(args):
    """L1 vs L2 weight decay (1.23)."""
    X, y, w_true = reg.sparse_regression_data(n_features=20, n_informative=3, seed=args.seed)
    lam = 0.1
    w1, w2 = reg.fit_weight_decay(X, y, "l1", lam), reg.fit_weight_decay(X, y, "l2", lam)
    print(f"20 weights, 3 non-zero in truth ({np.round(w_true[:3], 3).tolist()}), lambda = {lam}:")
    print(f"  L1: {np.sum(w1 == 0)} weights exactly 0; first three {np.round(w1[:3], 3).tolist()}, "
          f"penalty {reg.l1_penalty(w1, lam):.4f}")
    print(f"  L2: {np.sum(w2 == 0)} weights exactly 0, smallest |w| {np.min(np.abs(w2)):.4f}; "
          f"first three {np.round(w2[:3], 3).tolist()}, penalty {reg.l2_penalty(w2, lam):.4f}")
    center = np.array([2.0, 0.5])
    for norm in ("l1", "l2"):
        point, loss = reg.constrained_minimum(center, np.eye(2), norm)
        print(f"  Fig 1.13: loss |w - (2, 0.5)|^2 first touches the unit {norm.upper()} ball at "
              f"({point[0]:.3f}, {point[1]:.3f}) (loss {loss:.3f})")


def overfitting(args):
    """Overfitting (Fig 1.12)."""
    demo = validation.overfitting_demo(seed=args.seed)
    for degree in demo.fits:
        print(f"degree {degree} polynomial on {len(demo.x_train)} points: train MSE "
              f"{demo.train_mse[degree]:.4f}, test MSE {demo.test_mse[degree]:.4f}")


def dropout(rng):
    """Dropout: TensorLayer's Dropout(keep=0.8) keeps a unit with probability 0.8."""
    x = np.arange(1.0, 9.0)
    out, mask = reg.dropout(x, 0.8, rng)
    mean = np.mean([reg.dropout(x, 0.8, rng)[0] for _ in range(5000)], axis=0)
    print(f"\ndropout keep=0.8 on {x.tolist()}:\n  training {out.tolist()} (kept {mask.sum()} of "
          f"{x.size}, scaled by 1/0.8)\n  mean of 5000 masks {np.round(mean, 2).tolist()}\n  "
          f"test time {reg.dropout(x, 0.8, rng, training=False)[0].tolist()}")


def batch_norm(rng):
    """Batch normalization by hand."""
    bn = reg.BatchNorm(3)
    for _ in range(50):
        batch = rng.normal(3.0, 2.0, size=(32, 3))
        normed = bn(batch, training=True)
    print(f"\nbatch norm, batches of N(3, 2^2): last training output mean "
          f"{(np.round(normed.mean(axis=0), 6) + 0.0).tolist()}, "
          f"std {np.round(normed.std(axis=0), 4).tolist()}")
    print(f"  after 50 batches (decay 0.9): moving mean {np.round(bn.moving_mean, 3).tolist()}, "
          f"moving variance {np.round(bn.moving_var, 3).tolist()}")
    test_out = bn(np.array([[3.0, 5.0, 1.0]]), training=False)[0]
    print(f"  test time, x = [3, 5, 1] -> {np.round(test_out, 3).tolist()} "
          f"(normalised with the moving statistics)")


def early_stopping(args):
    """Early stopping (Fig 1.16)."""
    run = reg.early_stopping_run(patience=args.patience, seed=args.seed)
    print(f"\nearly stopping, 1-64-64-1 MLP on 10 noisy points, Adam: validation loss lowest at epoch "
          f"{run.best_epoch} ({run.val_loss[run.best_epoch - 1]:.4f}), stopped at epoch "
          f"{run.stopped_epoch} ({run.val_loss[-1]:.4f}); training loss kept falling "
          f"({run.train_loss[run.best_epoch - 1]:.4f} -> {run.train_loss[-1]:.4f})")


def augmentation():
    """Image augmentation."""
    image = np.arange(16.0).reshape(4, 4)
    print("\nimage:", image.astype(int).tolist())
    print("  flipped:", reg.flip_horizontal(image).astype(int).tolist())
    print("  crop 2x2 at (1, 1):", reg.crop(image, 1, 1, 2, 2).astype(int).tolist())
    print("  shifted down 1, right 1:", reg.shift(image, 1, 1).astype(int).tolist())
    print("  scaled x2 about the centre:", np.round(reg.scale(image, 2.0), 2).tolist())


def main(argv=None):
    parser = make_parser(prog="dlbook run 1.7",
                         description="1.7 Regularization")
    add_seed_arg(parser, "the data and the initial weights")
    parser.add_argument("--patience", type=positive_int, default=200,
                        help="early stopping: epochs without a better validation loss")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)

    weight_decay(args)
    overfitting(args)
    dropout(rng)
    batch_norm(rng)
    early_stopping(args)
    augmentation()
    return 0


# %% [markdown]
# ## Figs 1.12, 1.13 and 1.16
# Overfitting, the L1 and L2 balls and the early-stopping curve, drawn by `dlbook figures` (on
# the command line this cell does nothing).

# %%
if __name__ == "__main__":
    from dlbook.cli.notebook import show_figures
    show_figures("fig1_12_overfitting", "fig1_13_l1_l2", "fig1_16_early_stopping")

# %% [markdown]
# ## Parameters
# The section's command-line options for a notebook run, with underscores for dashes
# (`{"patience": 50}` is `--patience 50`); the command line ignores this dict and reads its own options.

# %% tags=["parameters"]
options = dict(seed=0, patience=200)

# %% [markdown]
# ## Run
# Prints the weights zeroed by L1 and L2, the touching points, the train and test errors, the
# dropout and batch-norm checks, the early-stopping epochs and the augmented images.

# %%
if __name__ == "__main__":
    from dlbook.cli.entry import run_section
    run_section(main)
