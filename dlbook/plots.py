"""The chapter's computed figures, regenerated from the section code: ``dlbook figures``.

Every figure is drawn from the numbers returned by the same ``dlbook.nn`` functions that the
section modules 1.2-1.9 print (no second implementation for plotting). Each figure function
returns ``(figure, data)``: ``data`` holds exactly the numbers drawn, so tests can compare them
with the section code.

    dlbook figures                       # all figures into docs/figures/
    dlbook figures --out /tmp/figs --only fig1_19_pooling

Output is deterministic: fixed seeds, matplotlib's default style (a user's matplotlibrc is
ignored), and no software/date metadata in the PNG, so the same command twice writes the
same bytes. No display is needed: figures are rendered by the Agg canvas without pyplot.
"""
import time
from pathlib import Path

import numpy as np

from dlbook.errors import UsageError
from dlbook.options import make_parser

DEFAULT_OUT = Path("docs") / "figures"
DPI = 100
SEED = 0

# name -> (book figure number, caption, figure function); filled in book order by @figure.
FIGURES = {}


def figure(name, number, caption):
    """Register a figure function under ``name`` (also the PNG's file stem)."""
    def register(func):
        FIGURES[name] = (number, caption, func)
        return func
    return register


def figure_style():
    """matplotlib's default style with a few readable sizes, whatever the user's matplotlibrc."""
    import matplotlib.style
    return matplotlib.style.context(["default", {
        "figure.dpi": DPI, "savefig.dpi": DPI, "font.size": 10, "axes.titlesize": 11,
        "figure.titlesize": 12, "legend.fontsize": 9, "axes.grid": True, "grid.alpha": 0.3,
    }])


def new_figure(nrows=1, ncols=1, width=4.6, height=4.0, projections=None):
    """A figure of ``nrows`` x ``ncols`` axes (:func:`render` adds the title naming the book's
    figure).

    ``projections`` gives one matplotlib projection per axes (e.g. ``[None, "3d"]``).
    Returns (figure, list of axes in row order).
    """
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    projections = projections or [None] * (nrows * ncols)
    axes = [fig.add_subplot(nrows, ncols, i + 1, projection=projection)
            for i, projection in enumerate(projections)]
    return fig, axes


def save_png(fig, path):
    """Write ``fig`` to ``path`` atomically (``dlbook.files.atomic.atomic_path``).

    The PNG carries no "Software" (matplotlib version) entry, so its bytes depend on the
    drawing only.
    """
    from dlbook.files.atomic import atomic_path
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", metadata={"Software": None})
    return path


def render(name):
    """Draw one registered figure in :func:`figure_style`, titled with the book's figure
    number: returns ``(figure, data)`` (nothing is written)."""
    number, caption, draw = FIGURES[name]
    with figure_style():
        fig, data = draw()
        fig.suptitle(f"Figure {number}: {caption}")
    return fig, data


# --- drawing helpers --------------------------------------------------------------------------

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


def _fmt(values):
    return "(" + ", ".join(f"{v:.3g}" for v in np.atleast_1d(values)) + ")"


# --- the figures, in book order ---------------------------------------------------------------

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
    handles.append(Patch(color="white", label=f"intercepts $-b/w_i$ = {_fmt(intercepts)}"))
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


@figure("fig1_09_gradient_descent", "1.9",
        "gradient descent on a 1-parameter and a 2-parameter loss")
