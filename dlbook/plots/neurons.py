"""The chapter's figures of neurons (sections 1.2-1.4): Figures 1.3, 1.6, 1.7 and 1.8, each drawn
from the numbers of the same ``dlbook.nn`` functions that the sections print. Each figure function
returns ``(figure, data)``: ``data`` holds exactly the numbers drawn."""
import numpy as np

from dlbook.plots.registry import SEED, figure
from dlbook.plots.style import fmt_point, new_figure


#: Marker style of the two classes (target or output 0 / 1) in every 2-D input-space plot.
CLASS_STYLE = {0: dict(marker="s", color="tab:red"), 1: dict(marker="o", color="tab:blue")}


def _scatter_classes(ax, X, y, size=60, names=("output 0", "output 1"), **kwargs):
    """Points of X (2 columns) coloured by their class y in {0, 1}, one legend entry per class."""
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    for label in (0, 1):
        ax.scatter(X[y == label, 0], X[y == label, 1], s=size, label=names[label],
                   edgecolors="black", linewidths=0.5, zorder=3, **CLASS_STYLE[label], **kwargs)


def _shade_perceptron(ax, w, b, lim):
    """Shade where the perceptron step(w^T x + b) outputs 1 (blue) and 0 (red) over lim x lim."""
    from dlbook.nn.perceptron import perceptron
    grid = np.linspace(lim[0], lim[1], 301)
    x1, x2 = np.meshgrid(grid, grid)
    outputs = perceptron(np.stack([x1.ravel(), x2.ravel()], axis=1), w, b).reshape(x1.shape)
    ax.contourf(x1, x2, outputs, levels=[-0.5, 0.5, 1.5], colors=["tab:red", "tab:blue"],
                alpha=0.12)


def _equation(w, b, names=("x_1", "x_2")):
    """The boundary w1 a + w2 b + bias = 0 as readable mathtext, e.g. "$x_1 + x_2 - 1.5 = 0$"."""
    text = ""
    for coef, name in zip(list(w) + [b], list(names) + [""]):
        if coef == 0 and (name or text):
            continue
        sign = "-" if coef < 0 else ("+" if text else "")
        size = "" if abs(coef) == 1 and name else f"{abs(coef):.3g}"
        text += f" {sign} {size}{name}" if text else f"{sign}{size}{name}"
    return f"${text} = 0$"



@figure("fig1_03_decision_boundaries", "1.3",
        "a neuron's decision boundary w·x + b = 0, with and without bias")
