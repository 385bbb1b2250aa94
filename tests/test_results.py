"""dlbook.results and the figure of recorded runs: the README's CIFAR-10 table and the ablation
figure are made from the JSON histories in docs/results alone, and say what those files hold."""
import json

import numpy as np
import pytest

from dlbook import plots, results
from dlbook.errors import DataError


def _record(row, order, acc, base="tuned", seed=0, restored=None, times=(10.0, 12.0, 30.0)):
    return {"row": row, "label": f"label of {row}", "base": base, "order": order, "seed": seed,
            "command": f"dlbook run 1.10.5 --recipe {base}", "restored": restored,
            "history": {"test_acc": list(acc), "time": list(times[:len(acc)]), "loss": [1.0] * len(acc)}}


def _write(directory, *records):
    directory.mkdir(parents=True, exist_ok=True)
    for record in records:
        (directory / f"{record['row']}.json").write_text(json.dumps(record))
    return directory


def test_summary_reads_final_best_and_the_epoch_reaching_70_percent():
    s = results.summary(_record("a", 0, [0.5, 0.72, 0.71]))
    assert s == {"final": 0.71, "best": 0.72, "best_epoch": 2, "epochs": 3, "to_70": 2, "seconds": 12.0}
    assert results.summary(_record("b", 0, [0.5, 0.6]))["to_70"] is None
    restored = results.summary(_record("c", 0, [0.5, 0.72, 0.71], restored={"epoch": 2, "test_acc": 0.7201}))
    assert restored["final"] == 0.7201  # with early stopping: the restored weights' accuracy


def test_runs_load_in_table_order_and_tabulate(tmp_path):
    directory = _write(tmp_path / "ablation", _record("z-first", 0, [0.6, 0.7781]),
                       _record("a-second", 1, [0.5, 0.6], base="book"))
    runs = results.load_runs(directory)
    assert [r["row"] for r in runs] == ["z-first", "a-second"]
    lines = results.table(runs).splitlines()
    assert lines[2] == "| label of z-first | 77.81% | — | 77.81% (2) | 2 | 11 |"
    assert lines[3] == "| label of a-second | 60.00% | — | 60.00% (2) | — | 11 |"  # no "book" row recorded


def test_table_gives_each_row_against_its_recipe_and_the_seed_spread(tmp_path):
    runs = results.load_runs(_write(tmp_path / "ablation", _record("tuned", 0, [0.6, 0.7776]),
                                    _record("tuned-no-x", 1, [0.6, 0.7594]),
                                    _record("tuned-seed1", 2, [0.6, 0.7717], seed=1),
                                    _record("tuned-seed2", 3, [0.6, 0.7799], seed=2),
                                    _record("book", 4, [0.6, 0.6805], base="book"),
                                    _record("book-x", 5, [0.6, 0.7000], base="book")))
    changes = [line.split(" | ")[2] for line in results.table(runs).splitlines()[2:]]
    assert changes == ["—", "-1.82", "-0.59", "+0.23", "—", "+1.95"]
    spread = results.seed_spread(runs)
    assert spread["seeds"] == [0, 1, 2]
    assert spread["mean"] == pytest.approx((0.7776 + 0.7717 + 0.7799) / 3)
    assert spread["sd"] == pytest.approx(np.std([0.7776, 0.7717, 0.7799], ddof=1))
    assert spread["range"] == pytest.approx(0.7799 - 0.7717)
    assert results.seed_spread(runs, base="book") is None  # one seed only
    assert results.seed_note(runs) == ("Seeds 0, 1, 2 of the tuned recipe: mean 77.64%, standard deviation "
                                       "0.42 points, range 0.82 points.")
    assert results.seed_note(runs, base="book") == ""


@pytest.mark.parametrize("content, named", [("{not json", "Expecting"), ('{"row": "x"}', "missing label"),
                                            ('[1, 2]', "not a recorded run")])
