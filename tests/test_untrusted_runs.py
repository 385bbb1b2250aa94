"""Issue 25: run directories, weights, JSON and options from elsewhere never reach outside the run,
never crash, never lose a user's files. Every case failed on the code before the fix (a deleted
victim folder, a loaded secret, a traceback, a hang, or a misleading message)."""
import json
import os
import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from dlbook.compat import tl
import tensorflow as tf

from dlbook import session
from dlbook import options
from dlbook.files import checkpoints, safe_pickle
from dlbook.chat.store import CONFIG_FIELDS
from dlbook.cli import main as dlbook
from dlbook.errors import CheckpointError, UsageError
from dlbook.train import fit

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(REPO)}
X = np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)
Y = (X[:, 0] > 0).astype(np.int64)
CHATBOT = ["--n-layer", "1", "--n-units", "8", "--emb-dim", "8", "--max-pairs", "8", "--sample-every", "0",
           "--query-len", "5", "--decoder-seq-length", "5", "--epochs", "1"]


def small_model():
    ni = tl.layers.Input([None, 4])
    return tl.models.Model(inputs=ni, outputs=tl.layers.Dense(2)(tl.layers.Dense(3)(ni)))


def saved_run(directory, **kwargs):
    """A real run directory (run.json, checkpoint.h5, model.h5 in snapshots/000001)."""
    fit(small_model(), tf.optimizers.Adam(0.01), tl.cost.cross_entropy, X, Y, batch_size=8, n_epoch=1,
        seed=1, checkpoint_dir=directory, verbose=0, **kwargs)
    return Path(directory)


