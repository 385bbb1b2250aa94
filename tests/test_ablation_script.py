"""scripts/cifar_ablation.py: each row's command trains the recipe the row names, the recorded
histories agree with the rows, and the README's table is replaced between its marks only."""
import dataclasses
import importlib.util
import json
import shlex
from pathlib import Path

import pytest

from dlbook import recipes, results
from dlbook.recipes import BOOK, TECHNIQUES, TUNED


REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ablation():
    spec = importlib.util.spec_from_file_location("cifar_ablation", REPO / "scripts" / "cifar_ablation.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def chapter():
    from chapters.ch01 import s1_10_5_cifar10_cnn
    return s1_10_5_cifar10_cnn


def _recipe_of(chapter, options):
    args = chapter.parse_args(options)
    return recipes.recipe_from_args(args, epochs=args.epochs, batch_size=args.batch_size or 128)


def test_each_row_command_parses_back_to_its_recipe(ablation, chapter):
    for row in ablation.ROWS.values():
        assert _recipe_of(chapter, row.options()) == dataclasses.replace(row.recipe, epochs=ablation.EPOCHS), row.name
        assert chapter.parse_args(row.options()).seed == row.seed


def test_each_ablation_row_differs_from_its_recipe_by_one_technique(ablation):
    fields_of = {field: technique for technique, fields in TECHNIQUES.items() for field in fields}
    for row in ablation.ROWS.values():
        base = {"tuned": TUNED, "book": BOOK}[row.base]
        changed = {fields_of.get(f.name, f.name) for f in dataclasses.fields(base)
                   if getattr(row.recipe, f.name) != getattr(base, f.name)}
        assert len(changed) == (0 if row.name == row.base or "-seed" in row.name else 1), (row.name, changed)


def test_recorded_runs_are_the_rows_of_the_script(ablation):
    for record in results.load_runs():
        row = ablation.ROWS[record["row"]]
        assert (record["label"], record["base"], record["seed"]) == (row.label, row.base, row.seed)
        assert record["recipe"] == dataclasses.asdict(row.recipe)
        assert record["order"] == list(ablation.ROWS).index(row.name)
        assert shlex.split(record["command"])[3:-2] == row.options()  # dlbook run 1.10.5 ... --data-dir D
        assert len(record["history"]["test_acc"]) == ablation.EPOCHS or record.get("restored")


def test_put_table_replaces_only_between_the_marks(ablation):
    start, end = ablation.MARKS
    page = f"intro\n{start}\nold table\n{end}\nafter\n"
    once = results.put_table(page, "new table", start, end)
    assert once == f"intro\n{start}\nnew table\n{end}\nafter\n"
    assert results.put_table(once, "new table", start, end) == once
    assert results.put_table("intro\n", "t", start, end) == f"intro\n{start}\nt\n{end}"  # no marks yet: appended


def test_table_option_prints_the_recorded_table(ablation, capsys):
    runs = results.load_runs()
    if not runs:
        pytest.skip("no recorded runs")
    assert ablation.main(["--table"]) == 0
    assert results.table(runs) in capsys.readouterr().out
