"""A probe of untrusted input beyond issue 25's list: run directories, weights, JSON, options,
locks and output, tried as a careful attacker and a clumsy user would. Prints a table (case,
class, result) and exits 1 when any case is broken.

    python scripts/probe_untrusted.py            # about a minute on 2 cores

Each case builds its files in a scratch directory; "ok" means what the class promises: one line
naming the thing (no traceback, no hang), nothing outside the run read or deleted, no user file lost.
"""
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from dlbook.compat import tl  # noqa: E402
import tensorflow as tf  # noqa: E402

from dlbook import session  # noqa: E402
from dlbook.files import checkpoints  # noqa: E402
from dlbook.cli import main as dlbook  # noqa: E402
from dlbook.errors import DlbookError  # noqa: E402
from dlbook.train import fit  # noqa: E402

CASES = []
X = np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)
Y = (X[:, 0] > 0).astype(np.int64)
ENV = {**os.environ, "PYTHONPATH": str(REPO)}
CHATBOT = ["--n-layer", "1", "--n-units", "8", "--emb-dim", "8", "--max-pairs", "8", "--sample-every", "0",
           "--query-len", "5", "--decoder-seq-length", "5", "--epochs", "1"]


def case(name, kind):
    def register(func):
        CASES.append((name, kind, func))
        return func
    return register


def model():
    ni = tl.layers.Input([None, 4])
    return tl.models.Model(inputs=ni, outputs=tl.layers.Dense(2)(tl.layers.Dense(3)(ni)))


def saved_run(directory):
    fit(model(), tf.optimizers.Adam(0.01), tl.cost.cross_entropy, X, Y, batch_size=8, n_epoch=1, seed=1,
        checkpoint_dir=directory, verbose=0)
    return Path(directory)


def resume(directory):
    saved_run(directory)