def run(capsys, *argv):
    code = dlbook([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err, *needles):
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dlbook: error: "), err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def victim(folder):
    """A folder of the user's own files; returns a check that they all survived."""
    (folder / "photos").mkdir(parents=True)
    (folder / "photos" / "holiday.jpg").write_bytes(b"precious")
    (folder / "notes.txt").write_text("mine")
    return lambda: ((folder / "photos" / "holiday.jpg").read_bytes() == b"precious"
                    and (folder / "notes.txt").read_text() == "mine")


@pytest.fixture(scope="module")
def chatbot_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("bot") / "bot"
    assert dlbook(["run", "1.10.6", "--output-dir", str(directory)] + CHATBOT) == 0
    return directory


# ---------------------------------------------------------------- security
@pytest.mark.parametrize("flag", ["resume", "overwrite"])
def test_a_snapshots_link_to_another_folder_deletes_nothing_there(tmp_path, flag):
    out = saved_run(tmp_path / "out")
    elsewhere = tmp_path / "elsewhere"
    survived = victim(elsewhere)
    shutil.move(out / "snapshots" / "000001", elsewhere / "000001")
    (out / "snapshots").rmdir()
    (out / "snapshots").symlink_to(elsewhere)
    with pytest.raises(CheckpointError, match=r"snapshots is a symlink \(to .*elsewhere\): a run directory "
                                              r"never follows a link out of itself"):
        saved_run(out) if flag == "resume" else session.open(out, overwrite=True)
    assert survived() and (elsewhere / "000001" / "run.json").is_file()


def test_a_current_link_out_of_the_run_is_refused(tmp_path):
    out = saved_run(tmp_path / "out")
    (tmp_path / "elsewhere").mkdir()
    (out / "current").unlink()
    (out / "current").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(CheckpointError, match="current is a symlink to .*elsewhere, not to one of its snapshots"):
        session.open(out, resume=True)


def _secret(tmp_path, nbytes):
    secret = tmp_path / "passwd"
    secret.write_bytes((b"root:x:0:0:secret\n" * (nbytes // 18 + 1))[:nbytes])
    return secret


def _external_copy(source, target, secret_dir):
    """``source`` (TL-layout HDF5) copied to ``target`` with its first weight stored externally,
    in a file of secrets."""
    with h5py.File(source, "r") as src, h5py.File(target, "w") as dst:
        for key, value in src.attrs.items():
            dst.attrs[key] = value
        first = None
        for name in src:
            src.copy(name, dst)
        for name in dst.attrs["layer_names"]:
            group = dst[name.decode() if isinstance(name, bytes) else name]
            if "weight_names" in group.attrs and len(group.attrs["weight_names"]):
                first = group
                break
        weight = first.attrs["weight_names"][0]
        weight = weight.decode() if isinstance(weight, bytes) else weight
        shape, dtype = first[weight].shape, first[weight].dtype
        del first[weight]
        secret = _secret(secret_dir, int(np.prod(shape)) * dtype.itemsize)
        first.create_dataset(weight, shape=shape, dtype=dtype, external=[(str(secret), 0, secret.stat().st_size)])


def test_external_storage_in_a_chatbot_model_is_refused_by_chat_and_export(chatbot_dir, tmp_path, capsys):
    bot = tmp_path / "bot"
    shutil.copytree(chatbot_dir, bot, symlinks=True)
    model = bot / "current" / "model.h5"
    real = model.resolve()
    _external_copy(real, tmp_path / "evil.h5", tmp_path)
    shutil.move(tmp_path / "evil.h5", real)
    code, out, err = run(capsys, "chat", "--checkpoint", bot, "--query", "hello", "--mode", "greedy")
    assert code == 1 and out == ""
    one_line(err, "uses external storage (its bytes live in", "passwd): refused")
    code, out, err = run(capsys, "export", bot)
    assert code == 1
    one_line(err, "uses external storage", "refused")
    assert not (bot / "savedmodel").exists()


# ---------------------------------------------------------------- data loss
def test_a_folder_of_the_users_own_run_json_and_snapshots_is_never_adopted(tmp_path, capsys):
    out = tmp_path / "mine"
    survived = victim(out / "snapshots")
    (out / "run.json").write_text('{"my": "own file"}')
    with pytest.raises(UsageError, match=r"holds files that a dlbook run did not write.*\(run.json, snapshots/"
                                         r"notes.txt, snapshots/photos\); a run never adopts them on its own"):
        saved_run(out)
    assert survived() and (out / "run.json").read_text() == '{"my": "own file"}'
    assert not (out / "run.json").is_symlink()
    # --overwrite adopts the names a run writes (run.json) but still deletes nothing it did not create
    run_ = session.open(out, overwrite=True)
    run_.restore(small_model(), tf.optimizers.Adam())
    run_.save()
    run_.save()  # a second save tidies the first snapshot away, and only that
    assert survived() and sorted(os.listdir(out / "snapshots")) == ["000002", "notes.txt", "photos"]


def test_an_empty_output_dir_is_refused_not_the_current_directory(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "run", "1.10.4", "--output-dir", "", "--epochs", "1")
    assert code == 2
    one_line(err, "argument --output-dir: must name a directory, got an empty name")
    assert os.listdir(tmp_path) == []
    with pytest.raises(UsageError, match="checkpoint_dir is empty"):
        session.open("")


def test_dlbook_notebook_never_overwrites_an_edited_notebook(tmp_path, capsys):
    assert run(capsys, "notebook", "1.2", "--out", tmp_path / "nb")[0] == 0
    notebook = next((tmp_path / "nb").glob("*.ipynb"))
    assert run(capsys, "notebook", "1.2", "--out", tmp_path / "nb")[0] == 0  # unchanged: written again
    notebook.write_text(notebook.read_text().replace('"cells": [', '"cells": [{"cell_type": "markdown", '
                                                     '"metadata": {}, "source": "my notes"},', 1))
    edited = notebook.read_bytes()
    code, _, err = run(capsys, "notebook", "1.2", "--out", tmp_path / "nb")
    assert code == 2 and notebook.read_bytes() == edited
    one_line(err, f"{notebook} already exists and may hold your edits", "--overwrite to replace it")
    assert run(capsys, "notebook", "1.2", "--out", tmp_path / "nb", "--overwrite")[0] == 0
    assert notebook.read_bytes() != edited


# ---------------------------------------------------------------- damaged checkpoints and records
def _checkpoint(out):
    return (out / "current" / "checkpoint.h5").resolve()


def _edit_checkpoint(out, edit):
    with h5py.File(_checkpoint(out), "r+") as f:
        edit(f)


CHECKPOINT_DAMAGE = {
    "no optimizer group": (lambda f: f.__delitem__("optimizer"), "lacks /optimizer"),
    "extra not JSON": (lambda f: f.attrs.__setitem__("extra", "{oops"), "(attribute 'extra') is not valid JSON"),
    "extra a list": (lambda f: f.attrs.__setitem__("extra", "[1, 2]"),
                     "(attribute 'extra'): field '(the whole file)' must be of type object"),
    "extra history a list": (lambda f: f.attrs.__setitem__("extra", '{"history": [], "state": {}, "sums": null}'),
                             "field 'history' must be of type object"),
    "epoch -5": (lambda f: f.attrs.__setitem__("epoch", -5), "attribute 'epoch' must be an integer from 0"),
    "epoch inf": (lambda f: f.attrs.__setitem__("epoch", float("inf")), "attribute 'epoch' must be an integer"),
    "extra deeply nested": (lambda f: f.attrs.__setitem__("extra", "[" * 200_000 + "]" * 200_000),
                            "is not a file dlbook wrote: its JSON is nested deeper than 32 levels"),
    "optimizer variable of strings": (lambda f: (f["optimizer"].__delitem__("0"),
                                                 f["optimizer"].create_dataset("0", data=np.array([b"x"]))),
                                      "/optimizer/0 holds |S1 data, expected numbers"),
}


@pytest.mark.parametrize("case", CHECKPOINT_DAMAGE)
def test_a_damaged_checkpoint_is_one_line_naming_the_file(tmp_path, case):
    out = saved_run(tmp_path / "out")
    edit, needle = CHECKPOINT_DAMAGE[case]
    _edit_checkpoint(out, edit)
    with pytest.raises(CheckpointError) as info:
        saved_run(out)  # resume
    message = str(info.value)
    assert "checkpoint.h5" in message and needle in message and "\n" not in message


RUN_JSON_DAMAGE = {
    "epoch -5": ('"epoch": 1', '"epoch": -5', "field 'epoch' must be >= 0"),
    "epoch 1e999": ('"epoch": 1', '"epoch": 1e999', "is not valid JSON (number 1e999 is out of range"),
    "epoch a string": ('"epoch": 1', '"epoch": "1"', "field 'epoch' must be of type integer"),
    "options a list": ('"options": {', '"options": [{"x": 1}], "o": {', "field 'options' must be of type object"),
    "deeply nested": ('"state": {', '"state": ' + "[" * 200_000 + "]" * 200_000 + ', "s": {',
                      "its JSON is nested deeper than 32 levels"),
}


@pytest.mark.parametrize("case", RUN_JSON_DAMAGE)
def test_a_damaged_run_json_is_one_line_naming_the_file_and_field(tmp_path, capsys, case):
    out = saved_run(tmp_path / "out")
    old, new, needle = RUN_JSON_DAMAGE[case]
    record = (out / "run.json").resolve()
    text = record.read_text()
    assert old in text
    record.write_text(text.replace(old, new, 1))
    with pytest.raises(CheckpointError) as info:
        saved_run(out)
    message = str(info.value)
    assert "run.json" in message and needle in message and "\n" not in message
    assert message.endswith(f"not the record of a dlbook run: --overwrite starts a new run in {out}")


@pytest.mark.parametrize("name", ["config.json", "vocab.json"])
def test_deeply_nested_chatbot_json_is_one_line(chatbot_dir, tmp_path, capsys, name):
    bot = tmp_path / "bot"
    shutil.copytree(chatbot_dir, bot, symlinks=True)
    (bot / name).resolve().write_text("[" * 200_000 + "]" * 200_000)
    code, _, err = run(capsys, "chat", "--checkpoint", bot, "--query", "hi")
    assert code == 1
    one_line(err, name, "nested deeper than 32 levels")


# ---------------------------------------------------------------- options: ranges, before any data loads
BAD_OPTIONS = {
    "momentum 5": (["run", "1.10.5", "--momentum", "5"], "argument --momentum: must be a number from 0 up to"),
    "emb-dim 2e9": (["run", "1.10.6", "--emb-dim", "2000000000"], "argument --emb-dim: must be at most 65,536"),
    "emb-dim 70000": (["run", "1.10.6", "--emb-dim", "70000"], "argument --emb-dim: must be at most 65,536"),
    "query-len 1e9": (["run", "1.10.6", "--query-len", "1000000000"], "argument --query-len: must be at most 10,000"),
    "n-layer 1e6": (["run", "1.10.6", "--n-layer", "1000000"], "argument --n-layer: must be at most 100"),
    "cpu-devices 1000": (["run", "1.10.4", "--cpu-devices", "1000"],
                         f"argument --cpu-devices: must be at most {options.max_cpu_devices()} on this machine"),
    "sizes beyond memory": (["run", "1.10.6", "--n-layer", "100", "--n-units", "65536", "--emb-dim", "65536"],
                            "GiB with its gradients and Adam state; this machine has"),
    "beam width 1e6": (["chat", "--checkpoint", "x", "--beam-width", "1000000"], "must be at most 1,000"),
}


@pytest.mark.parametrize("case", BAD_OPTIONS)
def test_options_out_of_range_are_one_line_before_any_data_loads(tmp_path, capsys, case):
    argv, needle = BAD_OPTIONS[case]
    started = time.perf_counter()
    code, out, err = run(capsys, *argv, "--output-dir", tmp_path / "out") if argv[0] == "run" else run(capsys, *argv)
    assert code == 2 and "corpus:" not in out
    one_line(err, needle)
    assert time.perf_counter() - started < 30 and not (tmp_path / "out").exists()


def test_training_chat_and_config_share_one_range_per_option():
    """--emb-dim 70000 used to train and then be refused by chat and export: one table now."""
    for key, bounds in CONFIG_FIELDS.items():
        assert bounds == options.INT_RANGES[key]
    parse = options.int_option("embedding_size")
    assert parse("65536") == 65536 == CONFIG_FIELDS["embedding_size"][1]


# ---------------------------------------------------------------- HDF5 weights: plain datasets only
def _weights(tmp_path):
    model = small_model()
    path = tmp_path / "w.h5"
    checkpoints.save_weights(model, path)
    return model, path


def _first_weight(f):
    """(the group of the first layer with weights, the name of its first weight)."""
    for name in f.attrs["layer_names"]:
        group = f[name.decode() if isinstance(name, bytes) else name]
        if len(group.attrs.get("weight_names", [])):
            weight = group.attrs["weight_names"][0]
            return group, weight.decode() if isinstance(weight, bytes) else weight


def _soft_link(f, tmp_path):
    group, weight = _first_weight(f)
    data = group[weight][()]
    del group[weight]
    f["elsewhere"] = data
    group[weight] = h5py.SoftLink("/elsewhere")


def _external_link(f, tmp_path):
    group, weight = _first_weight(f)
    with h5py.File(tmp_path / "other.h5", "w") as other:
        other["w"] = group[weight][()]
    del group[weight]
    group[weight] = h5py.ExternalLink(str(tmp_path / "other.h5"), "/w")


def _virtual(f, tmp_path):
    group, weight = _first_weight(f)
    data = group[weight][()]
    with h5py.File(tmp_path / "source.h5", "w") as other:
        other["w"] = data
    layout = h5py.VirtualLayout(shape=data.shape, dtype=data.dtype)
    layout[...] = h5py.VirtualSource(str(tmp_path / "source.h5"), "w", shape=data.shape)
    del group[weight]
    group.create_virtual_dataset(weight, layout)


def _integers(f, tmp_path):
    group, weight = _first_weight(f)
    data = group[weight][()]
    del group[weight]
    group[weight] = np.ones(data.shape, np.int32)


def _external_storage(f, tmp_path):
    group, weight = _first_weight(f)
    shape = group[weight].shape
    del group[weight]
    secret = _secret(tmp_path, int(np.prod(shape)) * 4)
    group.create_dataset(weight, shape=shape, dtype=np.float32, external=[(str(secret), 0, secret.stat().st_size)])


HDF5_TRICKS = {
    "soft link": (_soft_link, "is a soft link to /elsewhere"),
    "external link": (_external_link, "is an external link to"),
    "virtual dataset": (_virtual, "is a virtual dataset (its data lives in other files): refused"),
    "integer data": (_integers, "holds int32 data, expected floats"),
    "external storage": (_external_storage, "uses external storage (its bytes live in"),
}


@pytest.mark.parametrize("case", HDF5_TRICKS)
def test_weights_are_read_only_from_plain_float_datasets(tmp_path, case):
    model, path = _weights(tmp_path)
    make, needle = HDF5_TRICKS[case]
    with h5py.File(path, "r+") as f:
        make(f, tmp_path)
    before = [w.numpy().copy() for w in model.all_weights]
    with pytest.raises(CheckpointError) as info:
        checkpoints.load_weights(model, path)
    assert needle in str(info.value) and str(path) in str(info.value) and "\n" not in str(info.value)
    assert all(np.array_equal(a, w.numpy()) for a, w in zip(before, model.all_weights))


def test_a_device_or_fifo_as_weights_is_refused_by_type_never_opened(tmp_path):
    model = small_model()
    (tmp_path / "zero.h5").symlink_to("/dev/zero")
    with pytest.raises(CheckpointError, match="zero.h5 is a character device, not a weights file: refused"):
        checkpoints.load_weights(model, tmp_path / "zero.h5")
    os.mkfifo(tmp_path / "fifo.h5")
    with pytest.raises(CheckpointError, match="fifo.h5 is a named pipe, not a weights file: refused, never opened"):
        checkpoints.load_weights(model, tmp_path / "fifo.h5")


def test_export_of_a_folder_with_a_fifo_named_model_h5_does_not_block(tmp_path):
    (tmp_path / "run").mkdir()
    os.mkfifo(tmp_path / "run" / "model.h5")
    result = subprocess.run([sys.executable, "-m", "dlbook", "export", str(tmp_path / "run")], capture_output=True,
                            text=True, env=ENV, timeout=120)
    assert result.returncode == 1
    one_line(result.stderr, "model.h5 is a named pipe, not a weights file: refused, never opened")


# ---------------------------------------------------------------- one writer at a time
def _hold(directory):
    """A child process holding the lock of ``directory`` until its stdin closes."""
    code = ("import sys; from dlbook import session; s = session.open(sys.argv[1]); print('held', flush=True); "
            "sys.stdin.read()")
    child = subprocess.Popen([sys.executable, "-c", code, str(directory)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, env=ENV, cwd=REPO)
    assert child.stdout.readline().strip() == "held"
    return child


def test_a_second_writer_is_refused_and_a_stale_lock_is_taken_over(tmp_path, capsys):
    out = tmp_path / "out"
    child = _hold(out)
    try:
        with pytest.raises(CheckpointError, match=rf"{out} is being written by another process \(pid {child.pid}\)"):
            session.open(out)
    finally:
        child.stdin.close()
        child.wait(timeout=60)
    assert not (out / ".lock").exists()  # released at exit
    (out).mkdir(exist_ok=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (out / ".lock").write_text(dead.stdout)  # as left by a process killed with SIGKILL
    run_ = session.open(out)
    assert f"took over the lock left by process {dead.stdout.strip()}, which is no longer running" in \
        capsys.readouterr().out
    assert (out / ".lock").read_text().strip() == str(os.getpid())
    del run_


def test_two_runs_into_one_output_dir_at_once_the_second_is_refused(tmp_path):
    out = tmp_path / "out"
    child = _hold(out)
    try:
        result = subprocess.run([sys.executable, "-m", "dlbook", "run", "1.10.6", "--output-dir", str(out), *CHATBOT],
                                capture_output=True, text=True, env=ENV, timeout=300, cwd=tmp_path)
    finally:
        child.stdin.close()
        child.wait(timeout=60)
    assert result.returncode == 1 and "corpus:" not in result.stdout
    one_line(result.stderr, f"is being written by another process (pid {child.pid})")


# ---------------------------------------------------------------- output
def test_output_to_a_full_device_or_a_narrow_encoding_never_raises(tmp_path):
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "dlbook", "list"], stdout=full, stderr=subprocess.PIPE,
                                text=True, env=ENV, timeout=60)
    assert result.returncode == 1
    one_line(result.stderr, "cannot write the output: No space left on device")
    result = subprocess.run([sys.executable, "-m", "dlbook", "notebook", "1.2", "--out", str(tmp_path / "笔记")],
                            capture_output=True, text=True, env={**ENV, "PYTHONIOENCODING": "ascii"}, timeout=120)
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert "\\u7b14\\u8bb0" in result.stdout and (tmp_path / "笔记").is_dir()


# ---------------------------------------------------------------- pickles written by Python 3 at protocol 2
def test_a_cifar_batch_repickled_at_protocol_2_loads_and_only_latin1_encode_is_admitted(tmp_path):
    from dlbook.data.cifar10 import read_cifar10_batch
    data = np.random.default_rng(0).integers(0, 256, size=(2, 3072), dtype=np.uint8)
    (tmp_path / "batch").write_bytes(pickle.dumps({b"data": data, b"labels": [3, 8]}, protocol=2))
    loaded, labels = read_cifar10_batch(tmp_path / "batch")
    np.testing.assert_array_equal(loaded, data)
    assert labels.tolist() == [3, 8]
    for encoding in ("rot13", "utf-8"):
        payload = b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00xX" + bytes([len(encoding)]) + b"\x00\x00\x00" \
                  + encoding.encode() + b"\x86R."
        with pytest.raises(Exception, match=r"only \(str, 'latin1'\)"):
            safe_pickle.RestrictedUnpickler(__import__("io").BytesIO(payload), safe_pickle.CIFAR10_GLOBALS).load()
