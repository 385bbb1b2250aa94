"""
Title: 1.2 Perceptron: dense layer, bias and decision boundary
Description: z = Wx + b for one neuron and for a layer (1.1)-(1.6), the step output (1.3), the
boundary w^T x + b = 0 with and without bias, and the perceptron learning rule on a linearly
separable set.

Prints:
- z = Wx + b (1.5) for one sample through the 2-output, 3-input layer of (1.4), next to the
  per-neuron sums, whose first is exactly 0;
- the step output as (1.3) prints it, y = 1 if z > 0 and 0 if z <= 0: step(0) = 0;
- the axis intercepts of a 2-input boundary, (-b/w1, 0) and (0, -b/w2), and of a 3-input plane;
  without bias every intercept is 0 (the boundary goes through the origin);
- the perceptron rule on 100 separable points: mistakes per epoch down to 0 (within ~10 epochs),
  and the same rule without bias never reaching 0 on points whose true boundary misses the origin.

Run: `dlbook run 1.2` or `python -m chapters.ch01.s1_02_perceptron`.
"""
# %% [markdown]
# ## Setup
# The perceptron's functions live in `dlbook.nn.perceptron` (NumPy only); `dlbook figures`
# draws Fig 1.3 from the very same functions.

# %%
import numpy as np

from dlbook.nn import perceptron
from dlbook.options import add_seed_arg, make_parser


# %% [markdown]
# ## The section, step by step
# `main` walks through section 1.2 in the book's order:
#
# 1. **A layer as one product.** A dense layer computes z = Wx + b, equation (1.5); each row of
#    W gives one neuron's weighted sum, equation (1.4). The sample is picked so that the first
#    neuron's sum is exactly 0.
# 2. **The step output.** Equation (1.3) maps z to 1 when z > 0 and to 0 otherwise, so a sum of
#    exactly 0 gives 0.
# 3. **Decision boundaries (Fig 1.3).** The set w^T x + b = 0 is a line for two inputs and a plane
#    for three; its axis intercepts are -b/w_i. With b = 0 it must pass through the origin.
# 4. **The learning rule.** On 100 points that a line separates, the perceptron rule makes fewer
#    mistakes each epoch until it makes none; without a bias it cannot, because the true boundary
#    does not go through the origin.

# %%
def main(argv=None):
    parser = make_parser(prog="dlbook run 1.2",
                         description="1.2 Perceptron: dense layer, bias and decision boundary")
    add_seed_arg(parser, "the point set")
    args = parser.parse_args(argv)

    # ## Model: a dense layer z = Wx + b, (1.4)-(1.6): W in R^(2x3), 2 outputs, 3 inputs
    W = np.array([[1.0, 2.0, -1.0], [0.5, -1.0, 3.0]])
    b = np.array([0.5, -1.0])
    x = np.array([2.0, -1.0, 0.5])
    z = perceptron.dense(x, W, b)
    print(f"(1.5) z = Wx + b for x = {x.tolist()}: {z.tolist()}")
    for j in range(2):
        terms = " + ".join(f"w{j + 1}{i + 1}*x{i + 1}" for i in range(3))
        values = " + ".join(f"({W[j, i]:g})({x[i]:g})" for i in range(3))
        print(f"  (1.4) z_{j + 1} = {terms} + b{j + 1} = {values} + ({b[j]:g}) = {z[j]:g}")

    # ## Output: the step of (1.3), y = 1 if z > 0 and 0 if z <= 0
    print(f"(1.3) y = 1 if z > 0, 0 if z <= 0: y = {perceptron.step(z).tolist()} "
          f"(z_1 = 0 gives 0); on z = [-1, 0, 1]: {perceptron.step(np.array([-1.0, 0.0, 1.0])).tolist()}")

    # ## Decision boundaries (Fig 1.3)
    w2, b2 = np.array([1.0, 2.0]), -1.0
    i1, i2 = perceptron.decision_boundary_intercepts(w2, b2)
    print(f"\n2 inputs, w = {w2}, b = {b2:g}: the line crosses ({i1:g}, 0) and (0, {i2:g})")
    print("  without bias it crosses at", perceptron.decision_boundary_intercepts(w2, 0.0),
          "(through the origin)")
    w3, b3 = np.array([1.0, 2.0, 4.0]), -2.0
    print(f"3 inputs, w = {w3}, b = {b3:g}: the plane crosses the axes at",
          perceptron.decision_boundary_intercepts(w3, b3))

    # ## Data: a linearly separable set (true boundary x1 + x2 - 0.5 = 0)
    X, y = perceptron.linearly_separable_set(n=100, w=[1.0, 1.0], b=-0.5, seed=args.seed)

    # ## Train: the perceptron rule, with and without bias
    run = perceptron.train_perceptron(X, y, seed=args.seed)
    print(f"\nPerceptron rule on {len(X)} separable points: mistakes per epoch {run.errors}")
    print(f"  learned w = {np.round(run.w, 3)}, b = {run.b:.3f}; boundary intercepts "
          f"{np.round(perceptron.decision_boundary_intercepts(run.w, run.b), 3)}")
    accuracy = np.mean(perceptron.perceptron(X, run.w, run.b) == y)
    print(f"  training accuracy {accuracy:.0%}")
    no_bias = perceptron.train_perceptron(X, y, epochs=50, bias=False, seed=args.seed)
    print(f"Without bias (boundary forced through the origin): after {len(no_bias.errors)} epochs "
          f"still {no_bias.errors[-1]} mistakes per epoch (best {min(no_bias.errors)})")
    return 0


# %% [markdown]
# ## Fig 1.3
# The boundaries of the printed examples, drawn by `dlbook figures` from the same functions
# (the notebook shows it; on the command line this cell does nothing).

# %%
if __name__ == "__main__":
    from dlbook.cli.notebook import show_figures
    show_figures("fig1_03_decision_boundaries")

# %% [markdown]
# ## Parameters
# The section's command-line options for a notebook run (`{"seed": 1}` is `--seed 1`); the
# command line ignores this dict and reads its own options.

# %% tags=["parameters"]
options = dict(seed=0)

# %% [markdown]
# ## Run
# Prints (1.5) next to (1.4) with z_1 = 0, step(0) = 0, the intercepts of the line and the plane,
# then the mistakes per epoch of the rule with and without a bias.

# %%
if __name__ == "__main__":
    from dlbook.cli.entry import run_section
    run_section(main)