def test_a_bad_record_is_one_error_naming_the_file(tmp_path, content, named):
    (tmp_path / "bad.json").write_text(content)
    with pytest.raises(DataError, match=named) as info:
        results.load_runs(tmp_path)
    assert "bad.json" in str(info.value)


def test_the_ablation_figure_is_drawn_from_the_records(tmp_path):
    directory = _write(tmp_path / "ablation", _record("tuned", 0, [0.6, 0.77]),
                       _record("tuned-seed1", 1, [0.62, 0.775], seed=1),
                       _record("book", 2, [0.4, 0.5], base="book"))
    fig, data = plots.recorded.fig_cifar10_ablation(directory)
    assert set(data) == {"tuned", "tuned-seed1", "book"}
    np.testing.assert_array_equal(data["book"], [0.4, 0.5])
    left, right = fig.axes
    assert [line.get_label() for line in left.get_lines() if not line.get_label().startswith("_")] == \
        ["label of tuned: 77.0%", "label of tuned-seed1: 77.5%", "(label of book: 50.0%)"]  # book for reference
    np.testing.assert_allclose(right.get_lines()[0].get_ydata(), [40, 50])


def test_dlbook_figures_skips_the_ablation_figure_without_records(tmp_path, monkeypatch):
    logged = []
    monkeypatch.setattr(results, "ABLATION_DIR", tmp_path / "none")
    monkeypatch.setattr(plots, "RESULT_FIGURES", {"cifar10_ablation": (
        "caption", lambda: plots.recorded.fig_cifar10_ablation(tmp_path / "none"))})
    assert plots.generate_results(tmp_path / "out", log=logged.append) == {}
    assert "skipped" in logged[0] and "no recorded runs" in logged[0]


def test_readme_table_is_the_recorded_runs(repo_root):
    """The README shows exactly the table the recorded histories give (so neither drifts)."""
    runs = results.load_runs()
    if not runs:
        pytest.skip("no recorded CIFAR-10 runs in docs/results/cifar10/ablation")
    assert results.table(runs) in (repo_root / "README.md").read_text()
    assert (repo_root / "docs" / "figures" / "cifar10_ablation.png").stat().st_size > 15_000


def test_time_to_accuracy_sums_the_epochs_until_the_target_is_first_reached():
    history = {"test_acc": [0.5, 0.71, 0.69, 0.76], "time": [10.0, 12.0, 11.0, 13.0]}
    assert results.seconds_to(history, 0.70) == (22.0, 2)  # 10 + 12: not the later dip
    assert results.seconds_to(history, 0.75) == (46.0, 4)  # 10 + 12 + 11 + 13
    assert results.seconds_to(history, 0.80) == (None, None)


def test_time_table_gives_each_time_and_the_fraction_of_the_base_recipe(tmp_path):
    tuned = {**_record("tuned", 0, [0.6, 0.71, 0.76], times=(20.0, 20.0, 20.0)), "precision": "float32"}
    fast = {**_record("fast", 1, [0.72, 0.75], times=(6.0, 9.0)), "precision": "mixed_bfloat16"}
    text = results.time_table(results.load_runs(_write(tmp_path, tuned, fast)))
    assert "| label of tuned | float32 | 76.00% | 40 s (epoch 2) | 60 s (epoch 3) | 20.0 |" in text
    assert "| label of fast | mixed_bfloat16 | 75.00% | 6 s (epoch 1) | 15 s (epoch 2) | 7.5 |" in text
    assert text.endswith("fraction of the tuned recipe's: label of fast: 0.25x.")  # 15 / 60


def test_readme_time_to_accuracy_table_is_the_recorded_runs(repo_root):
    runs = results.load_runs(results.TIME_TO_ACCURACY_DIR)
    if not runs:
        pytest.skip("no recorded time-to-accuracy runs")
    for readme in ("README.md", "README.zh.md"):
        assert results.time_table(runs) in (repo_root / readme).read_text(encoding="utf-8")
