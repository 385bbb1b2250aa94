"""dlbook.session: the run directory (snapshots committed at once), the rules for starting and
resuming, write failures (fault injection in the writer, and a real full disk on a small tmpfs
where the machine lets us mount one), and dropout masks keyed by a seed."""
import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dlbook.compat import dropout_seed, tl
import tensorflow as tf

from chapters.ch01 import s1_10_4_mnist_mlp as mlp_section
from dlbook import session
from dlbook.files import atomic
from dlbook.files.checkpoints import load_checkpoint, load_weights
from dlbook.cli import main as dlbook
from dlbook.errors import SaveError, UsageError
from dlbook.session import rundir as rundir_module
from dlbook.session.rundir import RunDir
from dlbook.train import fit

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 4)).astype(np.float32)
Y = (X[:, 0] > 0).astype(np.int64)


def mlp():
    ni = tl.layers.Input([None, 4])
    nn = tl.layers.Dropout(keep=0.5)(ni)
    nn = tl.layers.Dense(8, act=tf.nn.relu)(nn)
    return tl.models.Model(inputs=ni, outputs=tl.layers.Dense(2)(nn))


def _fit(directory, n_epoch, model=None):
    return fit(model or mlp(), tf.optimizers.Adam(0.01), tl.cost.cross_entropy, X, Y, batch_size=8,
               n_epoch=n_epoch, seed=1, checkpoint_dir=directory, verbose=0)


def _write(files):
    def write(directory):
        for name, text in files.items():
            (directory / name).write_text(text)
    return write


# ---------------------------------------------------------------- the run directory

def test_commit_switches_every_file_at_once_and_drops_the_old_snapshot(tmp_path):
    run = RunDir(tmp_path / "run")
    assert run.snapshot() is None and run.read_meta() is None
    first = run.commit(_write({"a.txt": "1", "b.txt": "1"}))
    assert first.name == "000001" and (tmp_path / "run" / "current").is_symlink()
    assert os.readlink(tmp_path / "run" / "a.txt") == os.path.join("current", "a.txt")
    second = run.commit(_write({"a.txt": "2", "c.txt": "2"}))  # b.txt is not in the new snapshot
    assert second.name == "000002" and run.snapshot() == second.resolve()
    assert [(tmp_path / "run" / n).read_text() for n in ("a.txt", "c.txt")] == ["2", "2"]
    assert not os.path.lexists(tmp_path / "run" / "b.txt")  # its link went with its snapshot
    assert sorted(os.listdir(tmp_path / "run" / "snapshots")) == ["000002"]


def test_a_write_failing_half_way_leaves_the_previous_snapshot_in_force(tmp_path):
    run = RunDir(tmp_path)
    run.commit(_write({"a.txt": "old", "b.txt": "old"}))

    def half(directory):
        (directory / "a.txt").write_text("new")
        raise OSError(errno.ENOSPC, "No space left on device", str(directory / "b.txt"))

    with pytest.raises(OSError, match="No space left"):
        run.commit(half)
    assert [(tmp_path / n).read_text() for n in ("a.txt", "b.txt")] == ["old", "old"]
    assert sorted(os.listdir(tmp_path / "snapshots")) == ["000001"]  # the half-written one removed


def test_a_failure_at_the_switch_leaves_the_previous_snapshot_in_force(tmp_path, monkeypatch):
    run = RunDir(tmp_path)
    run.commit(_write({"a.txt": "old"}))
    replace = os.replace

    def failing_replace(src, dst):
        if Path(dst).name == "current":
            raise OSError(errno.EIO, "Input/output error", str(dst))
        replace(src, dst)

    monkeypatch.setattr(rundir_module.os, "replace", failing_replace)
    with pytest.raises(OSError, match="Input/output error"):
        run.commit(_write({"a.txt": "new"}))
    assert (tmp_path / "a.txt").read_text() == "old" and run.snapshot().name == "000001"


