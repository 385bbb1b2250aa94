"""``dlbook figures``: every figure is written, not blank, titled with the book's number, drawn
from the numbers the section code (dlbook.nn) returns, and byte-for-byte reproducible."""
import os
import subprocess
import sys

import numpy as np
import pytest

from dlbook import cli, plots

BOOK_FIGURES = {"1.3", "1.6", "1.7", "1.8", "1.9", "1.10", "1.11", "1.12", "1.13", "1.16", "1.19"}


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    """Every figure rendered once and saved: {name: (figure, data, path)}."""
    out = tmp_path_factory.mktemp("figures")
    result = {}
    for name in plots.FIGURES:
        fig, data = plots.render(name)
        with plots.figure_style():
            result[name] = (fig, data, plots.save_png(fig, out / f"{name}.png"))
    return result


def _axes_lines(ax):
    return {line.get_label(): line for line in ax.get_lines()}


# --- every figure ----------------------------------------------------------------------------

def test_every_computed_figure_of_the_chapter_is_registered():
    assert {number for number, _, _ in plots.FIGURES.values()} == BOOK_FIGURES


def test_every_figure_is_written_and_not_blank(drawn):
    import matplotlib.image
    for name, (_, _, path) in drawn.items():
        assert path.name == f"{name}.png" and path.stat().st_size > 15_000, name
        gray = matplotlib.image.imread(path)[..., :3].mean(axis=-1)
        # not a blank image: real contrast, and more than a few percent of pixels not white
        assert gray.std() > 0.08, (name, gray.std())
        assert (gray < 0.9).mean() > 0.03, name


def test_titles_name_the_book_figure_and_axes_are_labelled(drawn):
    for name, (fig, _, _) in drawn.items():
        number = plots.FIGURES[name][0]
        assert fig.get_suptitle().startswith(f"Figure {number}: "), name
        for ax in fig.axes:
            assert ax.get_xlabel() and ax.get_ylabel(), (name, ax.get_title())
            if hasattr(ax, "get_zlabel"):
                assert ax.get_zlabel(), name
        if name != "fig1_19_pooling":   # the pooling figure's panels are titled instead
            assert any(ax.get_legend() for ax in fig.axes), name


def test_drawing_again_gives_the_same_bytes(drawn, tmp_path):
    names = ["fig1_19_pooling", "fig1_08_activations"]
    again = plots.generate(tmp_path, names, log=None)
    for name in names:
        assert again[name][0].read_bytes() == drawn[name][2].read_bytes(), name