def fig_decision_boundaries():
    """The examples printed by ``dlbook run 1.2``: with two inputs the boundary is a line, with
    three a plane, crossing axis i at -b/w_i (:func:`decision_boundary_intercepts`); without
    bias (b = 0) it is the parallel line or plane through the origin.

    data[n_inputs][label] = {"w", "b", "intercepts"}, label in ("with bias", "without bias").
    """
    from matplotlib.patches import Patch
    from dlbook.nn import perceptron as P
    examples = {2: (np.array([1.0, 2.0]), -1.0), 3: (np.array([1.0, 2.0, 4.0]), -2.0)}
    data = {n: {label: {"w": w, "b": bias, "intercepts": P.decision_boundary_intercepts(w, bias)}
                for label, bias in (("with bias", b), ("without bias", 0.0))}
            for n, (w, b) in examples.items()}
    colors = {"with bias": "black", "without bias": "tab:purple"}
    fig, (ax2, ax3) = new_figure(ncols=2, width=5.0, height=4.8, projections=[None, "3d"])
    # two inputs: the line x2 = -(w1 x1 + b) / w2; shaded where step(w.x + b) = 1
    lim = (-1.5, 2.5)
    _shade_perceptron(ax2, data[2]["with bias"]["w"], data[2]["with bias"]["b"], lim)
    x1 = np.array(lim)
    for label, run in data[2].items():
        ax2.plot(x1, P.boundary_x2(run["w"], run["b"], x1), color=colors[label],
                 linestyle="-" if label == "with bias" else "--",
                 label=f"{label}: {_equation(run['w'], run['b'])}")
    i1, i2 = data[2]["with bias"]["intercepts"]
    ax2.plot([i1, 0], [0, i2], "D", color="black",
             label=f"intercepts $(-b/w_1, 0)$ = ({i1:g}, 0), $(0, -b/w_2)$ = (0, {i2:g})")
    ax2.plot([0], [0], "o", color="tab:purple", label="origin (no bias: always on it)")
    ax2.axhline(0, color="gray", linewidth=0.8)
    ax2.axvline(0, color="gray", linewidth=0.8)
    ax2.set(xlim=lim, ylim=lim, aspect="equal", xlabel="$x_1$", ylabel="$x_2$",
            title="2 inputs: a line (blue side: output 1)")
    ax2.legend(loc="upper right", fontsize=7.5)
    # three inputs: the plane x3 = -(w1 x1 + w2 x2 + b) / w3
    g1, g2 = np.meshgrid(np.linspace(-0.5, 2.5, 13), np.linspace(-0.5, 1.5, 9))
    for label, run in data[3].items():
        ax3.plot_surface(g1, g2, P.boundary_x3(run["w"], run["b"], g1, g2),
                         color=colors[label], alpha=0.25, linewidth=0)
    intercepts = data[3]["with bias"]["intercepts"]
    corners = np.diag(intercepts)
    ax3.plot(*np.vstack([corners, corners[:1]]).T, color="black")   # the plane in the octant
    ax3.scatter(*corners.T, marker="D", color="black", s=30, depthshade=False)
    ax3.scatter([0], [0], [0], color="tab:purple", s=30, depthshade=False)
    handles = [Patch(color=colors[label], alpha=0.4,
                     label=f"{label}: {_equation(run['w'], run['b'], ('x_1', 'x_2', 'x_3'))}")
               for label, run in data[3].items()]
    handles.append(Patch(color="white", label=f"intercepts $-b/w_i$ = {fmt_point(intercepts)}"))
    ax3.legend(handles=handles, loc="upper left", fontsize=7.5)
    ax3.set(xticks=[0, 1, 2], yticks=[0, 1], zticks=[-1, 0, 1], xlabel="$x_1$",
            ylabel="$x_2$", zlabel="$x_3$", title="3 inputs: a plane")
    ax3.view_init(elev=18, azim=-50)
    ax3.set_box_aspect(None, zoom=0.85)   # room for the z label
    return fig, data


@figure("fig1_06_logic_gates", "1.6",
        "AND, OR, NAND, NOR are linearly separable; XOR and XNOR are not")
def fig_logic_gates():
    """Each separable gate with the boundary of the perceptron trained on its truth table
    (shaded where the perceptron outputs 1); XOR and XNOR with the best accuracy any
    perceptron on a weight grid reaches.

    data[gate] = {"w", "b", "outputs"} for the separable gates, {"best_accuracy"} otherwise.
    """
    from dlbook.nn import logic_gates as G
    from dlbook.nn.perceptron import boundary_x2, perceptron
    fig, axes = new_figure(nrows=2, ncols=3, width=3.6, height=3.5)
    runs, data, lim = G.all_gate_weights(seed=SEED), {}, (-0.5, 1.5)
    for ax, name in zip(axes, G.GATES):
        targets = G.GATES[name]
        if name in G.LINEARLY_SEPARABLE:
            w, b = runs[name].w, runs[name].b
            data[name] = {"w": w, "b": b, "outputs": perceptron(G.INPUTS, w, b)}
            _shade_perceptron(ax, w, b, lim)
            x1 = np.array(lim)
            ax.plot(x1, boundary_x2(w, b, x1), color="black",
                    label=_equation(w, b) + " (on it: output 0)")
            ax.set_title(f"{name}: separated")
        else:
            best = G.best_single_perceptron_accuracy(targets)
            data[name] = {"best_accuracy": best}
            ax.set_title(f"{name}: no line separates\n(best perceptron: {best:.0%} right)")
        _scatter_classes(ax, G.INPUTS, targets, size=90, names=(f"{name} = 0", f"{name} = 1"))
        ax.set(xlim=lim, ylim=lim, xticks=[0, 1], yticks=[0, 1], xlabel="$x_1$", ylabel="$x_2$",
               aspect="equal")
        ax.legend(loc="upper right", fontsize=7)
    return fig, data


@figure("fig1_07_xor_mlp", "1.7",
        "XOR = AND(OR, NAND): not separable in input space, separable in feature space")