def test_a_lost_current_link_falls_back_to_the_newest_complete_snapshot(tmp_path):
    run = RunDir(tmp_path)
    run.commit(_write({"a.txt": "1"}))
    run.commit(_write({"a.txt": "2"}))
    (tmp_path / "snapshots" / ".000003.tmp-x").mkdir()  # a half-written one, never in force
    os.unlink(tmp_path / "current")  # as after a crash between the steps of repairing a copy
    assert run.snapshot() == tmp_path / "snapshots" / "000002"
    run.commit(_write({"a.txt": "3"}))
    assert (tmp_path / "a.txt").read_text() == "3"
    assert sorted(os.listdir(tmp_path / "snapshots")) == ["000003"]


def test_a_copy_that_followed_the_links_reads_and_commits(tmp_path):
    run = RunDir(tmp_path / "a")
    run.commit(_write({"a.txt": "1"}))
    shutil.copytree(tmp_path / "a", tmp_path / "b")  # real files and a real `current` directory
    copy = RunDir(tmp_path / "b")
    assert not (tmp_path / "b" / "current").is_symlink() and (copy.snapshot() / "a.txt").read_text() == "1"
    copy.commit(_write({"a.txt": "2"}))
    assert (tmp_path / "b" / "current").is_symlink() and (tmp_path / "b" / "a.txt").is_symlink()
    assert (tmp_path / "b" / "a.txt").read_text() == "2"
    assert (tmp_path / "a" / "a.txt").read_text() == "1"  # the original untouched


# ---------------------------------------------------------------- starting and resuming

def test_a_new_run_where_one_is_saved_is_refused_overwrite_replaces_it_only_when_it_saves(tmp_path):
    _fit(tmp_path, 1)
    with pytest.raises(UsageError, match=rf"{tmp_path} already holds a run of `fit`, 1 epoch\(s\) "
                                         r"done: add --resume to continue it, or --overwrite"):
        session.open(tmp_path)
    before = (tmp_path / "model.h5").read_bytes()
    run = session.open(tmp_path, overwrite=True)
    run.restore(mlp(), tf.optimizers.Adam())
    assert (tmp_path / "model.h5").read_bytes() == before  # nothing deleted before the new run saves
    run.save()
    assert (tmp_path / "model.h5").read_bytes() != before
    assert json.loads((tmp_path / "run.json").read_text())["epoch"] == 0


def test_resume_checks_the_options_and_names_every_difference(tmp_path):
    run = session.open(tmp_path, options={"seed": 1, "batch_size": 32, "corpus": "a.tsv"}, command="x --resume")
    run.restore(mlp(), tf.optimizers.Adam())
    run.save()
    with pytest.raises(UsageError) as info:
        session.open(tmp_path, resume=True, options={"seed": 2, "batch_size": 32, "corpus": "b.tsv"})
    message = str(info.value)
    assert "seed: saved 1, now 2" in message and "corpus: saved 'a.tsv', now 'b.tsv'" in message
    assert "batch_size" not in message and "\n" not in message
    assert session.open(tmp_path, resume=True, options={"seed": 1, "batch_size": 32}).resuming


def test_resume_with_nothing_to_resume_and_files_of_an_older_dlbook(tmp_path):
    with pytest.raises(UsageError, match=rf"--resume: {tmp_path / 'none'} holds no run to continue; "
                                         r"leave out --resume to start one"):
        session.open(tmp_path / "none", resume=True)
    (tmp_path / "model.h5").write_bytes(b"weights of an older dlbook run")
    with pytest.raises(UsageError, match=r"an older dlbook wrote \(model.h5\); a run never adopts them on its "
                                         r"own: add --overwrite") as refused:
        session.open(tmp_path)
    assert "--resume" not in str(refused.value)  # such files cannot be resumed: never offered
    with pytest.raises(UsageError, match=r"not written by dlbook \(model.h5\), which cannot be resumed"):
        session.open(tmp_path, resume=True)
    assert not session.open(tmp_path, overwrite=True).resuming


