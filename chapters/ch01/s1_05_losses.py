"""
Title: 1.5 Loss functions
Description: KL divergence (1.13), cross-entropy (1.14-1.16; binary and multi-class, from
probabilities and from logits), the Lp norm and Lp loss (1.17-1.18), MSE (1.19) and MAE (1.20),
each computed from its formula and next to TensorFlow's / TensorLayer's value.

Prints (for one small fixed example):
- KL(p || q) and KL(q || p) (not symmetric), H(p, q) = H(p) + KL(p || q);
- binary and categorical cross-entropy from probabilities and from logits, with
  tf.nn.*_cross_entropy_with_logits and tl.cost.cross_entropy alongside (equal to ~1e-7);
- logits [1000, 0, -1000] with target class 3: the probability form gives inf, the logit form
  2000 (= TensorFlow's);
- ||x||_1, ||x||_2, ||x||_inf (1.17) against tf.norm; the Lp loss as (1.18) prints it,
  ||y - y_hat||_p^p = sum_i |y_i - y_hat_i|^p (no root, a sum: 3, 2.5 and 2.25 for p = 1, 2, 3),
  against tf.norm(...)**p; MSE = L_2 / n and MAE = L_1 / n against Keras and tl.cost (whose
  default mean_squared_error sums over the features).

Run: `dlbook run 1.5` or `python -m chapters.ch01.s1_05_losses`.
"""
# %% [markdown]
# ## Setup
# The losses of section 1.5 are written from their equations in `dlbook.nn.losses`.

# %%
import numpy as np

from dlbook.nn import losses
from dlbook.nn.activations import sigmoid, softmax
from dlbook.options import make_parser


# %% [markdown]
# ## The section, step by step
# `main` computes each loss of section 1.5 on one small example and puts TensorFlow's or
# TensorLayer's value beside it:
#
# 1. **KL divergence (1.13) and cross-entropy (1.14).** KL is not symmetric, and the
#    cross-entropy of p and q is the entropy of p plus KL(p || q).
# 2. **Binary (1.15) and multi-class (1.16) cross-entropy**, from probabilities and from logits;
#    on extreme logits, the probability form overflows where the logit form stays finite.
# 3. **Norms and distances (1.17)-(1.20).** The L1, L2 and max norms, the Lp loss as (1.18)
#    writes it, mean squared error (1.19) and mean absolute error (1.20).

# %%
def cross_entropies(tl, tf, logits, labels, onehot, y_bin, z_bin):
    """Cross-entropy, binary (1.15) and multi-class (1.16)."""
    print(f"\nbinary CE, y = {y_bin.ravel().tolist()}, z = {z_bin.ravel().tolist()}:")
    print(f"  from probabilities {losses.binary_cross_entropy(y_bin, sigmoid(z_bin)):.6f}, "
          f"from logits {losses.binary_cross_entropy_with_logits(y_bin, z_bin):.6f}, "
          f"tf.nn {tf.nn.sigmoid_cross_entropy_with_logits(y_bin, z_bin).numpy().mean():.6f}")
    print(f"categorical CE, labels {labels.tolist()}:")
    print(f"  from probabilities {losses.categorical_cross_entropy(onehot, softmax(logits)):.6f}, "
          f"from logits {losses.categorical_cross_entropy_with_logits(onehot, logits):.6f}, "
          f"tf.nn {tf.nn.softmax_cross_entropy_with_logits(onehot, logits).numpy().mean():.6f}, "
          f"tl.cost.cross_entropy "
          f"{tl.cost.cross_entropy(tf.constant(logits, tf.float32), tf.constant(labels)).numpy():.6f}")
    big, target = np.array([[1000.0, 0.0, -1000.0]]), np.array([[0.0, 0.0, 1.0]])
    with np.errstate(divide="ignore"):
        from_probs = losses.categorical_cross_entropy(target, softmax(big))
    print(f"  logits {big[0].tolist()}, class 3: from probabilities {from_probs}, from logits "
          f"{losses.categorical_cross_entropy_with_logits(target, big):g}, tf.nn "
          f"{tf.nn.softmax_cross_entropy_with_logits(target, big).numpy()[0]:g}")