def fig_xor_mlp():
    """Left: the XOR inputs with the boundaries of the two hidden perceptrons (OR, NAND) of the
    book's network. Right: the same four inputs mapped to (h1, h2) = (OR, NAND), where the
    output perceptron (AND) separates them with one line.

    data = {"inputs", "hidden", "output", "targets"}.
    """
    from dlbook.nn import logic_gates as G
    from dlbook.nn.perceptron import boundary_x2
    fig, (ax_in, ax_h) = new_figure(ncols=2, width=4.8, height=4.6)
    targets = G.GATES["XOR"]
    hidden, output = G.xor_mlp(G.INPUTS)
    lim, x1 = (-0.5, 1.5), np.array([-0.5, 1.5])
    for (name, (w, b)), style in zip(G.XOR_MLP.items(), ("--", ":", "-")):
        ax = ax_h if name == "AND" else ax_in
        names = ("h_1", "h_2") if name == "AND" else ("x_1", "x_2")
        ax.plot(x1, boundary_x2(w, b, x1), style, color="black",
                label=f"{'output' if name == 'AND' else 'hidden'} {name}: {_equation(w, b, names)}")
    _shade_perceptron(ax_h, *G.XOR_MLP["AND"], lim)
    _scatter_classes(ax_in, G.INPUTS, targets, size=90, names=("XOR 0", "XOR 1"))
    _scatter_classes(ax_h, hidden, targets, size=90, names=("XOR 0", "XOR 1"))
    for point in G.INPUTS:
        ax_in.annotate(f"({point[0]}, {point[1]})", point, xytext=(8, -14),
                       textcoords="offset points")
    for h in np.unique(hidden, axis=0):
        sources = [f"({p[0]}, {p[1]})" for p, hp in zip(G.INPUTS, hidden) if (hp == h).all()]
        ax_h.annotate("from " + ", ".join(sources), h, xytext=(0, 12),
                      textcoords="offset points", ha="center")
    ax_in.set(xlim=lim, ylim=lim, aspect="equal", xlabel="$x_1$", ylabel="$x_2$",
              title="input space")
    ax_h.set(xlim=lim, ylim=lim, aspect="equal", xlabel="$h_1$ = OR($x_1$, $x_2$)",
             ylabel="$h_2$ = NAND($x_1$, $x_2$)", title="feature space of the hidden layer")
    for ax in (ax_in, ax_h):
        ax.legend(loc="upper right", fontsize=7)
    return fig, {"inputs": G.INPUTS, "hidden": hidden, "output": output, "targets": targets}


@figure("fig1_08_activations", "1.8", "activation functions and their derivatives")
def fig_activations():
    """sigmoid, tanh, ReLU and leaky ReLU (left) and their derivatives (right) on [-5, 5].

    data = {"z", "values": {name: f(z)}, "derivatives": {name: f'(z)}, "leaky_alpha"}.
    """
    import inspect
    from dlbook.nn.activations import ACTIVATIONS, leaky_relu
    alpha = inspect.signature(leaky_relu).parameters["alpha"].default
    labels = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU",
              "leaky_relu": f"leaky ReLU (α = {alpha:g})"}
    fig, (ax_f, ax_d) = new_figure(ncols=2, width=4.8, height=4.0)
    z = np.linspace(-5, 5, 1001)
    data = {"z": z, "values": {}, "derivatives": {}, "leaky_alpha": alpha}
    styles = {"relu": dict(linewidth=3.5, alpha=0.6), "leaky_relu": dict(linestyle="--")}
    for name, (func, grad) in ACTIVATIONS.items():
        data["values"][name], data["derivatives"][name] = func(z), grad(z)
        ax_f.plot(z, data["values"][name], label=labels[name], **styles.get(name, {}))
        ax_d.plot(z, data["derivatives"][name], label=labels[name], **styles.get(name, {}))
    ax_f.set(xlabel="z", ylabel="f(z)", ylim=(-1.5, 2.5), title="activation f(z)")
    ax_d.set(xlabel="z", ylabel="f'(z)", ylim=(-0.1, 1.1), title="derivative f'(z)")
    for ax in (ax_f, ax_d):
        ax.axhline(0, color="gray", linewidth=0.8)
        ax.axvline(0, color="gray", linewidth=0.8)
        ax.legend(loc="upper left")
    return fig, data
