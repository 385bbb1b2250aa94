"""Every Python and shell example of README.md and README.zh.md runs as printed, on the tiny data.

Each fenced block runs in a fresh directory (a Python block in the directory of the block before
it, whose files it reads), with DLBOOK_DATA_DIR an empty directory, so that the loaders and
`dlbook run` use the tiny subsets as on a fresh clone. To stay quick a command that trains gets
`--epochs 1` appended (the last value wins) and its `--data-dir` is that empty directory. In a
transcript (`$ command` then its output) the output lines shown must be printed.

Not run, because they need the network or hours, or are this suite: `pip`, `python -m pytest`,
`dlbook download`, `scripts/build_site.py` (tests/test_site.py builds the site), the whole
`scripts/cifar_ablation.py`, `scripts/time_to_accuracy.py`, and the two-process `--strategy multiworker` job (tests/test_distribute.py
runs one). For those the extras named must exist and the command must answer `--help`.
A block that is in both READMEs (comments aside) runs once, in the README.md test.
"""
import os
import re
import runpy
import shlex
import sys
import tomllib

import pytest

from dlbook.cli import main as dlbook
from dlbook.cli.sections import SECTION_LIST

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
READMES = ("README.md", "README.zh.md")
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
TRAINING = {"1.10.1", "1.10.4", "1.10.5", "1.10.6"}
NOT_RUN = re.compile(r"^(pip|python -m pytest|dlbook download|python scripts/build_site\.py|"
                     r"python scripts/cifar_ablation\.py$|python scripts/time_to_accuracy\.py$)")
STATELESS = {"dlbook list", "dlbook figures"}   # run once per test, wherever they appear
SMALLER = {"1.10.6": ["--max-pairs", "40", "--n-layer", "1", "--n-units", "32", "--emb-dim", "32"]}


def blocks(readme):
    """``[(kind, text)]``: the README's fenced Python blocks and shell commands (``bash`` blocks
    and ``$`` lines of unlabelled ones), in order."""
    with open(os.path.join(REPO, readme), encoding="utf-8") as f:
        found = BLOCK.findall(f.read())
    return [(lang or "transcript", body) for lang, body in found
            if lang in ("python", "bash") or (not lang and body.startswith("$ "))]


def normalized(kind, text):
    """The block without comments and blank lines: the same code in both READMEs compares equal."""
    if kind == "python":
        lines = [re.sub(r"\s+#.*$", "", line).rstrip() for line in text.splitlines()]
        return kind, "\n".join(line for line in lines if line and not line.lstrip().startswith("#"))
    return kind, "\n".join(" ".join(argv) for argv, _ in commands(kind, text))


def commands(kind, text):
    """``[(argv, expected output lines)]`` of a shell block; ``&&`` chains split."""
    result = []
    for line in text.splitlines():
        if kind == "transcript" and not line.startswith("$ "):
            if result and line.strip():
                result[-1][1].append(line.strip())
            continue
        words = shlex.split(line.removeprefix("$ "), comments=True)
        while words:
            cut = words.index("&&") if "&&" in words else len(words)
            result.append((words[:cut], []))
            words = words[cut + 1:]
    return result


def quick(argv, empty):
    """A training command made cheap: one epoch, the tiny data."""
    argv = ["--data-dir" if a == "--data-dir" else a for a in argv]
    for i, word in enumerate(argv[:-1]):
        if word == "--data-dir":
            argv[i + 1] = str(empty)
    section = argv[2] if argv[:2] == ["dlbook", "run"] else \
        next((s.number for s in SECTION_LIST if argv[:3] == ["python", "-m", f"chapters.ch01.{s.module}"]), None)
    if section not in TRAINING:
        return argv
    warms_up = "tuned" in argv or "fast" in argv   # these recipes warm up over 2 and 1 epochs
    argv = argv + ["--epochs", "3" if warms_up else "1"]
    return argv + SMALLER.get(section, [])


def answers_help(*command):
    """``dlbook COMMAND --help`` prints its usage and exits 0."""
    with pytest.raises(SystemExit) as stop:
        dlbook([*command, "--help"])
    assert stop.value.code in (0, None)


