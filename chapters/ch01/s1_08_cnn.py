"""
Title: 1.8 Convolutional neural networks
Description: the output-size formula (1.24) against real tf.nn.conv2d output shapes; the
convolution of Fig 1.18 (4x4x3 input, one 3x3x3 kernel, stride 1, no padding -> 2x2) by hand
against tf.nn.conv2d; the 2x2 max and average pooling of Fig 1.19 against tf.nn; and how many
parameters a convolutional layer needs compared with a dense layer over the same input.

Prints:
- a table of W, F, P, S -> (W - F + 2P)/S + 1 next to tf.nn.conv2d's output size (all equal);
- the Fig 1.18 input channels, kernel, the 2x2 output computed as window-times-kernel sums,
  and tf.nn.conv2d's output (equal);
- max pooling [[6, 8], [3, 4]] and average pooling [[3.25, 5.25], [2, 2]] of the 4x4 example;
- parameters for a 32x32x3 input: conv 5x5, 6 filters: 456; a dense layer with the same
  28x28x6 outputs: 14,455,392 (about 32,000 times more).

Run: `dlbook run 1.8` or `python -m chapters.ch01.s1_08_cnn`.
"""
# %% [markdown]
# ## Setup
# Convolution, pooling and the output-size formula are written in `dlbook.nn.conv`;
# TensorFlow's `tf.nn` is the reference.

# %%
import numpy as np

from dlbook.nn import conv
from dlbook.options import add_seed_arg, make_parser


# %% [markdown]
# ## The section, step by step
# `main` checks section 1.8's numbers:
#
# 1. **Output size (1.24).** (W - F + 2P)/S + 1 for several inputs, kernels, paddings and strides,
#    next to the shape `tf.nn.conv2d` returns.
# 2. **The convolution of Fig 1.18.** A 4x4x3 input and one 3x3x3 kernel give a 2x2 output; each
#    entry is the sum of a window times the kernel, equal to `tf.nn.conv2d`.
# 3. **Pooling (Fig 1.19).** 2x2 max and average pooling of the 4x4 example, equal to `tf.nn`.
# 4. **Parameter counts.** A convolution shares its kernel over the image, so it needs far fewer
#    weights than a dense layer producing an output of the same size.

# %%
def main(argv=None):
    parser = make_parser(prog="dlbook run 1.8",
                         description="1.8 Convolutional neural networks")
    add_seed_arg(parser, "the Fig 1.18 example values")
    args = parser.parse_args(argv)

    # ## Setup
    from dlbook.compat import tl  # noqa: F401
    import tensorflow as tf

    # ## Output size (1.24) against tf.nn.conv2d
    print(" W  F  P  S   (W-F+2P)/S+1   tf.nn.conv2d")
    for W, F, P, S in [(4, 3, 0, 1), (5, 3, 1, 1), (7, 3, 0, 2), (32, 5, 0, 1), (32, 5, 2, 1),
                       (28, 2, 0, 2), (227, 11, 0, 4), (8, 3, 1, 2)]:
        y = tf.nn.conv2d(tf.zeros((1, W, W, 1)), tf.zeros((F, F, 1, 1)), strides=S,
                         padding=[[0, 0], [P, P], [P, P], [0, 0]])
        print(f"{W:>3}{F:>3}{P:>3}{S:>3}   {conv.conv_output_size(W, F, P, S):>12}   {y.shape[1]:>12}")

    # ## Fig 1.18: a 4x4x3 input, one 3x3x3 kernel, S = 1, P = 0
    image, kernel = conv.fig_1_18_example(seed=args.seed)
    for c in range(3):
        print(f"\ninput channel {c}: {image[:, :, c].astype(int).tolist()}"
              f"\nkernel channel {c}: {kernel[:, :, c, 0].astype(int).tolist()}", end="")
    ours = conv.conv2d(image, kernel)[:, :, 0]
    oracle = tf.nn.conv2d(image[None], kernel, strides=1, padding="VALID").numpy()[0, :, :, 0]
    print(f"\noutput (by hand): {ours.astype(int).tolist()}, tf.nn.conv2d: {oracle.astype(int).tolist()}")
    print(f"  top-left = sum(input[0:3, 0:3, :] * kernel) = {np.sum(image[:3, :3] * kernel[..., 0]):g}")

    # ## Fig 1.19: 2x2 pooling with stride 2
    x = conv.POOLING_EXAMPLE
    print(f"\n4x4 input: {x.astype(int).tolist()}")
    for mode, oracle in [("max", tf.nn.max_pool2d), ("avg", tf.nn.avg_pool2d)]:
        theirs = oracle(x[None, :, :, None], ksize=2, strides=2, padding="VALID").numpy()[0, :, :, 0]
        print(f"  {mode} pooling: {conv.pool2d(x, 2, 2, mode).tolist()} (tf.nn: {theirs.tolist()})")

    # ## Parameters: convolution vs dense over a 32x32x3 input
    n_conv = conv.conv_param_count(5, 3, 6)
    out = conv.conv_output_size(32, 5)
    n_dense = conv.dense_param_count(32 * 32 * 3, out * out * 6)
    print(f"\n32x32x3 input -> {out}x{out}x6 output: conv 5x5 with 6 filters has {n_conv:,} "
          f"parameters (5*5*3*6 + 6); a dense layer with the same outputs has {n_dense:,} "
          f"({n_dense / n_conv:,.0f} times more)")
    return 0


# %% [markdown]
# ## Fig 1.19
# Max and average pooling of the 4x4 example, drawn by `dlbook figures` (on the command line
# this cell does nothing).

# %%
if __name__ == "__main__":
    from dlbook.cli.notebook import show_figures
    show_figures("fig1_19_pooling")

# %% [markdown]
# ## Parameters
# The section's command-line options for a notebook run, with underscores for dashes
# (`{"seed": 1}` is `--seed 1`); the command line ignores this dict and reads its own options.

# %% tags=["parameters"]
options = dict(seed=0)

# %% [markdown]
# ## Run
# Prints the size table, the Fig 1.18 computation, the pooled outputs and the parameter counts.

# %%
if __name__ == "__main__":
    from dlbook.cli.entry import run_section
    run_section(main)
