"""Every section as a notebook (dlbook/cli/notebook.py): built from its module, executed in a fresh
Jupyter kernel on the tiny data, and showing its key output.

Each notebook runs with its parameters cell's options, the epochs lowered here to keep the
suite short (an ``options.update(...)`` cell after the parameters cell, as papermill injects
parameters), in one kernel per test process (see the ``kernel`` fixture); ``dlbook notebook
--execute`` is checked in a fresh kernel. The real datasets are hidden, so the training sections
use the tiny subsets in data/tiny.
"""
import importlib
import re

import pytest

from dlbook.cli import entry, notebook
from dlbook.cli.sections import SECTION_LIST

nbformat = pytest.importorskip("nbformat", reason="the notebook tests need the test extra: pip install -e '.[test]'")
pytest.importorskip("nbclient", reason="the notebook tests need the test extra: pip install -e '.[test]'")
pytest.importorskip("jupytext", reason="the notebook tests need the test extra: pip install -e '.[test]'")
pytest.importorskip("ipykernel", reason="the notebook tests need the test extra: pip install -e '.[test]'")

NUMBERS = [s.number for s in SECTION_LIST]

#: The printed line (a regular expression) that shows each section worked.
KEY_OUTPUT = {
    "1.2": r"training accuracy 100%",
    "1.3": r"rounded \[0, 1, 1, 0\]",
    "1.4": r"shifted by max \[0\.09 +0\.2447 0\.6652\]",
    "1.5": r"MAE 0\.750000",
    "1.6": r"chosen on the validation set: degree \d+",
    "1.7": r"crop 2x2 at \(1, 1\): \[\[5, 6\], \[9, 10\]\]",
    "1.8": r"max pooling: \[\[6\.0, 8\.0\], \[3\.0, 4\.0\]\]",
    "1.9": r"tanh, lambda 1\.2:",
    "1.10.1": r"epoch 1: loss \d\.\d+  accuracy 0\.\d+",
    "1.10.2": r"max \|static - dynamic\| over a batch of 8: 0\.0",
    "1.10.3": r"CustomizeModel: 8 trainable weights",
    "1.10.4": r"test accuracy: 0\.\d{4}",
    "1.10.5": r"test accuracy",
    "1.10.6": r"talk to it: dlbook chat --checkpoint",
}

#: Lower values than the notebooks' own, for the suite only.
QUICKER = {
    "1.10.1": {"epochs": 1},
    "1.10.4": {"epochs": 1},
    "1.10.5": {"epochs": 1},
    "1.10.6": {"epochs": 1, "max_pairs": 40},
}

# Quieter kernels, and no GPU search.
KERNEL_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}


def _text(nb, stream="stdout"):
    return "".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                   for out in cell.get("outputs", []) if out.output_type == "stream" and out.name == stream)


def _images(nb):
    return sum("image/png" in out.get("data", {}) for cell in nb.cells if cell.cell_type == "code"
               for out in cell.get("outputs", []))


def test_key_outputs_cover_every_section():
    assert set(KEY_OUTPUT) == set(NUMBERS)


@pytest.fixture(scope="session")
def kernel(tmp_path_factory):
    """One Jupyter kernel per test process: TensorFlow is imported once, and each notebook starts
    with ``%reset -f`` (an empty namespace: a notebook that lacks an import still fails). The
    real datasets are hidden: DLBOOK_DATA_DIR is an empty directory."""
    import os

    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync
    home = tmp_path_factory.mktemp("kernel")
    (home / "no-real-data").mkdir()
    env = dict(os.environ, DLBOOK_DATA_DIR=str(home / "no-real-data"), **KERNEL_ENV)
    km = AsyncKernelManager(kernel_name=notebook.KERNEL)
    run_sync(km.start_kernel)(cwd=str(home), env=env)
    yield km
    run_sync(km.shutdown_kernel)(now=True)


@pytest.mark.slow
@pytest.mark.parametrize("number", NUMBERS)
def test_notebook_runs_and_shows_its_output(number, tmp_path, kernel):
    nb = notebook.build_notebook(number)
    params = notebook.parameters_cell(nb)
    assert params is not None, f"{number}: no cell tagged 'parameters'"
    if number in QUICKER:
        index = nb.cells.index(params)
        nb.cells.insert(index + 1, nbformat.v4.new_code_cell(f"options.update({QUICKER[number]!r})"))
    nb.cells.insert(0, nbformat.v4.new_code_cell(f"%reset -f\nimport os\nos.chdir({str(tmp_path)!r})"))
    notebook.execute(nb, tmp_path, timeout=300, km=kernel)   # raises on the first failing cell
    errors = [out for cell in nb.cells if cell.cell_type == "code"
              for out in cell.get("outputs", []) if out.output_type == "error"]
    assert not errors
    text = _text(nb)
    assert re.search(KEY_OUTPUT[number], text), f"{number}: no {KEY_OUTPUT[number]!r} in\n{text[-3000:]}"
    assert text.startswith("options:")        # the last cells ran main with the notebook's options
    section = next(s for s in SECTION_LIST if s.number == number)
    assert _images(nb) == len(section.figures), f"{number}: one image per figure {section.figures}"