def fig_gradient_descent():
    """:func:`dlbook.nn.optimizers.gradient_descent` on the bowls of
    :func:`dlbook.nn.optimizers.quadratic`: L = θ² from θ = 4 (lr 0.1, 15 steps) and
    L = θ1² + 5 θ2² from (4, 1) (lr 0.08, 20 steps, as ``dlbook run 1.6`` prints).

    data = {"1d": {"scales", "lr", "path", "loss"}, "2d": {...}}: path has one row per step.
    """
    from dlbook.nn.optimizers import gradient_descent, quadratic
    settings = {"1d": ([1.0], [4.0], 0.1, 15), "2d": ([1.0, 5.0], [4.0, 1.0], 0.08, 20)}
    data = {}
    for key, (scales, theta0, lr, steps) in settings.items():
        loss, grad = quadratic(scales)
        path = gradient_descent(grad, theta0, lr, steps)
        data[key] = {"scales": scales, "lr": lr, "path": path,
                     "loss": np.array([loss(theta) for theta in path])}
    fig, (ax1, ax2) = new_figure(ncols=2, width=5.0, height=4.2)
    # one parameter: the path on the curve L(θ)
    theta = np.linspace(-4.5, 4.5, 300)
    loss1 = quadratic(data["1d"]["scales"])[0]
    ax1.plot(theta, [loss1([t]) for t in theta], color="gray", label="L(θ) = θ²")
    path, values = data["1d"]["path"][:, 0], data["1d"]["loss"]
    ax1.plot(path, values, "o-", color="tab:blue", markersize=4,
             label=f"θ ← θ − lr·dL/dθ, lr = {data['1d']['lr']:g}, {len(path) - 1} steps")
    ax1.annotate("start", (path[0], values[0]), xytext=(-30, 5), textcoords="offset points")
    ax1.set(xlabel="θ", ylabel="L(θ)", title="1 parameter: steps shrink with the slope")
    ax1.legend(loc="upper center", fontsize=8)
    # two parameters: the path across the contours of L(θ1, θ2)
    t1, t2 = np.meshgrid(np.linspace(-4.5, 4.5, 121), np.linspace(-2, 2, 61))
    scales = data["2d"]["scales"]
    loss2 = quadratic(scales)[0]
    surface = np.array([[loss2([a, b]) for a, b in zip(r1, r2)] for r1, r2 in zip(t1, t2)])
    contours = ax2.contour(t1, t2, surface, levels=[0.5, 1, 2, 4, 8, 16, 24], colors="gray",
                           linewidths=0.8)
    ax2.clabel(contours, fontsize=7)
    path = data["2d"]["path"]
    ax2.plot(path[:, 0], path[:, 1], "o-", color="tab:blue", markersize=4,
             label=f"lr = {data['2d']['lr']:g}, {len(path) - 1} steps from {_fmt(path[0])}")
    ax2.plot([0], [0], "*", color="tab:red", markersize=12, label="minimum")
    ax2.set(xlabel="$θ_1$", ylabel="$θ_2$", aspect="equal",
            title="2 parameters: L = " + " + ".join(
                f"{'' if s == 1 else f'{s:g}'}$θ_{i + 1}^2$" for i, s in enumerate(scales)))
    ax2.legend(loc="upper left", fontsize=8)
    return fig, data


@figure("fig1_10_learning_rate", "1.10", "small versus large learning rates")
def fig_learning_rate():
    """:func:`dlbook.nn.optimizers.learning_rate_paths` on L = θ² from θ = 4, the four learning
    rates ``dlbook run 1.6`` prints (first 10 steps). Each step multiplies θ by (1 − 2 lr).

    data = {lr: {"path", "loss", "behaviour"}}; the behaviour is read off the path.
    """
    from dlbook.nn.optimizers import learning_rate_paths, quadratic
    loss, _ = quadratic([1.0])
    paths = learning_rate_paths([0.05, 0.3, 0.9, 1.05], theta0=4.0, steps=10)
    fig, axes = new_figure(nrows=2, ncols=2, width=4.4, height=3.5)
    data = {}
    for ax, (lr, path) in zip(axes, paths.items()):
        if abs(path[-1]) > abs(path[0]):
            behaviour = "too large: diverges"
        elif np.any(np.diff(np.sign(path)) != 0):
            behaviour = "large: overshoots, oscillates"
        else:
            slow = abs(path[-1]) > 0.1 * abs(path[0])
            behaviour = "small: creeps down one side" if slow else "converges fast"
        values = np.array([loss([t]) for t in path])
        data[lr] = {"path": path, "loss": values, "behaviour": behaviour}
        reach = max(4.5, 1.1 * np.abs(path).max())
        theta = np.linspace(-reach, reach, 300)
        ax.plot(theta, [loss([t]) for t in theta], color="gray", label="L(θ) = θ²")
        ax.plot(path, values, "o-", color="tab:blue", markersize=4,
                label=f"θ after {len(path) - 1} steps: {path[-1]:.3g}")
        ax.set(xlabel="θ", ylabel="L(θ)", title=f"lr = {lr:g}: {behaviour}")
        ax.legend(loc="upper center", fontsize=8)
    return fig, data