def test_a_failed_write_keeps_the_previous_file(tmp_path, monkeypatch):
    from matplotlib.figure import Figure
    path = tmp_path / "fig.png"
    path.write_bytes(b"previous")

    def broken_savefig(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(OSError):
        plots.save_png(Figure(), path)
    assert path.read_bytes() == b"previous" and os.listdir(tmp_path) == ["fig.png"]


def test_readme_gallery_shows_every_committed_figure(repo_root):
    import re
    readme = (repo_root / "README.md").read_text()
    gallery = readme[readme.index("## Figures"):]
    shown = re.findall(r"!\[Figure ([\d.]+)\]\(docs/figures/(\w+)\.png\)", gallery)
    assert sorted(shown) == sorted((number, name) for name, (number, _, _) in plots.FIGURES.items())
    for _, name in shown:
        assert (repo_root / "docs" / "figures" / f"{name}.png").stat().st_size > 15_000, name


# --- the command -----------------------------------------------------------------------------

def test_cli_writes_the_chosen_figure(tmp_path, capsys):
    assert cli.main(["figures", "--out", str(tmp_path), "--only", "fig1_19_pooling"]) == 0
    assert os.listdir(tmp_path) == ["fig1_19_pooling.png"]
    assert "fig1_19_pooling.png" in capsys.readouterr().out


def test_cli_lists_figures_and_rejects_unknown_ones(tmp_path, capsys):
    assert cli.main(["figures", "--list"]) == 0
    listing = capsys.readouterr().out
    assert all(name in listing for name in plots.FIGURES)
    assert cli.main(["figures", "--out", str(tmp_path), "--only", "fig9_99"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown figure(s) fig9_99" in err[0] and "--list" in err[0]
    assert not os.listdir(tmp_path)


def test_needs_no_display_and_help_does_not_import_matplotlib(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "MPLBACKEND")}
    code = ("import sys; from dlbook import cli; cli.main(['--help']); "
            "print('HELP', 'matplotlib' in sys.modules); "
            f"from dlbook import plots; plots.generate({str(tmp_path)!r}, ['fig1_19_pooling'], "
            "log=None); print('PYPLOT', 'matplotlib.pyplot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True).stdout
    assert "HELP False" in out and "PYPLOT False" in out
    assert (tmp_path / "fig1_19_pooling.png").is_file()


# --- the numbers drawn come from the section code ----------------------------------------------

def test_fig_1_3_boundaries_cross_the_axes_at_minus_b_over_w(drawn):
    from dlbook.nn import perceptron as P
    fig, data, _ = drawn["fig1_03_decision_boundaries"]
    for n_inputs in (2, 3):
        with_bias, without = data[n_inputs]["with bias"], data[n_inputs]["without bias"]
        np.testing.assert_array_equal(with_bias["intercepts"],
                                      P.decision_boundary_intercepts(with_bias["w"], with_bias["b"]))
        np.testing.assert_array_equal(with_bias["w"], without["w"])
        assert with_bias["b"] != 0 and without["b"] == 0
        np.testing.assert_array_equal(without["intercepts"], np.zeros(n_inputs))
        # each intercept point lies on the boundary: w_i * (-b / w_i) + b = 0 (tolerance 1e-12)
        for i, x_i in enumerate(with_bias["intercepts"]):
            assert abs(with_bias["w"][i] * x_i + with_bias["b"]) < 1e-12
    # the drawn lines are w1 x1 + w2 x2 + b = 0 (tolerance 1e-12)
    for label in ("with bias", "without bias"):
        line = next(line for line in fig.axes[0].get_lines() if line.get_label().startswith(label))
        x1, x2 = line.get_data()
        run = data[2][label]
        np.testing.assert_allclose(run["w"][0] * x1 + run["w"][1] * x2 + run["b"], 0, atol=1e-12)
    marker = next(line for line in fig.axes[0].get_lines()
                  if line.get_label().startswith("intercepts"))
    np.testing.assert_array_equal(np.column_stack(marker.get_data()),
                                  [[data[2]["with bias"]["intercepts"][0], 0],
                                   [0, data[2]["with bias"]["intercepts"][1]]])


def test_fig_1_6_separable_gates_are_computed_and_xor_xnor_are_not(drawn):
    from dlbook.nn import logic_gates as G
    fig, data, _ = drawn["fig1_06_logic_gates"]
    for name in G.LINEARLY_SEPARABLE:
        run = G.train_gate(name, seed=plots.SEED)
        np.testing.assert_array_equal(data[name]["w"], run.w)
        np.testing.assert_array_equal(data[name]["outputs"], G.GATES[name])
    for ax, name in zip(fig.axes, G.GATES):
        assert ax.get_title().startswith(name)
        if name in ("XOR", "XNOR"):
            best = G.best_single_perceptron_accuracy(G.GATES[name])
            assert data[name]["best_accuracy"] == best < 1
            assert f"{best:.0%}" in ax.get_title()


def test_fig_1_7_feature_space_points_are_the_hidden_layer(drawn):
    from dlbook.nn import logic_gates as G
    fig, data, _ = drawn["fig1_07_xor_mlp"]
    hidden, output = G.xor_mlp(G.INPUTS)
    np.testing.assert_array_equal(data["hidden"], hidden)
    np.testing.assert_array_equal(data["output"], G.GATES["XOR"])
    drawn_points = np.concatenate([c.get_offsets() for c in fig.axes[1].collections
                                   if c.get_label().startswith("XOR")])
    assert sorted(map(tuple, drawn_points)) == sorted(map(tuple, hidden.astype(float)))


def test_fig_1_8_curves_are_the_activation_functions(drawn):
    from dlbook.nn.activations import ACTIVATIONS
    fig, data, _ = drawn["fig1_08_activations"]
    z = data["z"]
    curves = [line.get_ydata() for line in fig.axes[0].get_lines() if line.get_label()[0] != "_"]
    assert len(curves) == len(ACTIVATIONS)
    for curve, (func, grad) in zip(curves, ACTIVATIONS.values()):
        np.testing.assert_array_equal(curve, func(z))
    np.testing.assert_array_equal(data["derivatives"]["sigmoid"], ACTIVATIONS["sigmoid"][1](z))
    # leaky ReLU's slope left of 0 is the alpha named in the legend (tolerance 1e-12)
    np.testing.assert_allclose(data["values"]["leaky_relu"][z < 0] / z[z < 0],
                               data["leaky_alpha"], rtol=1e-12)


def test_fig_1_9_paths_are_gradient_descent_steps(drawn):
    from dlbook.nn.optimizers import gradient_descent, quadratic
    _, data, _ = drawn["fig1_09_gradient_descent"]
    for key, dim in (("1d", 1), ("2d", 2)):
        run = data[key]
        loss, grad = quadratic(run["scales"])
        assert run["path"].shape[1] == dim
        np.testing.assert_array_equal(
            run["path"], gradient_descent(grad, run["path"][0], run["lr"], len(run["path"]) - 1))
        # oracle: each step is theta - lr * (central finite-difference gradient of the loss),
        # to 1e-6 absolute (the loss is quadratic, so the difference quotient is exact up to rounding)
        h = 1e-4
        for theta, after in zip(run["path"][:-1], run["path"][1:]):
            fd = np.array([(loss(theta + h * e) - loss(theta - h * e)) / (2 * h) for e in np.eye(dim)])
            np.testing.assert_allclose(after, theta - run["lr"] * fd, atol=1e-6)
        assert np.all(np.diff(run["loss"]) < 0)      # every step goes down hill


def test_fig_1_10_small_and_large_learning_rates_behave_as_theory_says(drawn):
    from dlbook.nn.optimizers import learning_rate_paths
    fig, data, _ = drawn["fig1_10_learning_rate"]
    expected = learning_rate_paths(list(data), theta0=4.0, steps=10)
    for ax, (lr, run) in zip(fig.axes, data.items()):
        np.testing.assert_array_equal(run["path"], expected[lr])
        # on L = theta^2 each step multiplies theta by 1 - 2 lr (tolerance 1e-12)
        np.testing.assert_allclose(run["path"], 4.0 * (1 - 2 * lr) ** np.arange(11), rtol=1e-12)
        factor = 1 - 2 * lr
        if abs(factor) > 1:
            assert "diverges" in run["behaviour"]
        elif factor < 0:
            assert "oscillates" in run["behaviour"]
        else:
            assert "diverges" not in run["behaviour"] and "oscillates" not in run["behaviour"]
        assert ax.get_title() == f"lr = {lr:g}: {run['behaviour']}"
    assert min(data) < 0.5 < 1 < max(data)          # a small and a too-large rate are both shown


def test_fig_1_13_l1_touches_on_an_axis_and_l2_does_not(drawn):
    from dlbook.nn.regularization import constrained_minimum
    _, data, _ = drawn["fig1_13_l1_l2"]
    for norm, order in (("l1", 1), ("l2", 2)):
        point, loss = constrained_minimum(data["center"], data["A"], norm)
        np.testing.assert_array_equal(data[norm]["point"], point)
        assert data[norm]["loss"] == loss
        assert abs(np.linalg.norm(point, ord=order) - 1) < 1e-9    # on the ball's boundary
    assert data["l1"]["point"][1] == 0 and data["l1"]["point"][0] > 0   # a corner: sparse
    assert np.all(np.abs(data["l2"]["point"]) > 0.1)
    # L2 oracle: the closest point of the unit circle to the centre is centre / |centre|; the
    # search grid has 20000 points on the circle, so it is off by at most pi / 20000 < 2e-4
    np.testing.assert_allclose(data["l2"]["point"], data["center"] / np.linalg.norm(data["center"]),
                               atol=2e-4)


def test_fig_1_11_validation_blocks_are_the_k_folds(drawn):
    from dlbook.nn.validation import k_fold_indices
    fig, data, _ = drawn["fig1_11_cross_validation"]
    folds = k_fold_indices(data["n"], data["k"])
    ax = fig.axes[0]
    validation = next(c for c in ax.containers if c.get_label() == "validation")
    assert data["k"] == 4
    for row, (train, val) in enumerate(folds):
        np.testing.assert_array_equal(data["folds"][row][1], val)
        # the orange cells drawn in this row sit exactly at the validation indices
        row_val = [ax.containers[2 * row + 1].patches[i].get_x() for i in range(len(val))]
        np.testing.assert_array_equal(row_val, val)
    assert validation is ax.containers[1]
    all_val = np.sort(np.concatenate([val for _, val in data["folds"]]))
    np.testing.assert_array_equal(all_val, np.arange(data["n"]))   # each sample validated once


def test_fig_1_12_the_polynomial_overfits(drawn):
    from dlbook.nn.validation import polynomial_fit, polynomial_predict
    _, data, _ = drawn["fig1_12_overfitting"]
    for degree, curve in data["curves"].items():
        coef = polynomial_fit(data["x_train"], data["y_train"], degree)
        np.testing.assert_allclose(curve, polynomial_predict(coef, data["x"]), rtol=1e-9)
    assert data["train_mse"][9] < data["train_mse"][1]
    assert data["test_mse"][9] > 2 * data["test_mse"][1]


def test_fig_1_16_early_stopping_point_is_the_validation_minimum(drawn):
    from dlbook.nn.regularization import early_stopping_run
    fig, data, _ = drawn["fig1_16_early_stopping"]
    run = early_stopping_run(seed=plots.SEED)
    np.testing.assert_array_equal(data["val_loss"], run.val_loss)
    assert data["best_epoch"] == int(np.argmin(data["val_loss"])) + 1 == run.best_epoch
    assert data["stopped_epoch"] > data["best_epoch"]             # the curve rises afterwards
    assert data["train_loss"][-1] < data["train_loss"][data["best_epoch"] - 1]
    marker = next(line for line in fig.axes[0].get_lines()
                  if line.get_label().startswith("early-stopping point"))
    assert marker.get_xdata()[0] == data["best_epoch"]


def test_fig_1_19_numbers_shown_are_the_pooling_outputs(drawn):
    from dlbook.nn.conv import POOLING_EXAMPLE, pool2d
    fig, data, _ = drawn["fig1_19_pooling"]
    blocks = POOLING_EXAMPLE.reshape(2, 2, 2, 2)     # independent oracle: (row, i, col, j)
    expected = {"input": POOLING_EXAMPLE, "max": blocks.max(axis=(1, 3)),
                "avg": blocks.mean(axis=(1, 3))}
    for ax, key in zip(fig.axes, ("input", "max", "avg")):
        shown = np.zeros_like(expected[key])
        for text in ax.texts:
            col, row = text.get_position()
            shown[int(row), int(col)] = float(text.get_text())
        assert len(ax.texts) == expected[key].size
        np.testing.assert_array_equal(shown, expected[key])
        np.testing.assert_array_equal(data[key], expected[key])
    np.testing.assert_array_equal(data["max"], pool2d(POOLING_EXAMPLE, 2, 2, "max"))
