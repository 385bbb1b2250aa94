"""dlbook.quiet: TensorFlow's start-up lines stay off the terminal, every other stderr line shows."""
import os
import subprocess
import sys
import textwrap

import pytest

from dlbook import quiet

TIMEOUT = 240

# The lines as TensorFlow 2.21 prints them on import (each twice), and with TF_CPP_MIN_LOG_LEVEL=0.
TF_START_UP = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
    "I0000 00:00:1796103275.439491   16330 port.cc:153] oneDNN custom operations are on. You may see "
    "slightly different numerical results due to floating-point round-off errors from different "
    "computation orders. To turn them off, set the environment variable `TF_ENABLE_ONEDNN_OPTS=0`.\n"
    "I0000 00:00:1796103275.561764   16330 cpu_feature_guard.cc:227] This TensorFlow binary is optimized "
    "to use available CPU instructions in performance-critical operations.\n"
    "To enable the following instructions: AVX2 AVX512F AVX512_VNNI AVX512_BF16 FMA, in other operations, "
    "rebuild TensorFlow with the appropriate compiler flags.\n")
GENUINE = "E0000 00:00:1796103812.640276   25306 some_op.cc:131] a real error during import\n"


def test_the_known_start_up_lines_are_noise_and_nothing_else():
    assert all(quiet.is_noise(line) for line in TF_START_UP.splitlines())
    for line in [GENUINE, "WARNING: something else", "Traceback (most recent call last):",
                 "W0000 00:00:1796103172.375478   13930 port.cc:153] oneDNN custom operations are on. x",
                 "I0000 00:00:1.0 1 port.cc:153] something new from oneDNN"]:
        assert not quiet.is_noise(line), line


def test_held_stderr_passes_on_all_but_the_noise(capfd):
    with quiet.held_stderr():
        os.write(2, (TF_START_UP + GENUINE + TF_START_UP).encode())
    assert capfd.readouterr().err == GENUINE
    with pytest.raises(ImportError):  # a failing import: its stderr still shows
        with quiet.held_stderr():
            os.write(2, b"libfoo.so: cannot open shared object file\n")
            raise ImportError("libfoo")
    assert capfd.readouterr().err == "libfoo.so: cannot open shared object file\n"


def test_import_tensorflow_holds_stderr_during_the_import_only(tmp_path, capfd, monkeypatch):
    for name in ("noisy_a", "noisy_b"):
        (tmp_path / f"{name}.py").write_text(
            f"import os\nos.write(2, {(TF_START_UP + GENUINE).encode()!r})\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert quiet.import_tensorflow(module="noisy_a").__name__ == "noisy_a"
    assert capfd.readouterr().err == GENUINE
    quiet.import_tensorflow(debug=True, module="noisy_b")  # --debug: everything
    assert capfd.readouterr().err == TF_START_UP + GENUINE


# A `dlbook run` in a fresh process; while TensorFlow imports, a hook writes to fd 2 a genuine line
# and TensorFlow's first start-up line (which TensorFlow itself prints on some machines only).
CLI = """
import importlib.abc, os, sys
class WriteDuringImport(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "tensorflow":
            os.write(2, {noise!r} + {genuine!r})
        return None
sys.meta_path.insert(0, WriteDuringImport())
from dlbook.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _cli(*argv, **env):
    script = textwrap.dedent(CLI).format(genuine=GENUINE.encode(), noise=TF_START_UP.splitlines(True)[0].encode())
    return subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, text=True,
                          timeout=TIMEOUT, env={**os.environ, "DLBOOK_DEBUG": "", **env})


def test_dlbook_run_starts_quietly():
    done = _cli("run", "1.10.1")
    assert done.returncode == 0, done.stderr
    assert "Listing 1.1" in done.stdout
    assert done.stderr.splitlines(keepends=True) == [GENUINE]  # and not one start-up line


@pytest.mark.parametrize("how", ["--debug", "DLBOOK_DEBUG=1"])
def test_debug_shows_the_start_up_lines(how):
    argv, env = (["--debug"], {}) if how == "--debug" else ([], {"DLBOOK_DEBUG": "1"})
    done = _cli(*argv, "export", "nowhere", **env)  # a cheap command that imports TensorFlow, then fails
    lines = done.stderr.splitlines(keepends=True)
    assert done.returncode != 0 and GENUINE in lines
    noise = [line for line in lines if quiet.is_noise(line)]
    assert "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n" in noise
    if how == "--debug":
        assert lines[-1].startswith("dlbook.errors.UsageError: nowhere does not exist")  # the traceback


@pytest.mark.parametrize("level", [None, "0"])
def test_importing_dlbook_leaves_the_tensorflow_log_level_alone(level):
    """The user's TF_CPP_MIN_LOG_LEVEL (or none) is what TensorFlow and child processes see."""
    script = ("import os, subprocess, sys, dlbook\nfrom dlbook.compat import tl\n"
              "print(os.environ.get('TF_CPP_MIN_LOG_LEVEL'), subprocess.run([sys.executable, '-c', "
              "'import os; print(os.environ.get(\"TF_CPP_MIN_LOG_LEVEL\"))'], capture_output=True, text=True).stdout)")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    if level is not None:
        env["TF_CPP_MIN_LOG_LEVEL"] = level
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=TIMEOUT, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(level)] * 2


@pytest.mark.parametrize("debug", ["", "1"])
def test_no_tensorlayer_layer_logs_unless_asked(debug):
    """In an interactive session (a notebook) TensorLayer logs each layer built as ``[TL] ...``;
    through dlbook.compat only with DLBOOK_DEBUG=1."""
    script = ("import sys\nsys.ps1 = '>>> '\nfrom dlbook.compat import tl\n"
              "tl.layers.Dense(n_units=3, in_channels=2, name='probe')")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=TIMEOUT,
                          env={**os.environ, "DLBOOK_DEBUG": debug})
    assert done.returncode == 0, done.stderr
    assert ("[TL] Dense  probe: 3" in done.stdout + done.stderr) == bool(debug)


def test_a_section_run_as_a_module_starts_quietly(repo_root):
    """``python -m chapters.ch01.<section>`` starts with nothing on stderr, as ``dlbook run`` does."""
    done = subprocess.run([sys.executable, "-m", "chapters.ch01.s1_10_1_tensors"], capture_output=True,
                          text=True, timeout=TIMEOUT, cwd=repo_root)
    assert done.returncode == 0 and "Listing 1.1" in done.stdout, done.stderr
    assert done.stderr == ""


# A stand-in `tensorflow` that prints like TensorFlow on import (the real one does on some machines only).
FAKE_TF = "import os\nos.write(2, {noise!r} + {genuine!r})\n"


@pytest.mark.parametrize("debug", ["", "1"])
def test_importing_dlbook_first_holds_the_tensorflow_import(tmp_path, debug):
    """``import dlbook`` then ``import tensorflow`` (a notebook, ``python -m``, a user's script):
    only the genuine line shows; with DLBOOK_DEBUG=1 the start-up lines show too."""
    (tmp_path / "tensorflow.py").write_text(FAKE_TF.format(noise=TF_START_UP.encode(), genuine=GENUINE.encode()))
    script = "import dlbook, sys\nimport tensorflow\nassert not any('Hold' in type(f).__name__ for f in sys.meta_path)"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
           "DLBOOK_DEBUG": debug}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=TIMEOUT,
                          env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == (TF_START_UP + GENUINE if debug else GENUINE)