@figure("fig1_11_cross_validation", "1.11", "4-fold cross-validation")
def fig_cross_validation():
    """The k = 4 folds of :func:`dlbook.nn.validation.k_fold_indices` over 20 samples: in
    fold i the model trains on three parts and is validated on the fourth; every sample is
    validated on exactly once. The test set is kept out of all folds.

    data = {"n", "k", "folds": [(train_idx, val_idx), ...]}.
    """
    from dlbook.nn.validation import k_fold_indices
    n, k = 20, 4
    folds = k_fold_indices(n, k)
    fig, (ax,) = new_figure(width=8.0, height=3.4)
    for row, (train, val) in enumerate(folds):
        ax.barh(row, 1, left=train, color="tab:blue", edgecolor="white",
                label="training" if row == 0 else None)
        ax.barh(row, 1, left=val, color="tab:orange", edgecolor="white",
                label="validation" if row == 0 else None)
        ax.text(n + 0.3, row, f"validate on {val.min()}–{val.max()}", va="center", fontsize=8)
    ax.set(yticks=range(k), yticklabels=[f"fold {i + 1}" for i in range(k)],
           xlim=(0, n + 4.5), ylim=(k - 0.5, -1.4), xticks=range(0, n + 1, 5),
           xlabel="sample index (training + validation data; the test set is kept apart)",
           ylabel="round of cross-validation")
    ax.grid(False)
    ax.legend(loc="upper center", ncols=2, fontsize=8)
    return fig, {"n": n, "k": k, "folds": folds}


@figure("fig1_12_overfitting", "1.12",
        "overfitting, a degree-9 polynomial versus a line")
def fig_overfitting():
    """:func:`dlbook.nn.validation.overfitting_demo`: ten noisy points on a line; the line
    generalises, the degree-9 polynomial passes through every training point and misses the
    test points.

    data = {"x", "curves": {degree: predictions at x}, "train_mse", "test_mse", and the points}.
    """
    from dlbook.nn.validation import overfitting_demo, polynomial_predict
    demo = overfitting_demo(seed=SEED)
    x = np.linspace(-1, 1, 400)
    curves = {d: polynomial_predict(coef, x) for d, coef in demo.fits.items()}
    fig, (ax,) = new_figure(width=6.8, height=4.6)
    for (degree, y), color in zip(curves.items(), ("tab:green", "tab:purple")):
        ax.plot(x, y, color=color, label=f"degree {degree}: train MSE "
                f"{demo.train_mse[degree]:.3f}, test MSE {demo.test_mse[degree]:.3f}")
    ax.scatter(demo.x_train, demo.y_train, s=50, color="black", zorder=3,
               label=f"training points ({len(demo.x_train)})")
    ax.scatter(demo.x_test, demo.y_test, s=25, facecolors="none", edgecolors="tab:red",
               zorder=3, label=f"test points ({len(demo.x_test)})")
    points = np.concatenate([demo.y_train, demo.y_test])
    margin = 0.5 * np.ptp(points)
    ax.set(xlabel="x", ylabel="y", ylim=(points.min() - margin, points.max() + margin),
           title="both fitted by least squares to the same 10 training points")
    ax.legend(loc="upper left", fontsize=8)
    return fig, {"x": x, "curves": curves, "train_mse": demo.train_mse,
                 "test_mse": demo.test_mse, "x_train": demo.x_train, "y_train": demo.y_train,
                 "x_test": demo.x_test, "y_test": demo.y_test}


@figure("fig1_13_l1_l2", "1.13",
        "L1 versus L2 regularization: where the loss contours touch the constraint region")