@pytest.mark.parametrize("trainer", ["1.10.4", "1.10.5", "1.10.6"])
def test_resume_with_nothing_to_resume_is_the_same_message_in_every_trainer(trainer, tmp_path, capsys):
    assert dlbook(["run", trainer, "--resume", "--output-dir", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == (f"dlbook: error: --resume: {tmp_path / 'out'} holds no run to "
                                       f"continue; leave out --resume to start one\n")


# ---------------------------------------------------------------- write failures

class _FaultyOS:
    """``os`` for dlbook.files.atomic, failing like a full disk (after some bytes) or a denied open."""

    def __init__(self, errno_, after):
        self.errno, self.after, self.calls = errno_, after, 0

    def __getattr__(self, name):
        return getattr(os, name)

    def _fail(self, path=None):
        raise OSError(self.errno, os.strerror(self.errno), path)

    def open(self, path, *args, **kwargs):
        self.calls += 1
        if self.errno == errno.EACCES and self.calls > self.after:
            self._fail(str(path))
        return os.open(path, *args, **kwargs)

    def write(self, fd, data):
        if self.errno == errno.ENOSPC and self.calls > self.after:
            if len(data) > 100:
                return os.write(fd, bytes(data[:100]))  # a partial write first, as a filling disk does
            self._fail()
        return os.write(fd, data)


class _ReadOnlyTempfile:
    def __getattr__(self, name):
        import tempfile
        return getattr(tempfile, name)

    @staticmethod
    def mkdtemp(prefix="", dir=None):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.path.join(dir, prefix + "*"))


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES, errno.EROFS], ids=errno.errorcode.get)
def test_a_failed_write_keeps_the_previous_snapshot(code, tmp_path, monkeypatch):
    """fit's second epoch cannot be saved: one SaveError line naming the file and the cause; the
    first epoch's snapshot stays complete and loadable, nothing half-written is left."""
    model = mlp()
    original_save = session.Session.save

    def save_then_break(self):  # the first save succeeds, then the disk "fills"
        snapshot = original_save(self)
        if code == errno.EROFS:
            monkeypatch.setattr(rundir_module, "tempfile", _ReadOnlyTempfile())
        else:
            monkeypatch.setattr(atomic, "os", _FaultyOS(code, after=0))
        return snapshot

    monkeypatch.setattr(session.Session, "save", save_then_break)
    with pytest.raises(SaveError) as info:
        _fit(tmp_path, 3, model)
    message = str(info.value)
    assert message.startswith(f"cannot save the run in {tmp_path}: ") and "\n" not in message
    assert os.strerror(code) in message
    assert f"the run in {tmp_path} stays as last saved (1 epoch(s) done)" in message
    if code != errno.EROFS:  # the file that could not be written
        assert f"{tmp_path / 'snapshots'}/.000002.tmp-" in message
    monkeypatch.undo()
    state = load_checkpoint(tmp_path, mlp(), tf.optimizers.Adam(0.01))
    assert (state["epoch"], state["step"]) == (1, 0)
    load_weights(mlp(), tmp_path / "model.h5")
    assert sorted(os.listdir(tmp_path / "snapshots")) == ["000001"]


def test_a_full_disk_in_1_10_4_is_one_line_and_the_run_stays_loadable(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    assert dlbook(["run", "1.10.4", "--epochs", "1", "--output-dir", str(out)]) == 0
    capsys.readouterr()
    monkeypatch.setattr(atomic, "os", _FaultyOS(errno.ENOSPC, after=0))
    assert dlbook(["run", "1.10.4", "--epochs", "2", "--resume", "--output-dir", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"dlbook: error: cannot save the run in {out}: {out / 'snapshots'}/.000003.tmp-")
    assert err.rstrip().endswith(f"No space left on device; the run in {out} stays as last saved (1 epoch(s) done)")
    monkeypatch.undo()
    assert json.loads((out / "run.json").read_text())["epoch"] == 1
    load_weights(mlp_section.get_model(), out / "model.h5")
    assert sorted(os.listdir(out / "snapshots")) == ["000002"]  # the run's last save, alone


CHATBOT = ["--corpus", "chatterbot", "--max-pairs", "8", "--n-layer", "1", "--n-units", "32", "--emb-dim", "32",
           "--query-len", "5", "--decoder-seq-length", "5", "--sample-every", "0"]


@pytest.fixture
def small_tmpfs(tmp_path):
    """An 8 MB tmpfs, or a skip where mounting is not permitted (not root, a container)."""
    mount_point = tmp_path / "tmpfs"
    mount_point.mkdir()
    try:
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount_point)],
                                capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot mount a tmpfs here: {exc}")
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True, timeout=30)