def cli(*argv):
    """``dlbook argv`` in-process: (code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = dlbook([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def one_line(code, err, *needles):
    lines = err.strip().splitlines()
    good = code in (1, 2) and len(lines) == 1 and lines[0].startswith("dlbook: error: ") and "Traceback" not in err
    missing = [n for n in needles if n not in err]
    return "ok" if good and not missing else f"BROKEN (exit {code}; {err.strip()[-200:]!r}; missing {missing})"


def refused(func, *needles):
    """``func()`` must raise one DlbookError line holding every needle."""
    try:
        func()
    except DlbookError as exc:
        message = str(exc)
        missing = [n for n in needles if n not in message]
        return "ok" if "\n" not in message and not missing else f"BROKEN ({message[:200]!r}; missing {missing})"
    except Exception as exc:  # noqa: BLE001 - a probe reports whatever escapes
        return f"BROKEN ({type(exc).__name__}: {str(exc)[:150]})"
    return "BROKEN (accepted)"


def first_weight(f):
    for name in f.attrs["layer_names"]:
        group = f[name.decode() if isinstance(name, bytes) else name]
        if len(group.attrs.get("weight_names", [])):
            weight = group.attrs["weight_names"][0]
            return group, weight.decode() if isinstance(weight, bytes) else weight


def weights_file(tmp, edit):
    path = tmp / "w.h5"
    checkpoints.save_weights(model(), path)
    with h5py.File(path, "r+") as f:
        edit(f, tmp)
    return lambda: checkpoints.load_weights(model(), path)


def edit_checkpoint(tmp, edit):
    out = saved_run(tmp / "out")
    with h5py.File((out / "current" / "checkpoint.h5").resolve(), "r+") as f:
        edit(f)
    return lambda: resume(out)


def edit_run_json(tmp, text):
    out = saved_run(tmp / "out")
    (out / "run.json").resolve().write_text(text(json.loads((out / "run.json").read_text())))
    return lambda: resume(out)


# ---------------------------------------------------------------- links out of a run
@case("current -> another run's snapshots/000001 (absolute)", "links")
def _(tmp):
    out, other = saved_run(tmp / "out"), saved_run(tmp / "other")
    (out / "current").unlink()
    (out / "current").symlink_to(other / "snapshots" / "000001")
    return refused(lambda: resume(out), "current is a symlink to", "not to one of its snapshots")


@case("snapshots/000001 itself a symlink to a folder elsewhere", "links")
def _(tmp):
    out = saved_run(tmp / "out")
    shutil.move(out / "snapshots" / "000001", tmp / "moved")
    (out / "snapshots" / "000001").symlink_to(tmp / "moved")
    return refused(lambda: resume(out), "current is a symlink to snapshots/000001, not to one of its snapshots")


@case("checkpoint.h5 in the snapshot a symlink to a file elsewhere", "links")
def _(tmp):
    out = saved_run(tmp / "out")
    real = (out / "current" / "checkpoint.h5").resolve()
    shutil.move(real, tmp / "elsewhere.h5")
    real.symlink_to(tmp / "elsewhere.h5")
    return refused(lambda: resume(out), "checkpoint.h5 is a symlink, not a file dlbook wrote")


@case("run.json in the snapshot a symlink to /etc/hostname", "links")
def _(tmp):
    out = saved_run(tmp / "out")
    real = (out / "current" / "run.json").resolve()
    real.unlink()
    real.symlink_to("/etc/hostname")
    return refused(lambda: resume(out), "run.json is a symlink, not a file dlbook wrote")


@case("chat: config.json a link out of a folder without snapshots", "links")
def _(tmp):
    (tmp / "bot").mkdir()
    (tmp / "secret.json").write_text("{}")
    (tmp / "bot" / "config.json").symlink_to(tmp / "secret.json")
    code, _, err = cli("chat", "--checkpoint", tmp / "bot", "--query", "hi")
    return one_line(code, err, "secret.json", "never follows a link out of a run directory")


@case("chat: config.json link of a run re-pointed outside the run", "links")
def _(tmp, bot=None):
    bot = make_bot(tmp)
    (tmp / "evil.json").write_text("{}")
    (bot / "config.json").unlink()
    (bot / "config.json").symlink_to(tmp / "evil.json")
    code, _, err = cli("chat", "--checkpoint", bot, "--query", "hi")
    return one_line(code, err, "not to the config.json of the run's snapshot in force")


@case("export: model.h5 a symlink to weights outside the folder", "links")
def _(tmp):
    (tmp / "run").mkdir()
    checkpoints.save_weights(model(), tmp / "outside.h5")
    (tmp / "run" / "model.h5").symlink_to(tmp / "outside.h5")
    code, _, err = cli("export", tmp / "run")
    return one_line(code, err, "outside", "never follows a link out of a run directory")


@case("the lock file a symlink to a user's file", "links")
def _(tmp):
    (tmp / "out").mkdir()
    (tmp / "mine.txt").write_text("keep")
    (tmp / "out" / ".lock").symlink_to(tmp / "mine.txt")
    code, _, err = cli("run", "1.10.6", "--output-dir", tmp / "out", *CHATBOT)
    result = one_line(code, err, ".lock")
    return result if (tmp / "mine.txt").read_text() == "keep" else "BROKEN (the user's file changed)"


# ---------------------------------------------------------------- files by type: never opened
def _fifo_in_snapshot(tmp, name):
    out = saved_run(tmp / "out")
    real = (out / "current" / name).resolve()
    real.unlink()
    os.mkfifo(real)
    return refused(lambda: resume(out), f"{name} is a named pipe, not a file dlbook wrote")


@case("run.json in the snapshot a FIFO", "files by type")
def _(tmp):
    return _fifo_in_snapshot(tmp, "run.json")


@case("checkpoint.h5 in the snapshot a FIFO", "files by type")
def _(tmp):
    return _fifo_in_snapshot(tmp, "checkpoint.h5")


@case("chat: vocab.json a FIFO (folder of an older dlbook)", "files by type")
def _(tmp):
    bot = make_bot(tmp, plain=True)
    (bot / "vocab.json").unlink()
    os.mkfifo(bot / "vocab.json")
    code, _, err = cli("chat", "--checkpoint", bot, "--query", "hi")
    return one_line(code, err, "vocab.json is not a regular file (a named pipe)")


@case("chat: config.json a directory", "files by type")
def _(tmp):
    bot = make_bot(tmp, plain=True)
    (bot / "config.json").unlink()
    (bot / "config.json").mkdir()
    code, _, err = cli("chat", "--checkpoint", bot, "--query", "hi")
    return one_line(code, err, "config.json is not a regular file (a directory)")


@case("load_weights of /dev/null", "files by type")
def _(tmp):
    return refused(lambda: checkpoints.load_weights(model(), "/dev/null"), "is a character device")


@case("export of a weights path that is a socket", "files by type")
def _(tmp):
    import socket
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp / "model.h5"))
    try:
        code, _, err = cli("export", tmp / "model.h5")
    finally:
        sock.close()
    return one_line(code, err, "is a socket, not a weights file")


# ---------------------------------------------------------------- HDF5 weights
def _replace(f, build):
    group, weight = first_weight(f)
    data = group[weight][()]
    del group[weight]
    build(group, weight, data)


H5_CASES = {
    "a layer group that is a soft link": (lambda f, t: _soft_group(f), "is a soft link to"),
    "a layer group that is an external link": (lambda f, t: _external_group(f, t), "is an external link to"),
    "a weight of compound dtype": (lambda f, t: _replace(f, lambda g, w, d: g.create_dataset(
        w, shape=d.shape, dtype=[("a", "f4")])), "expected floats"),
    "a weight of strings": (lambda f, t: _replace(f, lambda g, w, d: g.create_dataset(
        w, data=np.full(d.shape, b"x"))), "expected floats"),
    "a weight of booleans": (lambda f, t: _replace(f, lambda g, w, d: g.create_dataset(
        w, data=np.ones(d.shape, bool))), "expected floats"),
    "layer_names an integer": (lambda f, t: f.attrs.__setitem__("layer_names", 7), "attribute 'layer_names'"),
    "layer_names of 20,000 names": (lambda f, t: f.attrs.__setitem__(
        "layer_names", np.array([b"l"] * 20_000)), "at most 10,000 names"),
    "weight_names naming a missing dataset": (lambda f, t: _replace(f, lambda g, w, d: None), "lacks"),
    "an absolute weight name (/elsewhere)": (lambda f, t: _absolute_name(f), "attribute 'weight_names'"),
}


def _soft_group(f):
    name = first_weight(f)[0].name
    f.move(name, "/hidden")
    f[name] = h5py.SoftLink("/hidden")


def _external_group(f, tmp):
    group = first_weight(f)[0]
    name = group.name
    with h5py.File(tmp / "other.h5", "w") as other:
        f.copy(group, other, "g")
    del f[name]
    f[name] = h5py.ExternalLink(str(tmp / "other.h5"), "/g")


def _absolute_name(f):
    group, weight = first_weight(f)
    names = list(group.attrs["weight_names"])
    names[0] = b"/" + (names[0] if isinstance(names[0], bytes) else names[0].encode())
    group.attrs["weight_names"] = np.array(names)


for _name, (_edit, _needle) in H5_CASES.items():
    case(f"weights: {_name}", "HDF5")(lambda tmp, e=_edit, n=_needle: refused(weights_file(tmp, e), n))

CKPT_CASES = {
    "optimizer 'class' an integer": (lambda f: f["optimizer"].attrs.__setitem__("class", 3), "attribute 'class'"),
    "optimizer variable an external link": (lambda f: (f["optimizer"].__delitem__("0"), f["optimizer"].__setitem__(
        "0", h5py.ExternalLink("/etc/passwd", "/x"))), "is an external link to /etc/passwd"),
    "no 'format' attribute": (lambda f: f.attrs.__delitem__("format"), "no format 'dlbook-checkpoint-1'"),
    "'step' a float": (lambda f: f.attrs.__setitem__("step", 1.5), "attribute 'step' must be an integer"),
    "'epoch' a boolean": (lambda f: f.attrs.__setitem__("epoch", True), "attribute 'epoch' must be an integer"),
    "'extra' sums with n = -1": (lambda f: f.attrs.__setitem__(
        "extra", '{"history": {}, "state": {}, "sums": {"n": -1}}'), "field 'sums' "),
    "no 'model' group": (lambda f: f.__delitem__("model"), "lacks /model"),
}
for _name, (_edit, _needle) in CKPT_CASES.items():
    case(f"checkpoint: {_name}", "HDF5")(lambda tmp, e=_edit, n=_needle: refused(edit_checkpoint(tmp, e), n))


# ---------------------------------------------------------------- JSON: types, ranges, bounds
JSON_CASES = {
    "run.json a JSON array": (lambda m: "[1, 2]", "field '(the whole file)' must be of type object"),
    "run.json with NaN": (lambda m: json.dumps(m).replace('"step": 0', '"step": NaN'), "NaN is not a number"),
    "run.json 'step': true": (lambda m: json.dumps({**m, "step": True}), "field 'step' must be of type integer"),
    "run.json history of strings": (lambda m: json.dumps({**m, "history": {"loss": ["a"]}}),
                                    "field 'history.loss.0' must be of type number"),
    "run.json of 20 MB": (lambda m: json.dumps({**m, "pad": "x" * 20_000_000}), "more than the 16,777,216"),
    "run.json model record without a builder": (lambda m: json.dumps({**m, "model": {"args": {}}}),
                                                "field 'model' must hold the fields builder"),
}
for _name, (_text, _needle) in JSON_CASES.items():
    case(_name, "JSON")(lambda tmp, t=_text, n=_needle: refused(edit_run_json(tmp, t), n))


def _chat_config(tmp, change, *needles):
    bot = make_bot(tmp)
    config = (bot / "config.json").resolve()
    config.write_text(change(json.loads(config.read_text())))
    code, _, err = cli("chat", "--checkpoint", bot, "--query", "hi")
    return one_line(code, err, *needles)


@case("config.json n_units 1e3 (a float)", "JSON")
def _(tmp):
    return _chat_config(tmp, lambda c: json.dumps(c).replace('"n_units": 8', '"n_units": 1e3'),
                        "field 'n_units' must be an integer")


@case("config.json losses nested 40 deep", "JSON")
def _(tmp):
    return _chat_config(tmp, lambda c: json.dumps({**c, "losses": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}),
                        "nested deeper than 32 levels")


@case("config.json sizes beyond memory (vocabulary 10M, embedding 65,536)", "JSON")
def _(tmp):
    return _chat_config(tmp, lambda c: json.dumps({**c, "vocabulary_size": 10_000_000, "embedding_size": 65_536}),
                        "GiB; this machine has")


@case("vocab.json with Infinity", "JSON")
def _(tmp):
    bot = make_bot(tmp)
    vocab = (bot / "vocab.json").resolve()
    vocab.write_text(vocab.read_text().replace('"pad"', '"x": Infinity, "pad"', 1))
    code, _, err = cli("chat", "--checkpoint", bot, "--query", "hi")
    return one_line(code, err, "Infinity is not a number")


# ---------------------------------------------------------------- options
OPTION_CASES = {
    "--learning-rate 1e400 (inf)": (["run", "1.10.4", "--learning-rate", "1e400"], "must be a finite number > 0"),
    "--epochs 10,000,000": (["run", "1.10.4", "--epochs", "10000000"], "must be at most 1,000,000"),
    "--batch-size 2**30": (["run", "1.10.5", "--batch-size", str(2**30)], "must be at most 1,048,576"),
    "--cpu-devices 0": (["run", "1.10.4", "--cpu-devices", "0"], "must be a positive integer"),
    "--max-pairs -1": (["run", "1.10.6", "--max-pairs", "-1"], "must be a positive integer"),
    "--dense-keep 1.5": (["run", "1.10.5", "--dense-keep", "1.5"], "keep probability in (0, 1]"),
    "--weight-decay nan": (["run", "1.10.5", "--weight-decay", "nan"], "must be a finite number"),
    "--decoder-seq-length 20000": (["run", "1.10.6", "--decoder-seq-length", "20000"], "must be at most 10,000"),
    "chat --replies 5000": (["chat", "--checkpoint", "x", "--replies", "5000"], "must be at most 1,000"),
    "chat --top-n 0": (["chat", "--checkpoint", "x", "--top-n", "0"], "must be a positive integer"),
    "download --timeout 1e400": (["download", "mnist", "--timeout", "1e400"], "must be a finite number > 0"),
}
for _name, (_argv, _needle) in OPTION_CASES.items():
    case(_name, "options")(lambda tmp, a=_argv, n=_needle: one_line(*cli(*a)[::2], n))


# ---------------------------------------------------------------- locks and data loss
@case("a lock file of garbage left behind is taken over", "locking")
def _(tmp):
    (tmp / "out").mkdir()
    (tmp / "out" / ".lock").write_text("not a pid")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        run = session.open(tmp / "out")
    run.lock.release()
    return "ok" if "took over the lock left by process not a pid" in out.getvalue() else "BROKEN"


@case("the lock is released when the command fails", "locking")
def _(tmp):
    code, _, err = cli("run", "1.10.6", "--output-dir", tmp / "out", "--corpus", tmp / "missing.tsv", *CHATBOT)
    return "ok" if code == 2 and not (tmp / "out").exists() else f"BROKEN (exit {code}, {err!r})"


@case("a user's best.h5 in --output-dir survives a run with early stopping", "data loss")
def _(tmp):
    (tmp / "out").mkdir()
    (tmp / "out" / "best.h5").write_bytes(b"mine")
    try:
        fit(model(), tf.optimizers.Adam(0.01), tl.cost.cross_entropy, X, Y, batch_size=8, n_epoch=2, seed=1,
            checkpoint_dir=tmp / "out", verbose=0, X_val=X, y_val=Y, early_stopping=1)
    except DlbookError:
        pass
    except TypeError:  # fit without early stopping in this version: plain run
        saved_run(tmp / "out")
    return "ok" if (tmp / "out" / "best.h5").read_bytes() == b"mine" else "BROKEN (best.h5 replaced)"


@case("--output-dir '   ' (blanks)", "data loss")
def _(tmp):
    return one_line(*cli("run", "1.10.4", "--output-dir", "   ")[::2], "must name a directory")


@case("export --out onto the run directory itself", "data loss")
def _(tmp):
    out = saved_run(tmp / "out")
    code, _, err = cli("export", tmp / "w.h5" if False else out, "--out", out, "--overwrite")
    return (one_line(code, err) if (out / "run.json").exists() else "BROKEN (the run was replaced)")


@case("notebook --out holding an edited notebook, with --execute", "data loss")
def _(tmp):
    assert cli("notebook", "1.2", "--out", tmp)[0] == 0
    path = next(tmp.glob("*.ipynb"))
    path.write_text(path.read_text() + " ")
    code, _, err = cli("notebook", "1.2", "--out", tmp, "--execute")
    return one_line(code, err, "may hold your edits") if path.read_text().endswith(" ") else "BROKEN"


# ---------------------------------------------------------------- output
def _child(argv, **kwargs):
    return subprocess.run([sys.executable, "-m", "dlbook", *argv], text=True, env=ENV, timeout=120, cwd=REPO,
                          **kwargs)


@case("dlbook list with stdout closed", "output")
def _(tmp):
    result = _child(["list"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, pass_fds=())
    closed = subprocess.run(f"{sys.executable} -m dlbook list >&-", shell=True, text=True, env=ENV, cwd=REPO,
                            capture_output=True, timeout=120)
    return "ok" if result.returncode == 0 and closed.returncode == 0 and "Traceback" not in closed.stderr \
        else f"BROKEN ({closed.returncode}, {closed.stderr[-200:]!r})"


@case("an error with stderr closed", "output")
def _(tmp):
    closed = subprocess.run(f"{sys.executable} -m dlbook run 1.11 2>&-", shell=True, text=True, env=ENV, cwd=REPO,
                            capture_output=True, timeout=120)
    return "ok" if closed.returncode == 2 else f"BROKEN (exit {closed.returncode})"


@case("dlbook --help to /dev/full", "output")
def _(tmp):
    with open("/dev/full", "w") as full:
        result = _child(["--help"], stdout=full, stderr=subprocess.PIPE)
    return one_line(result.returncode, result.stderr, "No space left on device")


@case("an error naming a non-ASCII path under PYTHONIOENCODING=ascii", "output")
def _(tmp):
    result = subprocess.run([sys.executable, "-m", "dlbook", "chat", "--checkpoint", str(tmp / "机器人")],
                            capture_output=True, text=True, env={**ENV, "PYTHONIOENCODING": "ascii"}, timeout=120,
                            cwd=REPO)
    return one_line(result.returncode, result.stderr, "\\u673a\\u5668\\u4eba")


# ---------------------------------------------------------------- a chatbot folder, trained once
_BOT = {}


def make_bot(tmp, plain=False):
    """A copy of a tiny trained chatbot (links kept; ``plain``: files of an older dlbook)."""
    if "dir" not in _BOT:
        _BOT["dir"] = Path(tempfile.mkdtemp(prefix="probe-bot-")) / "bot"
        with contextlib.redirect_stdout(io.StringIO()):
            assert dlbook(["run", "1.10.6", "--output-dir", str(_BOT["dir"]), *CHATBOT]) == 0
    target = tmp / "bot"
    if plain:
        target.mkdir()
        for name in ("config.json", "vocab.json", "model.h5"):
            shutil.copy(_BOT["dir"] / name, target / name)
    else:
        shutil.copytree(_BOT["dir"], target, symlinks=True)
    return target


def main():
    rows, broken = [], 0
    for name, kind, func in CASES:
        tmp = Path(tempfile.mkdtemp(prefix="probe-"))
        started = time.perf_counter()
        try:
            result = func(tmp)
        except Exception as exc:  # noqa: BLE001
            result = f"BROKEN (probe raised {type(exc).__name__}: {str(exc)[:150]})"
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        broken += not result.startswith("ok")
        rows.append((name, kind, result, time.perf_counter() - started))
        print(f"| {len(rows)} | {name} | {kind} | {result} |", flush=True)
    print(f"\n{len(rows)} cases, {broken} broken")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