def fig_l1_l2():
    """:func:`dlbook.nn.regularization.constrained_minimum` for the loss |w − (2, 0.5)|² that
    ``dlbook run 1.7`` prints: the smallest loss on the unit L1 ball is at a corner, on an axis
    (w2 = 0: a sparse solution); on the unit L2 ball it is where a circle touches, with both
    weights non-zero.

    data = {"center", "A", "l1": {"point", "loss"}, "l2": {"point", "loss"}}.
    """
    from dlbook.nn.regularization import constrained_minimum
    center, A = np.array([2.0, 0.5]), np.eye(2)
    data = {"center": center, "A": A}
    fig, axes = new_figure(ncols=2, width=4.8, height=4.4)
    w1, w2 = np.meshgrid(np.linspace(-1.5, 3.0, 181), np.linspace(-1.5, 2.0, 141))
    diff = np.stack([w1 - center[0], w2 - center[1]], axis=-1)
    surface = np.einsum("...i,ij,...j->...", diff, A, diff)
    angle = np.linspace(0, 2 * np.pi, 361)
    balls = {"l1": np.array([[1, 0], [0, 1], [-1, 0], [0, -1], [1, 0]], dtype=float),
             "l2": np.stack([np.cos(angle), np.sin(angle)], axis=1)}
    for ax, norm in zip(axes, ("l1", "l2")):
        point, loss = constrained_minimum(center, A, norm)
        data[norm] = {"point": point, "loss": loss}
        name = norm.upper()
        ax.fill(*balls[norm].T, color="tab:orange", alpha=0.3,
                label=f"{name} ball: " + ("$|w_1| + |w_2|$" if norm == "l1"
                                          else "$w_1^2 + w_2^2$") + " ≤ 1")
        ax.contour(w1, w2, surface, levels=[0.25, 1, 2, 4], colors="gray", linewidths=0.8)
        ax.contour(w1, w2, surface, levels=[loss], colors="tab:blue", linewidths=1.8)
        ax.plot([], [], color="tab:blue", label=f"the loss contour that touches it (L = {loss:.3f})")
        ax.plot(*center, "*", color="black", markersize=12, label="unregularized minimum (2, 0.5)")
        ax.plot(*point, "o", color="tab:red", markersize=8,
                label=f"regularized solution ({point[0]:.3f}, {point[1]:.3f})")
        ax.axhline(0, color="gray", linewidth=0.8)
        ax.axvline(0, color="gray", linewidth=0.8)
        ax.set(xlim=(-1.5, 3.0), ylim=(-1.5, 2.0), aspect="equal", xlabel="$w_1$",
               ylabel="$w_2$", title=f"{name}: " + ("touches at a corner, $w_2$ = 0"
                                                    if norm == "l1" else "touches on the curve"))
        ax.legend(loc="lower right", fontsize=7.5)
    return fig, data


@figure("fig1_16_early_stopping", "1.16",
        "early stopping on a real training run")
def fig_early_stopping():
    """:func:`dlbook.nn.regularization.early_stopping_run`: an MLP trained with Adam on ten
    noisy points overfits; the best weights are those of the lowest validation loss, and
    training stops ``patience`` epochs later.

    data = {"epochs", "train_loss", "val_loss", "best_epoch", "stopped_epoch"}.
    """
    from dlbook.nn.regularization import early_stopping_run
    run = early_stopping_run(seed=SEED)
    epochs = np.arange(1, len(run.train_loss) + 1)
    fig, (ax,) = new_figure(width=6.4, height=4.4)
    ax.plot(epochs, run.train_loss, color="tab:blue", label="training loss")
    ax.plot(epochs, run.val_loss, color="tab:orange", label="validation loss")
    best = run.val_loss[run.best_epoch - 1]
    ax.axvline(run.best_epoch, color="black", linestyle="--",
               label=f"early-stopping point: lowest validation loss, epoch {run.best_epoch}")
    ax.plot([run.best_epoch], [best], "o", color="black")
    ax.axvline(run.stopped_epoch, color="gray", linestyle=":",
               label=f"training stopped at epoch {run.stopped_epoch} "
                     f"({run.stopped_epoch - run.best_epoch} epochs without improvement)")
    ax.set(ylim=(0, 2.5 * best), xlabel="epoch", ylabel="loss (mean of ½ squared error)",
           title="an MLP trained with Adam on 10 noisy points; 100 validation points")
    ax.legend(loc="upper right", fontsize=8)
    return fig, {"epochs": epochs, "train_loss": np.array(run.train_loss),
                 "val_loss": np.array(run.val_loss), "best_epoch": run.best_epoch,
                 "stopped_epoch": run.stopped_epoch}


