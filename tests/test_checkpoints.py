"""dlbook.files.checkpoints: TL-layout HDF5 weights and resumable training checkpoints, written atomically."""
import os

import h5py
import numpy as np
import pytest

from dlbook.files import checkpoints
from dlbook.files.checkpoints import load_checkpoint, load_weights, save_checkpoint, save_weights
from dlbook.compat import tl
from dlbook.errors import CheckpointError

import tensorflow as tf  # noqa: E402  (after dlbook.compat)


def static_mlp(hidden=6):
    ni = tl.layers.Input([None, 4])
    nn = tl.layers.Dropout(keep=0.8)(ni)
    nn = tl.layers.Dense(hidden, act=tf.nn.relu)(nn)
    return tl.models.Model(inputs=ni, outputs=tl.layers.Dense(3)(nn))


class DynamicMLP(tl.models.Model):
    def __init__(self):
        super().__init__()
        self.hidden = tl.layers.Dense(6, act=tf.nn.relu, in_channels=4)
        self.drop = tl.layers.Dropout(keep=0.8)
        self.out = tl.layers.Dense(3, in_channels=6)

    def forward(self, x):
        return self.out(self.drop(self.hidden(x)))


X = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)


def outputs(model):
    model.eval()
    return model(X).numpy()


def weights_of(model):
    return [w.numpy() for w in model.all_weights]


@pytest.mark.parametrize("make", [static_mlp, DynamicMLP])
def test_h5_round_trip_gives_equal_outputs(tmp_path, make):
    source, target = make(), make()
    assert not np.array_equal(outputs(source), outputs(target))  # different random inits
    save_weights(source, tmp_path / "model.h5")
    load_weights(target, tmp_path / "model.h5")
    np.testing.assert_array_equal(outputs(target), outputs(source))


def test_tensorlayers_own_loader_reads_our_file(tmp_path):
    source, target = static_mlp(), static_mlp()
    save_weights(source, tmp_path / "model.h5")
    tl.files.load_hdf5_to_weights_in_order(str(tmp_path / "model.h5"), target)
    np.testing.assert_array_equal(outputs(target), outputs(source))
    # Names are bytes, as TL 2.2.5's unpatched loader needs (it calls .decode() on each).
    with h5py.File(tmp_path / "model.h5", "r") as f:
        dense = f.attrs["layer_names"][-1]
        assert isinstance(dense, bytes)
        assert all(isinstance(n, bytes) for n in f[dense.decode()].attrs["weight_names"])


def test_we_read_the_file_tensorlayer_writes(tmp_path):
    source, target = static_mlp(), static_mlp()
    source.save_weights(str(tmp_path / "tl.h5"))  # TL's writer: names stored as str on h5py 3
    load_weights(target, tmp_path / "tl.h5")
    np.testing.assert_array_equal(outputs(target), outputs(source))


def test_another_architecture_names_file_and_shapes_and_assigns_nothing(tmp_path):
    save_weights(static_mlp(hidden=6), tmp_path / "model.h5")
    other = static_mlp(hidden=7)
    before = weights_of(other)
    with pytest.raises(CheckpointError) as info:
        load_weights(other, tmp_path / "model.h5")
    message = str(info.value)
    assert str(tmp_path / "model.h5") in message
    assert "(4, 7)" in message and "(4, 6)" in message  # expected and found shapes
    for old, new in zip(before, weights_of(other)):
        np.testing.assert_array_equal(old, new)


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(CheckpointError, match="not found: .*missing.h5"):
        load_weights(static_mlp(), tmp_path / "missing.h5")


def test_failed_save_leaves_previous_file_and_no_temp_files(tmp_path, monkeypatch):
    path = tmp_path / "model.h5"
    save_weights(static_mlp(), path)
    previous = path.read_bytes()

    def fail_midway(group, layers):
        group.create_group("half-written")
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(checkpoints, "_write_layers", fail_midway)
    with pytest.raises(OSError, match="simulated"):
        save_weights(static_mlp(), path)
    with pytest.raises(OSError, match="simulated"):
        save_checkpoint(tmp_path, static_mlp(), tf.optimizers.Adam(), epoch=1)
    assert path.read_bytes() == previous
    assert sorted(os.listdir(tmp_path)) == ["model.h5"]


def test_checkpoint_round_trip_restores_weights_optimizer_and_state(tmp_path):
    model, optimizer = static_mlp(), tf.optimizers.Adam(1e-3)
    model.train()
    with tf.GradientTape() as tape:
        loss = tl.cost.cross_entropy(model(X), tf.constant([0, 1, 2, 0, 1]))
    optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_weights), model.trainable_weights))
    assert load_checkpoint(tmp_path, model, optimizer) is None  # nothing saved yet
    save_checkpoint(tmp_path, model, optimizer, epoch=3, step=7, extra={"history": {"loss": [0.5]}})

    fresh, fresh_optimizer = static_mlp(), tf.optimizers.Adam(1e-3)  # not built: load builds it
    state = load_checkpoint(tmp_path, fresh, fresh_optimizer)
    assert (state["epoch"], state["step"], state["extra"]) == (3, 7, {"history": {"loss": [0.5]}})
    np.testing.assert_array_equal(outputs(fresh), outputs(model))
    assert int(fresh_optimizer.iterations) == 1
    for saved, restored in zip(optimizer.variables, fresh_optimizer.variables):
        np.testing.assert_array_equal(saved.numpy(), restored.numpy())


def test_checkpoint_of_another_optimizer_is_refused(tmp_path):
    model = static_mlp()
    save_checkpoint(tmp_path, model, tf.optimizers.Adam(), epoch=1)
    with pytest.raises(CheckpointError, match="class Adam .* class SGD"):
        load_checkpoint(tmp_path, model, tf.optimizers.SGD(momentum=0.9))