@pytest.mark.slow
def test_dlbook_notebook_execute_in_a_fresh_kernel(tmp_path, monkeypatch, capsys):
    """``dlbook notebook 1.2 --execute``: a kernel of its own, the notebook saved with its outputs,
    and none of TensorFlow's start-up lines among them (the kernel imports TF through dlbook)."""
    from dlbook import cli, quiet
    monkeypatch.delenv("DLBOOK_DEBUG", raising=False)
    assert cli.main(["notebook", "1.2", "--execute", "--out", str(tmp_path)]) == 0
    nb = nbformat.read(tmp_path / "s1_02_perceptron.ipynb", as_version=4)
    assert re.search(KEY_OUTPUT["1.2"], _text(nb)) and _images(nb) == 1
    assert not [line for line in _text(nb, "stderr").splitlines() if quiet.is_noise(line)]


@pytest.mark.parametrize("number", NUMBERS)
def test_notebook_structure(number):
    nb = notebook.build_notebook(number)
    section = next(s for s in SECTION_LIST if s.number == number)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    assert section.title_zh in first.source                # the Chinese edition's heading
    assert sum(cell.cell_type == "markdown" for cell in nb.cells) >= 4   # prose between the steps
    cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert "run_section(main)" in cells[-1].source       # the last cell runs the section
    assert sum("parameters" in cell.metadata.get("tags", []) for cell in cells) == 1
    if section.figures:
        shown = "".join(cell.source for cell in cells if "show_figures" in cell.source)
        assert all(name in shown for name in section.figures)


def _option_strings(number):
    """The option strings of the section's parser, taken where ``main`` parses its argv."""
    from dlbook import options

    class Parsed(Exception):
        pass

    seen = {}

    def capture(self, args=None, namespace=None):
        seen["options"] = set(self._option_string_actions)
        raise Parsed

    module = importlib.import_module(f"chapters.ch01.{next(s.module for s in SECTION_LIST if s.number == number)}")
    original = options._Parser.parse_args
    options._Parser.parse_args = capture
    try:
        with pytest.raises(Parsed):
            module.main([])
    finally:
        options._Parser.parse_args = original
    return seen["options"]


@pytest.mark.parametrize("number", NUMBERS)
def test_every_parameter_is_an_option_of_the_section(number):
    values = notebook.notebook_options(number)
    assert isinstance(values, dict), f"{number}: the parameters cell must set options = dict(...)"
    flags = _option_strings(number)
    unknown = [name for name in values if "--" + name.replace("_", "-") not in flags]
    assert not unknown, f"{number}: parameters that are not options of 'dlbook run {number}': {unknown}"
    for name in ("--output-dir", "--overwrite"):   # a notebook run never replaces a command-line run
        if name in flags:
            assert values.get(name[2:].replace("-", "_")), f"{number}: the notebook must set {name}"
    if "output_dir" in values:
        assert "notebook" in values["output_dir"]


def test_options_to_argv():
    argv = entry.options_to_argv({"epochs": 2, "batch_size": 64, "overwrite": True, "resume": False,
                                     "data_dir": None, "emb_dim": 16, "only": ["a", "b"]})
    assert argv == ["--epochs", "2", "--batch-size", "64", "--overwrite", "--emb-dim", "16",
                    "--only", "a", "--only", "b"]
    assert entry.options_to_argv({}) == []


def test_outside_a_kernel_the_command_line_is_used(monkeypatch, capsys):
    assert not entry.in_jupyter_kernel()
    notebook.show_figures("fig1_19_pooling")           # nothing to show outside a notebook
    seen = {}
    monkeypatch.setattr("sys.argv", ["s1_02_perceptron.py", "--seed", "3"])
    with pytest.raises(SystemExit) as stop:
        entry.run_section(lambda argv: seen.setdefault("argv", argv) and 0)
    assert stop.value.code == 0 and seen["argv"] == ["--seed", "3"]


def test_dlbook_notebook_writes_a_notebook(tmp_path, capsys):
    from dlbook import cli
    assert cli.main(["notebook", "1.2", "--out", str(tmp_path)]) == 0
    nb = nbformat.read(tmp_path / "s1_02_perceptron.ipynb", as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    assert "s1_02_perceptron.ipynb" in capsys.readouterr().out
    assert cli.main(["notebook", "9.9", "--out", str(tmp_path)]) == 2