@figure("fig1_19_pooling", "1.19", "2×2 max pooling and average pooling with stride 2")
def fig_pooling():
    """:data:`dlbook.nn.conv.POOLING_EXAMPLE` (4×4) pooled by :func:`dlbook.nn.conv.pool2d`
    with a 2×2 window and stride 2; each window and its output share a colour.

    data = {"input", "max", "avg"}.
    """
    from dlbook.nn.conv import POOLING_EXAMPLE, pool2d
    data = {"input": POOLING_EXAMPLE, "max": pool2d(POOLING_EXAMPLE, 2, 2, "max"),
            "avg": pool2d(POOLING_EXAMPLE, 2, 2, "avg")}
    fig, axes = new_figure(ncols=3, width=3.4, height=3.6)
    colors = np.array([[[0.65, 0.81, 0.89], [0.70, 0.87, 0.54]],
                       [[0.98, 0.60, 0.60], [0.99, 0.75, 0.44]]])
    titles = {"input": "input (4×4)", "max": "max pooling (2×2)", "avg": "average pooling (2×2)"}
    for ax, (key, values) in zip(axes, data.items()):
        block = values.shape[0] // 2
        ax.imshow(np.repeat(np.repeat(colors, block, axis=0), block, axis=1))
        for (row, col), value in np.ndenumerate(values):
            ax.text(col, row, f"{value:g}", ha="center", va="center", fontsize=14)
        ax.set(xticks=range(values.shape[1]), yticks=range(values.shape[0]), xlabel="column",
               ylabel="row", title=titles[key])
        ax.grid(False)
    return fig, data


# --- figures of recorded runs (docs/results), drawn without retraining ----------------------

#: name -> (caption, draw(directory)): figures of recorded training runs; ``dlbook figures``
#: draws each from the JSON files in its directory and skips it, saying so, when there are none.
RESULT_FIGURES = {}


def fig_cifar10_ablation(directory=None):
    """Test accuracy per epoch of the recorded CIFAR-10 ablation runs (:mod:`dlbook.results`):
    left, the tuned recipe and each technique taken out of it (seed 0) with its seeds 1 and 2
    dotted, and each added to it; right, the listing's recipe and each technique added to it.

    data = {row: test accuracy per epoch}. Raises DataError when nothing is recorded.
    """
    from dlbook.errors import DataError
    from dlbook.results import ABLATION_DIR, load_runs, summary
    runs = load_runs(directory or ABLATION_DIR)
    if not runs:
        raise DataError(f"no recorded runs in {directory or ABLATION_DIR} (scripts/cifar_ablation.py "
                        f"records them)")
    fig, axes = new_figure(ncols=2, width=6.4, height=5.0)
    by_row = {record["row"]: record for record in runs}
    colors = [f"C{k}" for k in range(10) if k != 7]  # C7 is gray: the other recipe's line
    for ax, base, other, title in zip(axes, ("tuned", "book"), ("book", "tuned"),
                                      ("the tuned recipe, one technique out or added",
                                       "the listing's recipe, one technique added")):
        variants = iter(colors)
        for record in (r for r in runs if r["base"] == base):
            acc = 100 * np.asarray(record["history"]["test_acc"])
            same_recipe = record["row"] == base or record["seed"] != 0
            ax.plot(np.arange(1, len(acc) + 1), acc, linestyle=":" if record["seed"] != 0 else "-",
                    color="black" if same_recipe else next(variants, "C7"),
                    label=f"{record['label']}: {100 * summary(record)['final']:.1f}%")
        if other in by_row:  # the other recipe, for reference
            acc = 100 * np.asarray(by_row[other]["history"]["test_acc"])
            ax.plot(np.arange(1, len(acc) + 1), acc, color="gray", linestyle="--", linewidth=1,
                    label=f"({by_row[other]['label']}: {100 * summary(by_row[other])['final']:.1f}%)")
        ax.axhline(70, color="gray", linewidth=0.6)
        ax.set(xlabel="epoch", ylabel="test accuracy (%)", title=title, ylim=(30, 82))
        if any(not line.get_label().startswith("_") for line in ax.get_lines()):
            ax.legend(loc="lower right", fontsize=7)
    fig.suptitle("CIFAR-10, the 1.10.5 CNN: 20,000 training / 10,000 test images, 30 epochs, seed 0 "
                 "(dotted: other seeds)")
    return fig, {r["row"]: np.asarray(r["history"]["test_acc"]) for r in runs}


