"""The chapter's figures of training (sections 1.5-1.8): Figures 1.9-1.13, 1.16 and 1.19, each
drawn from the numbers of the same ``dlbook.nn`` functions that the sections print. Each figure
function returns ``(figure, data)``: ``data`` holds exactly the numbers drawn."""
import numpy as np

from dlbook.plots.registry import SEED, figure
from dlbook.plots.style import fmt_point, new_figure


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
             label=f"lr = {data['2d']['lr']:g}, {len(path) - 1} steps from {fmt_point(path[0])}")
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