def check_not_run(argv):
    """What can be checked of a command that is not run."""
    line = " ".join(argv)
    if argv[0] == "pip":
        with open(os.path.join(REPO, "pyproject.toml"), "rb") as f:
            extras = tomllib.load(f)["project"]["optional-dependencies"]
        for extra in re.findall(r"^\.\[(.*)\]$", next((a for a in argv if a.startswith(".[")), "")):
            assert set(extra.split(",")) <= set(extras), f"{line}: no such extra"
    elif argv[0] == "dlbook":
        answers_help(argv[1])
    elif argv[0] == "python" and argv[1].startswith("scripts/"):
        with pytest.raises(SystemExit) as stop:
            python(argv[1:] + ["--help"])
        assert stop.value.code in (0, None)


def run(argv, empty, capsys):
    """Run one command (in this process where it is `dlbook`); returns its output."""
    if argv and "=" in argv[0] and "multiworker" in argv:
        answers_help("run", argv[argv.index("run") + 1])   # two processes: tests/test_distribute.py
        return ""
    if NOT_RUN.match(" ".join(argv)):
        check_not_run(argv)
        return ""
    argv = quick(argv, empty)
    if argv[0] == "dlbook":
        capsys.readouterr()
        code = dlbook(argv[1:])
        out = capsys.readouterr()
        assert code == 0, f"{' '.join(argv)} exited {code}: {out.err[-2000:]}"
        return out.out
    assert argv[0] == "python", argv
    capsys.readouterr()
    try:
        python(argv[1:])
    except SystemExit as stop:
        assert stop.code in (0, None), f"{' '.join(argv)} exited {stop.code}: {capsys.readouterr().err[-2000:]}"
    return capsys.readouterr().out


def python(argv):
    """``python -m MODULE ARGS`` or ``python scripts/X.py ARGS``, in this process (TensorFlow is
    imported once); the modules and scripts are this checkout's."""
    target = argv[1] if argv[0] == "-m" else os.path.join(REPO, argv[0])
    rest = argv[2:] if argv[0] == "-m" else argv[1:]
    saved = sys.argv[:]
    sys.argv = [target, *rest]
    try:
        if argv[0] == "-m":
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            runpy.run_path(target, run_name="__main__")
    finally:
        sys.argv = saved


def run_readme(readme, skip, tmp_path, monkeypatch, capsys):
    empty = tmp_path / "no-real-data"
    empty.mkdir()
    monkeypatch.setenv("DLBOOK_DATA_DIR", str(empty))
    ran, workdir = set(), None
    for n, (kind, text) in enumerate(blocks(readme)):
        if normalized(kind, text) in skip:
            continue
        if kind != "python" or workdir is None:
            workdir = tmp_path / f"block{n}"
            workdir.mkdir()
        monkeypatch.chdir(workdir)
        if kind == "python":
            exec(compile(text, f"{readme} block {n}", "exec"), {"__name__": "__readme__"})
            continue
        for argv, expected in commands(kind, text):
            if " ".join(argv) in STATELESS & ran:
                continue
            ran.add(" ".join(argv))
            out = run(argv, empty, capsys)
            missing = [line for line in expected if line not in out]
            assert not missing, f"{readme}: `{' '.join(argv)}` did not print {missing}:\n{out[-2000:]}"


@pytest.mark.slow
def test_readme_examples_run(tmp_path, monkeypatch, capsys):
    run_readme("README.md", set(), tmp_path, monkeypatch, capsys)


@pytest.mark.slow
def test_readme_zh_examples_run(tmp_path, monkeypatch, capsys):
    """The Chinese README's own examples (those of README.md ran in the test above)."""
    run_readme("README.zh.md", {normalized(*block) for block in blocks("README.md")}, tmp_path, monkeypatch, capsys)


def test_every_example_is_found():
    """The parser sees the examples (a README edit cannot hide them from the tests above)."""
    for readme in READMES:
        found = blocks(readme)
        assert sum(kind == "python" for kind, _ in found) >= 3
        shell = [" ".join(argv) for kind, text in found if kind != "python" for argv, _ in commands(kind, text)]
        assert "dlbook run 1.10.4" in shell and "dlbook export runs/mnist_mlp" in shell
    assert commands("transcript", "$ a b && c\nout 1\n$ d # note\n") == [(["a", "b"], []), (["c"], ["out 1"]), (["d"], [])]
    assert quick(["dlbook", "run", "1.10.5", "--data-dir", "x"], "E") == \
        ["dlbook", "run", "1.10.5", "--data-dir", "E", "--epochs", "1"]
