"""
Title: 1.6 Optimization: backprop, SGD, Adam, validation
Description: backpropagation by hand exactly as in 1.6.1 checked against tf.GradientTape;
gradient descent and the learning rate (Figs 1.9, 1.10); mini-batch SGD (Algorithm 1.1); Adam
(Algorithm 1.2) step by step against tf.optimizers.Adam, and what the book's epsilon inside the
square root changes; choosing a model on validation data with a split and with k-fold
cross-validation (Fig 1.11), reporting the test error once at the end.

Prints:
- the largest difference between the hand-written gradients and GradientTape's (~1e-17);
- gradient descent on L = theta^2 from theta = 4 for learning rates 0.05, 0.3, 0.9, 1.05:
  slow, fast, oscillating, diverging;
- the MLP's training loss every 40 epochs of mini-batch SGD, falling from ~0.12 to ~0.008,
  with ~100% training accuracy on points inside/outside the unit circle;
- Adam vs tf.optimizers.Adam over 100 steps (difference below 1e-10 with epsilon = 0), and the first
  step for a gradient of 1e-4 with epsilon = 1e-8: lr * 0.9999 (paper, Keras ~0.997) versus
  lr * 0.7071 with the book's sqrt(v_hat + epsilon);
- validation MSE per polynomial degree, the degree chosen by validation and by 4-fold
  cross-validation, and the chosen model's test MSE.

Run: `dlbook run 1.6` or `python -m chapters.ch01.s1_06_optimization`.
"""
# %% [markdown]
# ## Setup
# Backpropagation, gradient descent, SGD and Adam are written out in `dlbook.nn.backprop` and
# `dlbook.nn.optimizers`; model selection is in `dlbook.nn.validation`.

# %%
import numpy as np

from dlbook.nn import backprop, optimizers, validation
from dlbook.options import add_seed_arg, make_parser


# %% [markdown]
# ## The section, step by step
# `main` follows 1.6.1 to 1.6.3:
#
# 1. **Backpropagation by hand (1.6.1).** The chain rule through a small network, layer by layer,
#    gives the same gradients as `tf.GradientTape`.
# 2. **Gradient descent and the learning rate (Figs 1.9, 1.10).** On L = theta^2 a small rate
#    creeps, a good one converges fast, a large one oscillates and one above 1 diverges.
# 3. **Mini-batch SGD (Algorithm 1.1)** trains a small MLP; its training loss falls.
# 4. **Adam (Algorithm 1.2)** written step by step matches `tf.optimizers.Adam`; where the book
#    puts epsilon (inside the square root) changes the first steps.
# 5. **Choosing a model (1.6.3, Fig 1.11).** A polynomial degree chosen on a validation split and
#    by k-fold cross-validation; the test error is looked at once, at the end.

# %%
def backprop_against_tape(args, rng, tf):
    """Backpropagation by hand (1.6.1) against tf.GradientTape."""
    params = backprop.init_mlp([3, 4, 2], seed=args.seed)
    X, Y = rng.normal(size=(5, 3)), rng.uniform(size=(5, 2))
    grads = [g for pair in backprop.backprop(params, X, Y) for g in pair]
    variables = [tf.Variable(a) for pair in params for a in pair]
    with tf.GradientTape() as tape:
        a = tf.constant(X)
        for W, b in zip(variables[::2], variables[1::2]):
            a = tf.sigmoid(a @ tf.transpose(W) + b)
        loss = tf.reduce_mean(0.5 * tf.reduce_sum((a - Y) ** 2, axis=1))
    diff = max(np.max(np.abs(g - t.numpy())) for g, t in zip(grads, tape.gradient(loss, variables)))
    print(f"3-4-2 sigmoid MLP, loss {backprop.loss(params, X, Y):.6f} (tape {loss.numpy():.6f}); "
          f"largest |dL/dW, dL/db by hand - GradientTape| = {diff:.1e}")


def gradient_descent_paths():
    """Gradient descent and the learning rate (Figs 1.9, 1.10)."""
    print("\ngradient descent on L = theta^2 from theta = 4 (theta after 0, 5, 10, 20 steps):")
    for lr, path in optimizers.learning_rate_paths([0.05, 0.3, 0.9, 1.05]).items():
        print(f"  lr = {lr:<5g}" + "".join(f"{path[t]:>10.4f}" for t in (0, 5, 10, 20)))
    path2d = optimizers.gradient_descent(optimizers.quadratic([1.0, 5.0])[1], [4.0, 1.0], 0.08, 20)
    print(f"L = theta1^2 + 5 theta2^2 from (4, 1), lr 0.08: after 20 steps "
          f"({path2d[-1, 0]:.4f}, {path2d[-1, 1]:.4f})")


def train_minibatch_sgd(args, rng):
    """Train: mini-batch SGD (Algorithm 1.1) on a small two-class problem."""
    Xc = rng.normal(size=(200, 2))
    Yc = (Xc[:, :1] ** 2 + Xc[:, 1:] ** 2 < 1.0).astype(float)
    run = optimizers.minibatch_sgd(backprop.init_mlp([2, 8, 1], seed=args.seed), Xc, Yc,
                                   lr=5.0, batch_size=20, epochs=200, seed=args.seed)
    accuracy = np.mean((backprop.predict(run.params, Xc) > 0.5) == Yc)
    print(f"\nmini-batch SGD, 2-8-1 MLP, 200 points inside/outside the unit circle, batch 20, "
          f"lr 5: loss every 40 epochs {[round(v, 4) for v in run.train_loss[::40]]} -> "
          f"{run.train_loss[-1]:.4f}, training accuracy "
          f"{accuracy:.1%}")


