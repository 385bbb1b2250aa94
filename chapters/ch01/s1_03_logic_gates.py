"""
Title: 1.3 Multilayer perceptron: logic gates and XOR
Description: perceptrons for AND, OR, NAND and NOR found by training (Fig 1.6); why no single
perceptron computes XOR or XNOR; the two-layer network of Fig 1.7 computing
XOR = AND(OR, NAND) with explicit weights; and an MLP that learns XOR from the truth table.

Prints:
- for each separable gate: the learned (w1, w2, b) and its outputs on the four inputs, all right;
- for XOR and XNOR: sum_i s_i [x_i; 1] = [0, 0, 0] (the proof that no weights work) and the
  best accuracy of any perceptron on a weight grid, 3/4;
- the Fig 1.7 network's hidden features (OR, NAND) and output, equal to XOR;
- a 2-4-1 sigmoid MLP trained by backprop + gradient descent: outputs near [0, 1, 1, 0]
  (about 0.05 / 0.95) and a final loss around 0.001.

Run: `dlbook run 1.3` or `python -m chapters.ch01.s1_03_logic_gates`.
"""
# %% [markdown]
# ## Setup
# Truth tables, the gate perceptrons and the Fig 1.7 network are in `dlbook.nn.logic_gates`; the
# small MLP trained by backpropagation is in `dlbook.nn.backprop`.

# %%
import numpy as np

from dlbook.nn import backprop, logic_gates
from dlbook.nn.perceptron import perceptron
from dlbook.options import add_seed_arg, make_parser, positive_int


# %% [markdown]
# ## The section, step by step
# `main` follows section 1.3:
#
# 1. **Separable gates (Fig 1.6).** AND, OR, NAND and NOR each have a line that splits their
#    four inputs; the perceptron rule of 1.2 finds one, and its outputs match the truth table.
# 2. **Why XOR needs more.** Summing the four inputs with signs +1/-1 taken from the XOR (or
#    XNOR) targets gives the zero vector, so for any weights the four weighted sums cancel and
#    no single perceptron can get all four cases right.
# 3. **Two layers (Fig 1.7).** With hand-set weights, a hidden layer computes OR and NAND and an
#    output unit ANDs them: that is XOR.
# 4. **Learning it.** A 2-4-1 sigmoid network trained by gradient descent on the truth table
#    reaches outputs close to 0, 1, 1, 0.

# %%
def main(argv=None):
    parser = make_parser(prog="dlbook run 1.3",
                         description="1.3 Multilayer perceptron: logic gates and XOR")
    add_seed_arg(parser, "the initial weights")
    parser.add_argument("--epochs", type=positive_int, default=2000,
                        help="gradient-descent epochs of the XOR MLP")
    args = parser.parse_args(argv)
    X = logic_gates.INPUTS
    print("inputs (x1, x2):", X.tolist())

    # ## Train: one perceptron per separable gate (Fig 1.6)
    for name, run in logic_gates.all_gate_weights(seed=args.seed).items():
        out = perceptron(X, run.w, run.b)
        ok = "correct" if np.array_equal(out, logic_gates.GATES[name]) else "WRONG"
        print(f"{name:>4}: w = {run.w}, b = {run.b:+g} -> {out.tolist()} ({ok}, "
              f"{len(run.errors)} epochs)")

    # ## XOR and XNOR are not linearly separable
    for name in ("XOR", "XNOR"):
        targets = logic_gates.GATES[name]
        print(f"{name:>4}: targets {targets.tolist()}; sum_i s_i [x_i; 1] = "
              f"{logic_gates.signed_sum(targets).tolist()} -> sum_i s_i z_i = 0 for every (w, b), "
              f"so not all four can be right; best grid perceptron gets "
              f"{logic_gates.best_single_perceptron_accuracy(targets):.0%}")

    # ## Model: the XOR network of Fig 1.7, y = AND(OR(x), NAND(x))
    hidden, out = logic_gates.xor_mlp(X)
    print("\nFig 1.7 weights:", {k: (w.tolist(), b) for k, (w, b) in logic_gates.XOR_MLP.items()})
    for x, h, y in zip(X, hidden, out):
        print(f"  x = {x.tolist()} -> (OR, NAND) = {h.tolist()} -> AND = {y}")

    # ## Train: an MLP learns XOR from the truth table
    run = logic_gates.learn_xor(epochs=args.epochs, seed=args.seed)
    outputs = backprop.predict(run.params, X)[:, 0]
    print(f"\n2-4-1 sigmoid MLP, {args.epochs} epochs of gradient descent: outputs "
          f"{np.round(outputs, 3).tolist()}, rounded {(outputs > 0.5).astype(int).tolist()}; "
          f"loss {run.train_loss[0]:.4f} -> {run.train_loss[-1]:.4f}")
    return 0


# %% [markdown]
# ## Figs 1.6 and 1.7
# The learned gate boundaries and the XOR network's two hidden boundaries, drawn by
# `dlbook figures` from the same functions (on the command line this cell does nothing).

# %%
if __name__ == "__main__":
    from dlbook.cli.notebook import show_figures
    show_figures("fig1_06_logic_gates", "fig1_07_xor_mlp")

# %% [markdown]
# ## Parameters
# The section's command-line options for a notebook run, with underscores for dashes
# (`{"epochs": 500}` is `--epochs 500`); the command line ignores this dict and reads its own options.

# %% tags=["parameters"]
options = dict(seed=0, epochs=2000)

# %% [markdown]
# ## Run
# Prints each gate's weights and outputs, the zero signed sums for XOR and XNOR, the Fig 1.7
# network's hidden features and output, and the trained MLP's outputs and loss.

# %%
if __name__ == "__main__":
    from dlbook.cli.entry import run_section
    run_section(main)