def norms_and_regression_losses(tl, tf, y, y_hat):
    """Lp norm (1.17), Lp loss (1.18), MSE (1.19), MAE (1.20)."""
    x = (y - y_hat).ravel()
    print(f"\nx = y - y_hat = {x.tolist()}; (1.17) ||x||_p = (sum_i |x_i|^p)^(1/p)")
    for order in (1, 2, np.inf):
        print(f"  ||x||_{order:g} = {losses.lp_norm(x, order):.6f} "
              f"(tf.norm {tf.norm(x, ord=order).numpy():.6f})")
    for order in (1, 2, 3):
        oracle = tf.norm(x, ord=order).numpy() ** order
        print(f"  (1.18) L_{order} = ||y - y_hat||_{order}^{order} = sum_i |y_i - y_hat_i|^{order} = "
              f"{losses.lp_loss(y, y_hat, order):.6f} (tf.norm(x, ord={order})**{order} {oracle:.6f})")
    out, tgt = tf.constant(y_hat, tf.float32), tf.constant(y, tf.float32)
    keras_mse = tf.keras.losses.MeanSquaredError()(y, y_hat).numpy()
    keras_mae = tf.keras.losses.MeanAbsoluteError()(y, y_hat).numpy()
    print(f"(1.19) MSE = L_2 / n = {losses.lp_loss(y, y_hat, 2):g} / {y.size}; (1.20) MAE = L_1 / n = "
          f"{losses.lp_loss(y, y_hat, 1):g} / {y.size}")
    print(f"MSE {losses.mse(y, y_hat):.6f} (Keras {keras_mse:.6f}, tl.cost is_mean=True "
          f"{tl.cost.mean_squared_error(out, tgt, is_mean=True).numpy():.6f}, tl.cost default "
          f"{tl.cost.mean_squared_error(out, tgt).numpy():.6f} = sum over features)")
    print(f"MAE {losses.mae(y, y_hat):.6f} (Keras {keras_mae:.6f}, tl.cost is_mean=True "
          f"{tl.cost.absolute_difference_error(out, tgt, is_mean=True).numpy():.6f})")


def main(argv=None):
    parser = make_parser(prog="dlbook run 1.5",
                         description="1.5 Loss functions")
    parser.parse_args(argv)

    # ## Setup
    from dlbook.compat import tl
    import tensorflow as tf

    # ## Data: two distributions, a batch of logits with labels, a regression batch
    p, q = np.array([[0.7, 0.2, 0.1]]), np.array([[0.4, 0.4, 0.2]])
    logits = np.array([[2.0, 1.0, -1.0], [0.5, 2.5, 0.0]])
    labels = np.array([0, 2])
    onehot = np.eye(3)[labels]
    y_bin, z_bin = np.array([[1.0], [0.0], [1.0]]), np.array([[2.0], [-1.0], [-0.5]])
    y, y_hat = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.5, 1.0], [2.0, 4.5]])

    # ## KL divergence and cross-entropy (1.13)-(1.14)
    print(f"p = {p[0].tolist()}, q = {q[0].tolist()}")
    print(f"  KL(p||q) = {losses.kl_divergence(p, q):.6f}, KL(q||p) = {losses.kl_divergence(q, p):.6f}"
          f" (Keras: {tf.keras.losses.KLDivergence()(p, q).numpy():.6f})")
    print(f"  H(p,q) = {losses.cross_entropy(p, q):.6f} = H(p) + KL(p||q) = "
          f"{losses.entropy(p):.6f} + {losses.kl_divergence(p, q):.6f}")

    cross_entropies(tl, tf, logits, labels, onehot, y_bin, z_bin)
    norms_and_regression_losses(tl, tf, y, y_hat)
    return 0


# %% [markdown]
# ## Parameters
# This section has no options of its own (`options` stays empty); the command line ignores
# this dict and reads its own options.

# %% tags=["parameters"]
options = {}

# %% [markdown]
# ## Run
# Prints each loss next to the library's value.

# %%
if __name__ == "__main__":
    from dlbook.cli.entry import run_section
    run_section(main)