def adam_against_keras(tf):
    """Adam (Algorithm 1.2) against tf.optimizers.Adam."""
    lr, beta1, beta2 = 2.0 ** -10, 1 - 2.0 ** -3, 1 - 2.0 ** -10   # exact in float32, as Keras keeps them
    grad = lambda t: np.array([-2 * (1 - t[0]) - 400 * t[0] * (t[1] - t[0] ** 2),  # noqa: E731
                               200 * (t[1] - t[0] ** 2)])
    ours = optimizers.adam_path(grad, [-1.0, 1.5], 100, lr=lr, beta1=beta1, beta2=beta2, epsilon=0.0)
    var = tf.Variable([-1.0, 1.5], dtype=tf.float64)
    keras_adam = tf.optimizers.Adam(learning_rate=lr, beta_1=beta1, beta_2=beta2, epsilon=0.0)
    for _ in range(100):
        keras_adam.apply_gradients([(tf.constant(grad(var.numpy())), var)])
    print(f"\nAdam, 100 steps on the Rosenbrock function: ours {ours[-1]}, tf.optimizers.Adam "
          f"{var.numpy()}, largest difference {np.max(np.abs(ours[-1] - var.numpy())):.1e}")
    g, eps, lr = 1e-4, 1e-8, 1e-3
    paper = -optimizers.adam_path(lambda t: np.array([g]), [0.0], 1, lr=lr, epsilon=eps)[1, 0]
    book = -optimizers.adam_path(lambda t: np.array([g]), [0.0], 1, lr=lr, epsilon=eps,
                                 epsilon_inside_sqrt=True)[1, 0]
    var = tf.Variable([0.0], dtype=tf.float64)
    tf.optimizers.Adam(learning_rate=lr, epsilon=eps).apply_gradients([(tf.constant([g]), var)])
    print(f"first Adam step for a gradient of {g:g}, epsilon {eps:g}, lr {lr:g}: "
          f"paper {paper / lr:.4f} lr, Keras {-var.numpy()[0] / lr:.4f} lr, "
          f"the book's sqrt(v_hat + eps) {book / lr:.4f} lr")


def choose_degree(args):
    """Evaluate: choose a polynomial degree on validation data, report test error once."""
    x, y = validation.noisy_curve(60, noise=0.2, seed=args.seed)
    train, val, test = validation.train_val_test_split(len(x), 0.2, 0.2, seed=args.seed)
    degrees = range(1, 10)
    best, errors = validation.select_degree(x[train], y[train], x[val], y[val], degrees)
    print(f"\n{len(train)} train / {len(val)} validation / {len(test)} test points of sin(x) + noise:")
    print("  validation MSE by degree: " + ", ".join(f"{d}: {e:.4f}" for d, e in errors.items()))
    pool = np.concatenate([train, val])
    best_cv, cv_errors = validation.cross_validate(x[pool], y[pool], degrees, k=4, seed=args.seed)
    print(f"  chosen on the validation set: degree {best}; by 4-fold cross-validation: degree "
          f"{best_cv} (mean validation MSE {cv_errors[best_cv]:.4f})")
    final = validation.polynomial_fit(x[pool], y[pool], best_cv)
    print(f"  degree {best_cv} refitted on train + validation: test MSE "
          f"{validation.fit_error(final, x[test], y[test]):.4f} (noise variance 0.04)")


def main(argv=None):
    parser = make_parser(prog="dlbook run 1.6",
                         description="1.6 Optimization: backprop, SGD, Adam, validation")
    add_seed_arg(parser, "the data and the initial weights")
    args = parser.parse_args(argv)

    # ## Setup
    from dlbook.compat import tl  # noqa: F401
    import tensorflow as tf
    rng = np.random.default_rng(args.seed)

    backprop_against_tape(args, rng, tf)
    gradient_descent_paths()
    train_minibatch_sgd(args, rng)
    adam_against_keras(tf)
    choose_degree(args)
    return 0


# %% [markdown]
# ## Figs 1.9, 1.10 and 1.11
# Gradient descent on two bowls, the four learning rates and the k-fold split, drawn by
# `dlbook figures` (on the command line this cell does nothing).

# %%
if __name__ == "__main__":
    from dlbook.cli.notebook import show_figures
    show_figures("fig1_09_gradient_descent", "fig1_10_learning_rate", "fig1_11_cross_validation")

# %% [markdown]
# ## Parameters
# The section's command-line options for a notebook run, with underscores for dashes
# (`{"seed": 1}` is `--seed 1`); the command line ignores this dict and reads its own options.

# %% tags=["parameters"]
options = dict(seed=0)

# %% [markdown]
# ## Run
# Prints the gradient check, the paths for each learning rate, the SGD loss, Adam against
# TensorFlow and the degrees chosen by validation and cross-validation.

# %%
if __name__ == "__main__":
    from dlbook.cli.entry import run_section
    run_section(main)
