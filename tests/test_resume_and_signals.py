"""Checkpoints survive SIGKILL in the middle of a save; SIGINT (Ctrl-C) and SIGTERM during
`dlbook run 1.10.4` save the run after the step under way and `--resume` continues it exactly,
also inside an epoch and with dropout; a second signal during the save does not spoil it; `--seed`
makes a run repeatable.

The kill and signal tests use real child processes (a signal to the process itself is the point);
the determinism test runs the command in-process through ``dlbook.cli.main``.
"""
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

from dlbook.compat import tl  # noqa: F401  (the project's TensorLayer fixes, before TF use)
import tensorflow as tf

from dlbook.files.checkpoints import CHECKPOINT_NAME, load_checkpoint, load_weights
from dlbook.cli import main as dlbook
from dlbook.models import get_mlp_model

CHILD_TIMEOUT = 240  # seconds; generous for a loaded 2-core machine, only hit when something hangs

# The child saves checkpoint k (k = 0, 1, 2, ...) with EVERY model weight and EVERY optimizer
# variable set to k, and prints "saved k" once save_checkpoint returned. A checkpoint that mixed two
# saves, or was cut short, would show other values or fail to load.
SAVER = textwrap.dedent("""
    import sys, time
    import h5py, numpy as np
    from dlbook.compat import tl
    import tensorflow as tf
    from dlbook.files.checkpoints import save_checkpoint
    from dlbook.models import get_mlp_model

    directory, mode = sys.argv[1], sys.argv[2]
    model = get_mlp_model([None, 784])  # 1.3 M weights + Adam's 2 slots: ~15 MB per checkpoint
    optimizer = tf.optimizers.Adam(1e-3)
    optimizer.build(model.trainable_weights)
    variables = list(model.all_weights) + list(optimizer.variables)
    if mode == "pause":  # in save 1, stop after half of the weights are written, and say so
        create_dataset, written = h5py.Group.create_dataset, []
        def slow_create_dataset(group, *args, **kwargs):
            written.append(1)
            if len(written) == len(variables) // 2:
                print("mid-write", flush=True)
                time.sleep(600)
            return create_dataset(group, *args, **kwargs)
    for k in range(10**6):
        for v in variables:
            v.assign(np.full(v.shape, k, dtype=tf.as_dtype(v.dtype).as_numpy_dtype))
        if mode == "pause" and k == 1:
            written.clear()
            h5py.Group.create_dataset = slow_create_dataset
        save_checkpoint(directory, model, optimizer, epoch=k, extra={"save": k})
        print(f"saved {k}", flush=True)
""")


def _start_saver(directory, mode):
    return subprocess.Popen([sys.executable, "-c", SAVER, str(directory), mode], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})


def _read_until(process, prefix):
    """Lines of ``process``'s stdout up to and including the first starting with ``prefix``."""
    lines = []
    timer = threading.Timer(CHILD_TIMEOUT, process.kill)
    timer.start()
    try:
        for line in process.stdout:
            lines.append(line)
            if line.startswith(prefix):
                return lines
    finally:
        timer.cancel()
    raise AssertionError(f"child ended before printing {prefix!r}: {''.join(lines)}{process.stderr.read()}")


def test_sigkill_during_checkpoint_save_leaves_the_last_complete_checkpoint(tmp_path):
    # Three children save concurrently. "pause" is killed while it is certainly inside its second
    # save (half of the datasets written); the "random" ones at a random moment of their save loop
    # (which is nearly all save_checkpoint time) after their first save completed.
    rng = random.Random(0)
    modes = ["pause", "random", "random"]
    children = [(tmp_path / f"run{i}", mode, _start_saver(tmp_path / f"run{i}", mode)) for i, mode in enumerate(modes)]
    try:
        for directory, mode, process in children:
            _kill_and_check(directory, mode, process, rng)
    finally:  # never leave a saver running after a failure
        for _, _, process in children:
            if process.poll() is None:
                process.kill()
                process.communicate()


def _kill_and_check(directory, mode, process, rng):
    lines = _read_until(process, "mid-write" if mode == "pause" else "saved 0")
    if mode == "random":
        threading.Event().wait(rng.uniform(0.0, 1.0))
    process.send_signal(signal.SIGKILL)
    rest, _ = process.communicate(timeout=CHILD_TIMEOUT)
    assert process.returncode == -signal.SIGKILL
    saved = [int(line.split()[1]) for line in lines + rest.splitlines(True) if line.startswith("saved ")]

    model = get_mlp_model([None, 784])
    optimizer = tf.optimizers.Adam(1e-3)
    state = load_checkpoint(directory, model, optimizer)
    k = state["epoch"]
    # The last save that returned, or the one in flight if its os.replace was reached before the kill.
    assert k in (saved[-1], saved[-1] + 1), (k, saved)
    assert state["extra"] == {"save": k}
    for v in list(model.all_weights) + list(optimizer.variables):
        assert np.all(np.asarray(v.numpy()) == k), (v.name, k)
    leftovers = [p.name for p in directory.iterdir() if p.name != CHECKPOINT_NAME]
    assert all(name.startswith(f".{CHECKPOINT_NAME}.") and name.endswith(".tmp") for name in leftovers)
    if mode == "pause":  # killed inside save 1, while its HDF5 was built in memory: save 0 is intact
        assert k == 0 and saved == [0] and leftovers == []