RESULT_FIGURES["cifar10_ablation"] = ("CIFAR-10 ablation: test accuracy per epoch", fig_cifar10_ablation)


def generate_results(out_dir=DEFAULT_OUT, log=print):
    """Draw every figure of :data:`RESULT_FIGURES` that has recorded runs into ``out_dir``."""
    from dlbook.errors import DataError
    results = {}
    for name, (_, draw) in RESULT_FIGURES.items():
        try:
            with figure_style():
                fig, data = draw()
        except DataError as exc:
            if log:
                log(f"  {name}: skipped, {exc}")
            continue
        with figure_style():
            results[name] = (save_png(fig, Path(out_dir) / f"{name}.png"), data)
        if log:
            log(f"  {results[name][0]}  (from recorded runs)")
    return results


# --- writing the figures ---------------------------------------------------------------------

def generate(out_dir=DEFAULT_OUT, names=None, log=print):
    """Write the named figures (default: all) as ``<out_dir>/<name>.png``.

    Returns ``{name: (path, data)}`` with the numbers each figure drew.
    """
    results = {}
    for name in names or FIGURES:
        start = time.perf_counter()
        fig, data = render(name)
        with figure_style():   # savefig reads savefig.* settings too
            path = save_png(fig, Path(out_dir) / f"{name}.png")
        results[name] = (path, data)
        if log:
            log(f"  {path}  ({time.perf_counter() - start:.1f} s)  Figure {FIGURES[name][0]}")
    return results


def main(argv=None):
    """``dlbook figures [--out DIR] [--only NAME ...]``."""
    parser = make_parser(prog="dlbook figures",
                         description="Regenerate the chapter's computed figures as PNG files.")
    parser.add_argument("--out", default=str(DEFAULT_OUT),
                        help="output directory (relative to the current directory)")
    parser.add_argument("--only", nargs="+", metavar="NAME", default=None,
                        help="figures to draw (default: all): " + ", ".join(FIGURES))
    parser.add_argument("--list", action="store_true", help="list the figures and exit")
    args = parser.parse_args(argv)
    if args.list:
        for name, (number, caption, _) in FIGURES.items():
            print(f"  {name:<28} Figure {number:<5} {caption}")
        return 0
    unknown = [n for n in args.only or [] if n not in FIGURES]
    if unknown:
        raise UsageError(f"unknown figure(s) {', '.join(unknown)}; known: {', '.join(FIGURES)} "
                         "(see 'dlbook figures --list')")
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise UsageError(f"--out {args.out} is a file; give a directory")
    try:
        Path(args.out).mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # e.g. a path under a regular file, or no write permission
        raise UsageError(f"cannot create --out {args.out}: {exc.strerror}; give a directory you can "
                         f"write to") from None
    start = time.perf_counter()
    print(f"Writing {len(args.only or FIGURES)} figures to {args.out}/")
    generate(args.out, args.only)
    if not args.only:
        generate_results(args.out)
    print(f"Done in {time.perf_counter() - start:.1f} s")
    return 0
