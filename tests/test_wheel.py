"""A wheel install runs the main job offline (issue 25): the wheel carries the tiny data and the
recorded results as package data. Builds the wheel from a copy of the sources, installs it into a
fresh venv outside the checkout, and runs `dlbook run 1.10.4` (one epoch), `dlbook notebook` and
`dlbook figures` there, with no data directory and no network."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("dlbook", "chapters", "data/tiny", "docs/results", "pyproject.toml", "setup.py", "MANIFEST.in",
           "README.md")
# This machine's dlbook is installed editable (a meta-path finder that would shadow the wheel):
# the child drops that finder, as a machine without the checkout would not have it.
RUN = ("import sys; sys.meta_path[:] = [f for f in sys.meta_path if '__editable__' not in "
       "getattr(f, '__module__', '') + getattr(f, '__name__', '')]; import dlbook; "
       "assert dlbook.__file__.startswith(sys.prefix), dlbook.__file__; from dlbook.cli import main; "
       "sys.exit(main(sys.argv[1:]))")


def _run(argv, **kwargs):
    result = subprocess.run(argv, capture_output=True, text=True, timeout=600, **kwargs)
    assert result.returncode == 0, (argv, result.stdout[-2000:], result.stderr[-3000:])
    return result


@pytest.mark.slow
def test_a_wheel_install_runs_the_main_job_offline(tmp_path):
    source = tmp_path / "src"
    for name in SOURCES:
        copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        copy(REPO / name, source / name, **({"ignore": shutil.ignore_patterns("__pycache__")}
                                            if (REPO / name).is_dir() else {}))
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
          "-w", str(tmp_path / "dist"), str(source)])
    wheel = next((tmp_path / "dist").glob("dlbook-*.whl"))
    _run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(tmp_path / "venv")])
    python = tmp_path / "venv" / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
          "--force-reinstall", "-q", str(wheel)])
    work = tmp_path / "work"
    (work / "nodata").mkdir(parents=True)
    env = {**os.environ, "DLBOOK_DATA_DIR": str(work / "nodata"), "TF_CPP_MIN_LOG_LEVEL": "2",
           "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "PYTHONPATH": ""}
    job = _run([str(python), "-c", RUN, "run", "1.10.4", "--epochs", "1", "--output-dir", "run"], cwd=work, env=env)
    assert "tiny" in job.stdout and (work / "run" / "model.h5").is_file()
    _run([str(python), "-c", RUN, "notebook", "1.10.4", "--out", "nb"], cwd=work, env=env)
    assert next((work / "nb").glob("*.ipynb")).stat().st_size > 1000
    _run([str(python), "-c", RUN, "figures", "--only", "fig1_19_pooling", "--out", "figs"], cwd=work, env=env)
    assert list((work / "figs").glob("*.png"))
    runs = _run([str(python), "-c", "import sys; sys.meta_path[:] = [f for f in sys.meta_path if '__editable__' "
                 "not in getattr(f, '__module__', '')]; from dlbook.results import ABLATION_DIR, load_runs; "
                 "print(ABLATION_DIR, len(load_runs()))"], cwd=work, env=env)
    directory, count = runs.stdout.split()
    assert directory.startswith(str(tmp_path / "venv")) and int(count) > 0