# 1.10.4 on the tiny data with batches of 32: 79 steps an epoch, so a signal lands inside an epoch.
MLP_RUN = ["run", "1.10.4", "--seed", "0", "--batch-size", "32"]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}

# `dlbook ...` in a child whose first save of the run is slow: half-way through its files it
# prints "saving" and sleeps, so that a second signal certainly arrives during the save.
SLOW_SAVE = textwrap.dedent("""
    import sys, time
    import dlbook.session
    from dlbook.cli import main
    write_bytes, slowed = dlbook.session.write_bytes, []
    def slow_write_bytes(path, data):
        if path.name == "model.h5" and not slowed:
            slowed.append(path)
            print("saving", flush=True)
            time.sleep(1.5)
        write_bytes(path, data)
    dlbook.session.write_bytes = slow_write_bytes
    sys.exit(main(sys.argv[1:]))
""")


def _trained_weights(directory):
    model = get_mlp_model([None, 784])
    load_weights(model, directory / "model.h5")
    return [w.numpy() for w in model.all_weights]


def _assert_same_weights(a, b):
    assert len(a) == len(b) == 6
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)  # bit-equal, not merely close


@pytest.fixture(scope="module")
def one_epoch_in_one_go(tmp_path_factory):
    """The weights of `dlbook run 1.10.4 --epochs 1` (batches of 32), uninterrupted."""
    out = tmp_path_factory.mktemp("straight") / "out"
    assert dlbook([*MLP_RUN, "--epochs", "1", "--output-dir", str(out)]) == 0
    return _trained_weights(out)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_saves_the_run_after_the_step_and_resume_is_exact(signum, one_epoch_in_one_go, tmp_path, capsys):
    """`dlbook run 1.10.4 --epochs 50` in a child, sent SIGINT (Ctrl-C) or SIGTERM (`kill`, a job
    scheduler) inside the first epoch, then the same signal again during the save. The run is saved
    complete, the child says how to continue and exits with 128 + signal; resumed to the end of
    epoch 1 it has the weights of one epoch in one go, bit for bit (dropout included)."""
    out, name = tmp_path / "out", signal.Signals(signum).name
    process = subprocess.Popen([sys.executable, "-c", SLOW_SAVE, *MLP_RUN, "--epochs", "50", "--output-dir", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    try:  # never leave 50 epochs of training running after a failure
        lines = _read_until(process, "Epoch 1/50")
        process.send_signal(signum)
        lines += _read_until(process, "saving")
        process.send_signal(signum)  # again, during the save: it must wait for the save to complete
        rest, err = process.communicate(timeout=CHILD_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    stdout = "".join(lines) + rest
    assert "Traceback" not in err, err
    assert process.returncode == 128 + signum  # 130 for Ctrl-C, 143 for SIGTERM, as shells report them
    assert err.strip().splitlines()[-1] == ("dlbook: interrupted" if signum == signal.SIGINT
                                            else "dlbook: stopped by SIGTERM")
    saved = re.search(rf"^Stopped by {name}: the run is saved in {re.escape(str(out))} "
                      r"\(0 epoch\(s\) done, (\d+) step\(s\) into epoch 1\); continue with: "
                      rf"dlbook run 1\.10\.4 --seed 0 --batch-size 32 --epochs 50 --output-dir {re.escape(str(out))} "
                      r"--resume$", stdout, re.M)
    assert saved, stdout
    assert 0 < int(saved.group(1)) < 79 and "test accuracy" not in stdout  # it stopped inside epoch 1
    assert sorted(p.name for p in (out / "snapshots").iterdir()) == ["000001"]  # complete, alone

    # SIGTERM's copy follows the links (shutil.copytree's default, as a naive backup would): it resumes too
    shutil.copytree(out, tmp_path / "copy", symlinks=signum == signal.SIGINT)
    assert dlbook([*MLP_RUN, "--epochs", "1", "--output-dir", str(tmp_path / "copy"), "--resume"]) == 0
    resumed = capsys.readouterr().out
    assert f"Resumed from {tmp_path / 'copy'}: 0 epoch(s) done, {saved.group(1)} step(s) into epoch 1" in resumed
    assert "test accuracy:" in resumed
    _assert_same_weights(_trained_weights(tmp_path / "copy"), one_epoch_in_one_go)
    assert (tmp_path / "copy" / "current").is_symlink()  # a proper run directory again


def test_same_seed_same_weights_and_exact_resume_at_an_epoch_boundary(tmp_path, capsys):
    def run(name, *options):
        assert dlbook(["run", "1.10.4", "--output-dir", str(tmp_path / name), *options]) == 0
        return _trained_weights(tmp_path / name)

    a = run("a", "--epochs", "1", "--seed", "0")
    b = run("b", "--epochs", "1", "--seed", "0")
    c = run("c", "--epochs", "1", "--seed", "1")
    _assert_same_weights(a, b)
    assert not all(np.array_equal(x, z) for x, z in zip(a, c))  # and the seed matters
    # 1 epoch, stop (its checkpoint is in b/checkpoint), --resume to 2 epochs == 2 epochs in one go
    resumed = run("b", "--epochs", "2", "--seed", "0", "--resume")  # the CLI keeps the run: same model.h5
    _assert_same_weights(resumed, run("straight", "--epochs", "2", "--seed", "0"))
    assert "Resumed from" in capsys.readouterr().out
