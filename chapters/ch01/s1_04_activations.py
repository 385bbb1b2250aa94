"""
Title: 1.4 Activation functions
Description: sigmoid, tanh, ReLU, leaky ReLU, PReLU and softmax with their derivatives, written
from their formulas and compared with TensorFlow's own ops.

Prints:
- a table of each activation and its derivative at z = -3, -1, 0, 1, 3
  (sigmoid(0) = 0.5 with slope 0.25, tanh'(0) = 1, ReLU'(-1) = 0, leaky ReLU'(-1) = alpha);
- the largest difference from tf.nn.* and tf.GradientTape derivatives (float64: ~1e-16);
- PReLU's trainable slope: d output / d alpha = min(0, z), against the tape;
- softmax of [1000, 1001, 1002]: the formula as written gives nan, the max-shifted one gives
  [0.090, 0.245, 0.665], equal to tf.nn.softmax.

Run: `dlbook run 1.4` or `python -m chapters.ch01.s1_04_activations`.
"""
# %% [markdown]
# ## Setup
# Each activation and its derivative is written from its formula in `dlbook.nn.activations`
# (NumPy); TensorFlow is only the reference they are checked against.

# %%
import numpy as np

from dlbook.nn import activations as act
from dlbook.options import finite_float, make_parser


# %% [markdown]
# ## The section, step by step
# `main` covers the activations of section 1.4:
#
# 1. **A table.** sigmoid, tanh, ReLU and leaky ReLU (and the others of the module) with their
#    derivatives at a few points, so the saturation of sigmoid and tanh and the kink of ReLU at 0
#    can be read off.
# 2. **Against TensorFlow.** The same functions from `tf.nn` and their derivatives from
#    `tf.GradientTape`, in float64: the differences are at rounding level.
# 3. **PReLU.** Its slope is a trainable weight; the derivative of the output with respect to
#    it is min(0, z), checked against the tape.
# 4. **Softmax overflow.** On large logits, the formula as written overflows to nan; subtracting
#    the largest logit first gives the same probabilities without overflow.

# %%
def main(argv=None):
    parser = make_parser(prog="dlbook run 1.4",
                         description="1.4 Activation functions")
    parser.add_argument("--alpha", type=finite_float, default=0.2, help="leaky ReLU slope for z < 0")
    args = parser.parse_args(argv)

    # ## Setup
    from dlbook.compat import tl  # noqa: F401
    import tensorflow as tf

    z = np.array([-3.0, -1.0, 0.0, 1.0, 3.0])
    print("z:" + "".join(f"{v:>9g}" for v in z))
    for name, (func, grad) in act.ACTIVATIONS.items():
        kwargs = {"alpha": args.alpha} if name == "leaky_relu" else {}
        print(f"{name:>12}  f:" + "".join(f"{v:9.4f}" for v in func(z, **kwargs)))
        print(f"{'':>12} f':" + "".join(f"{v:9.4f}" for v in grad(z, **kwargs)))

    # ## Evaluate: against TensorFlow (float64)
    zs = tf.constant(np.linspace(-6, 6, 121))
    oracles = {"sigmoid": tf.nn.sigmoid, "tanh": tf.nn.tanh, "relu": tf.nn.relu,
               "leaky_relu": lambda t: tf.nn.leaky_relu(t, alpha=args.alpha)}
    print("\nlargest |ours - TensorFlow| on 121 points in [-6, 6]:")
    for name, oracle in oracles.items():
        func, grad = act.ACTIVATIONS[name]
        kwargs = {"alpha": args.alpha} if name == "leaky_relu" else {}
        with tf.GradientTape() as tape:
            tape.watch(zs)
            y = oracle(zs)
        value_err = np.max(np.abs(func(zs.numpy(), **kwargs) - y.numpy()))
        grad_err = np.max(np.abs(grad(zs.numpy(), **kwargs) - tape.gradient(y, zs).numpy()))
        note = "  (tf.nn.leaky_relu rounds alpha to float32)" if name == "leaky_relu" else ""
        print(f"  {name:>10}: value {value_err:.1e}, derivative {grad_err:.1e}{note}")

    alpha = tf.Variable(0.25, dtype=tf.float64)
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.where(zs > 0, zs, alpha * zs))
    print(f"PReLU: d sum(prelu(z)) / d alpha = {act.prelu_grad_alpha(zs.numpy()).sum():.4f} "
          f"(tape: {tape.gradient(y, alpha).numpy():.4f}); alpha is learned with the weights")

    big = np.array([1000.0, 1001.0, 1002.0])
    print(f"\nsoftmax({big.tolist()}): as written {act.softmax_naive(big)}, "
          f"shifted by max {np.round(act.softmax(big), 4)}, "
          f"tf.nn.softmax {np.round(tf.nn.softmax(big).numpy(), 4)}")
    return 0


# %% [markdown]
# ## Fig 1.8
# The activations and their derivatives, drawn by `dlbook figures` (on the command line this
# cell does nothing).

# %%
if __name__ == "__main__":
    from dlbook.cli.notebook import show_figures
    show_figures("fig1_08_activations")

# %% [markdown]
# ## Parameters
# The section's command-line options for a notebook run, with underscores for dashes
# (`{"alpha": 0.1}` is `--alpha 0.1`); the command line ignores this dict and reads its own options.

# %% tags=["parameters"]
options = dict(alpha=0.2)

# %% [markdown]
# ## Run
# Prints the table, the largest differences from TensorFlow, the PReLU check and the softmax of
# large logits both ways.

# %%
if __name__ == "__main__":
    from dlbook.cli.entry import run_section
    run_section(main)
