"""Training curves (dlbook.plots.curves): `dlbook plot RUN_DIR` draws a run of each training
section (1.10.4, 1.10.5, 1.10.6, on the tiny data) from its run.json, into RUN_DIR/curves.png."""
import json

import pytest

from dlbook.cli import main as dlbook
from dlbook.plots import curves

PNG = b"\x89PNG\r\n\x1a\n"
RUNS = {   # section -> quick options; two epochs so that each curve is a line
    "1.10.4": ["--epochs", "2"],
    "1.10.5": ["--epochs", "2"],
    "1.10.6": ["--epochs", "2", "--max-pairs", "40", "--n-layer", "1", "--n-units", "32", "--emb-dim", "32"],
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One short run of each training section on the tiny data: {section: run directory}."""
    root = tmp_path_factory.mktemp("runs")
    (root / "no-real-data").mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DLBOOK_DATA_DIR", str(root / "no-real-data"))
        for section, options in RUNS.items():
            assert dlbook(["run", section, *options, "--output-dir", str(root / section)]) == 0
    return {section: root / section for section in RUNS}


@pytest.mark.slow
@pytest.mark.parametrize("section", RUNS)
def test_dlbook_plot_draws_the_recorded_history(section, runs, capsys):
    run_dir = runs[section]
    assert dlbook(["plot", str(run_dir)]) == 0
    png = run_dir / curves.CURVES_NAME
    assert png.read_bytes().startswith(PNG) and f"curves written to {png}" in capsys.readouterr().out
    with open(run_dir / "run.json", encoding="utf-8") as f:   # the record, read here on its own
        history = json.load(f)["history"]
    _, data = curves.render_run(run_dir)
    assert data == {key: history[key] for key in data}
    assert set(data) >= {"loss"} and all(len(values) == 2 for values in data.values())
    held_out = {"1.10.4": "val_", "1.10.5": "test_", "1.10.6": None}[section]
    if held_out:   # loss and accuracy, on the training data and the held-out data
        assert set(data) == {"loss", "acc", held_out + "loss", held_out + "acc"}


def test_draw_curves_one_panel_per_metric_one_line_per_split():
    history = {"loss": [2.0, 1.0, 0.5], "acc": [0.3, 0.6, 0.8], "val_loss": [2.1, 1.2, 0.9],
               "val_acc": [0.2, 0.5, 0.7], "lr": [0.1, 0.1, 0.1], "time": [1.0, 1.0, 1.0]}
    fig, data = curves.draw_curves(history, "a run")
    loss_ax, acc_ax = fig.axes
    assert [line.get_label() for line in loss_ax.get_lines()] == ["train", "validation"]
    assert list(acc_ax.get_lines()[1].get_ydata()) == [0.2, 0.5, 0.7]
    assert list(loss_ax.get_lines()[0].get_xdata()) == [1, 2, 3]
    assert set(data) == {"loss", "acc", "val_loss", "val_acc"}


@pytest.mark.slow
def test_plot_refuses_what_is_not_a_finished_run(tmp_path, runs, capsys):
    assert dlbook(["plot", str(tmp_path / "nowhere")]) == 2
    assert "not a directory" in capsys.readouterr().err
    assert dlbook(["plot", str(tmp_path)]) == 2
    assert "holds no dlbook run" in capsys.readouterr().err
    snapshot = tmp_path / "snapshots" / "000001"
    snapshot.mkdir(parents=True)
    (tmp_path / "current").symlink_to("snapshots/000001")
    with open(runs["1.10.4"] / "run.json", encoding="utf-8") as f:
        record = json.load(f)
    record["history"]["loss"] = ["x", "y"]
    (snapshot / "run.json").write_text(json.dumps(record), encoding="utf-8")
    assert dlbook(["plot", str(tmp_path)]) == 1
    assert "run.json" in capsys.readouterr().err
    record["history"], record["epoch"] = {}, 0
    (snapshot / "run.json").write_text(json.dumps(record), encoding="utf-8")
    assert dlbook(["plot", str(tmp_path)]) == 2
    assert "no completed epoch" in capsys.readouterr().err
    assert not (tmp_path / curves.CURVES_NAME).exists()