def test_1_10_6_resume_on_a_full_disk_is_one_line_not_a_crash(small_tmpfs, capsys):
    """On a real full disk (8 MB tmpfs) `dlbook run 1.10.6 --resume` used to print a RuntimeError
    traceback and die of a segmentation fault (HDF5 kept the file it failed to flush half-open).
    Now: exit 1, one line naming the file and the cause, and the chatbot still loads."""
    out = small_tmpfs / "bot"
    assert dlbook(["run", "1.10.6", *CHATBOT, "--epochs", "1", "--output-dir", str(out)]) == 0
    capsys.readouterr()
    snapshot_bytes = sum(f.stat().st_size for f in (out / "current").iterdir())
    free = shutil.disk_usage(small_tmpfs).free
    (small_tmpfs / "filler").write_bytes(bytes(free - snapshot_bytes // 2))  # room for half a snapshot
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run([sys.executable, "-m", "dlbook", "run", "1.10.6", *CHATBOT, "--epochs", "2",
                             "--resume", "--output-dir", str(out)], capture_output=True, text=True, env=env,
                            timeout=300)
    lines = [line for line in result.stderr.splitlines() if line.startswith("dlbook")]
    assert result.returncode == 1, result.stderr[-3000:]  # not -11 / 139: no segmentation fault
    assert "Traceback" not in result.stderr and "RuntimeError" not in result.stderr
    assert len(lines) == 1 and lines[0].startswith(f"dlbook: error: cannot save the run in {out}: "), lines
    assert lines[0].endswith(f"No space left on device; the run in {out} stays as last saved (1 epoch(s) done)")
    os.remove(small_tmpfs / "filler")
    assert dlbook(["chat", "--checkpoint", str(out), "--mode", "greedy", "--query", "hello"]) == 0
    assert capsys.readouterr().out.startswith("> ")


# ---------------------------------------------------------------- dropout keyed by a seed

def test_dropout_seed_draws_stateless_masks_keyed_by_the_seed():
    layer = tl.layers.Dropout(keep=0.8)
    layer.is_train = True  # a layer takes its mode from its model; set by hand here
    x = tf.ones([64, 500])
    seed = tf.constant([7, 3], tf.int64)
    with dropout_seed(seed):
        first, second = layer.forward(x), layer.forward(x)  # the 1st and 2nd Dropout called in the block
    with dropout_seed(seed):
        again = layer.forward(x)
    # oracle: TF's stateless dropout with the seed folded with the layer's call order
    expected = tf.nn.experimental.stateless_dropout(x, rate=0.2, seed=tf.random.experimental.stateless_fold_in(seed, 0))
    np.testing.assert_array_equal(first.numpy(), expected.numpy())
    np.testing.assert_array_equal(again.numpy(), first.numpy())  # the same seed, the same mask
    assert not np.array_equal(first.numpy(), second.numpy())
    kept = first.numpy() != 0
    assert set(np.unique(first.numpy()[kept])) == {np.float32(1 / 0.8)}  # kept values scaled by 1/keep
    assert abs(kept.mean() - 0.8) < 0.01
    with dropout_seed(tf.constant([7, 4], tf.int64)):
        assert not np.array_equal(layer.forward(x).numpy(), first.numpy())
    outside = [layer.forward(x).numpy() for _ in range(2)]  # TensorLayer's own stateful draws
    assert not np.array_equal(*outside) and abs((outside[0] != 0).mean() - 0.8) < 0.01
    layer.is_train = False
    with dropout_seed(seed):
        np.testing.assert_array_equal(layer.forward(x).numpy(), x.numpy())  # eval mode: the identity


def test_a_damaged_run_record_is_one_clear_error(tmp_path):
    run = session.open(tmp_path, options={"seed": 1})
    run.restore(mlp(), tf.optimizers.Adam())
    run.save()
    (tmp_path / "run.json").resolve().write_text("{not json")
    from dlbook.errors import CheckpointError
    with pytest.raises(CheckpointError, match=r"run.json is not valid JSON \(Expecting .*; not the record of a dlbook run: "
                                              rf"--overwrite starts a new run in {tmp_path}"):
        session.open(tmp_path, resume=True)
    assert not session.open(tmp_path, overwrite=True).resuming
