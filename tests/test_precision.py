"""Mixed precision (dlbook.precision, compat.compute_dtype, train_step/fit's compute dtype): each
layer computes in bfloat16 what an independent oracle computes on bfloat16-rounded operands, the
variables stay float32, a mixed run tracks the float32 one and resumes exactly, and auto picks
bfloat16 only where the machine has it."""
import h5py
import ml_dtypes
import numpy as np
import pytest

from dlbook import precision
from dlbook.cli import main as dlbook
from dlbook.compat import compute_dtype, dropout_seed, tl
from dlbook.data import load_mnist_dataset
from dlbook.errors import CheckpointError, UsageError
from dlbook.files import schema
from dlbook.metrics import accuracy
from dlbook.models import get_model_batchnorm
from dlbook.models.mlp import BOOK_KEEP, get_mlp_model
from dlbook.seed import set_seed
from dlbook.train import fit, position, train_step
import tensorflow as tf  # noqa: E402  (after dlbook.compat)

BF16 = tf.bfloat16
# A bfloat16 result is the exact value rounded to 8 significant bits: relative error <= 2**-8.
# Sums of rounded products add a little more; 2**-7 of the largest magnitude bounds both here.
BF16_RTOL = 2.0**-7
RNG = np.random.default_rng(0)


def rounded(x):
    """``x`` rounded to bfloat16 (NumPy's ml_dtypes, not TensorFlow), as float64."""
    return np.asarray(x, np.float32).astype(ml_dtypes.bfloat16).astype(np.float64)


def assert_bf16_close(actual, oracle):
    actual = np.asarray(tf.cast(actual, tf.float32), np.float64)
    np.testing.assert_allclose(actual, oracle, rtol=0, atol=BF16_RTOL * np.abs(oracle).max())


def normal(*shape):
    return RNG.normal(size=shape).astype(np.float32)


# -- each layer under compute_dtype(bfloat16) against an oracle on bf16-rounded operands ------

def test_dense_computes_in_bf16_and_its_gradient_arrives_float32():
    ni = tl.layers.Input([None, 6])
    model = tl.models.Model(ni, tl.layers.Dense(5, act=tf.nn.relu, b_init=tl.initializers.random_normal())(ni))
    model.train()
    x = normal(4, 6)
    W, b = (w.numpy() for w in model.trainable_weights)
    with tf.GradientTape() as tape, compute_dtype(BF16):
        out = model(x)
        loss = tf.reduce_sum(tf.cast(out, tf.float32))
    assert out.dtype == BF16
    assert_bf16_close(out, np.maximum(rounded(x) @ rounded(W) + rounded(b), 0))
    grads = tape.gradient(loss, model.trainable_weights)
    assert [g.dtype for g in grads] == [tf.float32, tf.float32]
    assert [w.dtype for w in model.trainable_weights] == [tf.float32, tf.float32]
    active = (rounded(x) @ rounded(W) + rounded(b) > 0).astype(np.float64)  # d loss / d W = x^T relu'
    assert_bf16_close(grads[0], rounded(x).T @ active)


def test_conv2d_computes_in_bf16():
    ni = tl.layers.Input([None, 6, 6, 3])
    conv = tl.layers.Conv2d(4, (3, 3), (1, 1), padding="SAME", b_init=tl.initializers.random_normal())
    model = tl.models.Model(ni, conv(ni))
    model.eval()
    x = normal(2, 6, 6, 3)
    with compute_dtype(BF16):
        out = model(x)
    assert out.dtype == BF16 and conv.W.dtype == tf.float32
    oracle = tf.nn.conv2d(rounded(x), rounded(conv.W.numpy()), 1, "SAME") + rounded(conv.b.numpy())  # float64
    assert_bf16_close(out, oracle.numpy())


def test_batchnorm_normalises_and_updates_its_statistics_in_float32():
    ni = tl.layers.Input([None, 3, 3, 4])
    bn = tl.layers.BatchNorm2d(decay=0.9, act=tf.nn.relu)
    model = tl.models.Model(ni, bn(ni))
    model.train()
    x = tf.cast(normal(5, 3, 3, 4) * 3 + 1, BF16)  # what a bf16 convolution hands it
    mean0, var0 = bn.moving_mean.numpy(), bn.moving_var.numpy()  # (building ran a training forward)
    with compute_dtype(BF16):
        out = model(x)
    assert out.dtype == BF16 and bn.moving_mean.dtype == tf.float32
    exact = np.asarray(tf.cast(x, tf.float64))
    mean, var = exact.mean((0, 1, 2)), exact.var((0, 1, 2))
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.9 * mean0 + 0.1 * mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.moving_var.numpy(), 0.9 * var0 + 0.1 * var, rtol=1e-5)
    assert_bf16_close(out, np.maximum((exact - mean) / np.sqrt(var + bn.epsilon), 0))


def test_embedding_looks_up_float32_rows_and_returns_them_rounded():
    ni = tl.layers.Input([None, 3], dtype=tf.int32)
    embedding = tl.layers.Embedding(vocabulary_size=7, embedding_size=4)
    model = tl.models.Model(ni, embedding(ni))
    model.eval()
    ids = np.array([[0, 6, 2], [3, 3, 1]], np.int32)
    with compute_dtype(BF16):
        out = model(ids)
    assert out.dtype == BF16
    np.testing.assert_array_equal(tf.cast(out, tf.float64), rounded(embedding.embeddings.numpy()[ids]))


def test_dropout_draws_the_float32_runs_masks():
    ni = tl.layers.Input([None, 50])
    model = tl.models.Model(ni, tl.layers.Dropout(keep=0.8)(ni))
    model.train()
    x, key = normal(8, 50), tf.constant([3, 4], tf.int64)
    with dropout_seed(key):
        full = model(x).numpy()
    with dropout_seed(key), compute_dtype(BF16):
        low = model(x)
    assert low.dtype == BF16 and 0 < (full == 0).mean() < 0.4
    np.testing.assert_array_equal(tf.cast(low, tf.float64), rounded(full))  # same masks, same scale


def test_rnn_keeps_its_keras_cell_in_float32():
    ni = tl.layers.Input([2, 4, 3])
    rnn = tl.layers.RNN(cell=tf.keras.layers.GRUCell(units=5), in_channels=3, return_last_output=False,
                        return_last_state=False)
    model = tl.models.Model(ni, rnn(ni))
    model.eval()
    x = tf.cast(normal(2, 4, 3), BF16)
    with compute_dtype(BF16):
        out = model(x)
    assert out.dtype == tf.float32
    np.testing.assert_array_equal(out, model(tf.cast(x, tf.float32)))  # the float32 RNN on the same input


def test_outside_the_context_the_layers_are_tensorlayers():
    ni = tl.layers.Input([None, 4, 4, 2])
    conv = tl.layers.Conv2d(3, (3, 3), (1, 1), padding="SAME")
    dense = tl.layers.Dense(2, in_channels=48)
    model = tl.models.Model(ni, dense(tl.layers.Flatten()(conv(ni))))
    model.eval()
    x = tf.constant(normal(2, 4, 4, 2))
    hidden = type(conv).forward.__wrapped__(conv, x)
    with compute_dtype(tf.float32):  # float32 is no mixed precision at all
        out = model(x)
    assert out.dtype == tf.float32
    np.testing.assert_array_equal(out, type(dense).forward.__wrapped__(dense, tf.reshape(hidden, [2, -1])))


# -- training in mixed precision -------------------------------------------------------------

def tiny_mnist():
    X_train, y_train, X_val, y_val, _, _ = load_mnist_dataset(shape=(-1, 784), path="data/tiny")
    return X_train[:1024], y_train[:1024], X_val, y_val


def test_a_mixed_fit_tracks_the_float32_fit():
    """The 1.10.4 MLP, 3 epochs of the tiny MNIST from the same weights and seed in each precision:
    each epoch's training and validation loss within 2% of float32's, and not equal to it."""
    X, y, X_val, y_val = tiny_mnist()
    histories = {}
    for name in ("float32", "mixed_bfloat16"):
        tf.random.set_seed(0)
        network = get_mlp_model([None, 784], keep=BOOK_KEEP)
        histories[name] = fit(network, tf.optimizers.Adam(0.001), tl.cost.cross_entropy, X, y, acc=accuracy,
                              batch_size=256, n_epoch=3, X_val=X_val, y_val=y_val, seed=0, verbose=0,
                              precision=name)
    full, mixed = histories["float32"], histories["mixed_bfloat16"]
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(mixed[key], full[key], rtol=0.02)
        assert mixed[key] != full[key]  # it did compute in bfloat16
    assert full["val_loss"][-1] < 0.8 * full["val_loss"][0]  # and both learned


def test_the_cnn_and_the_chatbot_train_in_mixed_precision(tmp_path, capsys):
    """Three 1.10.5 steps (BatchNorm, dropout) in each precision from the same weights: losses
    within 3%, float32 weights and BatchNorm statistics; then a 1.10.6 run and its first line."""
    x, y = normal(8, 24, 24, 3), np.arange(8, dtype=np.int32) % 10
    losses, nets = {}, {}
    for dtype in (None, "bfloat16"):
        set_seed(1)  # op determinism on: bfloat16 convolutions and matmuls run under it
        nets[dtype] = net = get_model_batchnorm([None, 24, 24, 3], dense_keep=0.5)
        step = train_step(net, tf.optimizers.SGD(0.01), tl.cost.cross_entropy, compute_dtype=dtype)
        losses[dtype] = [float(step(x, y, position(0, 0, i))["loss"]) for i in range(3)]
    np.testing.assert_allclose(losses["bfloat16"], losses[None], rtol=0.03)
    assert losses["bfloat16"] != losses[None]  # it did compute in bfloat16
    assert {w.dtype for w in nets["bfloat16"].all_weights} == {tf.float32}
    moving_mean = nets["bfloat16"].all_weights[3]  # the first BatchNorm's, updated by the steps
    np.testing.assert_allclose(moving_mean.numpy(), nets[None].all_weights[3].numpy(), rtol=0.02, atol=1e-3)

    out = tmp_path / "chat"
    assert dlbook(["run", "1.10.6", "--precision", "mixed_bfloat16", "--epochs", "3", "--max-pairs", "24",
                   "--n-layer", "1", "--n-units", "16", "--emb-dim", "8", "--query-len", "5",
                   "--decoder-seq-length", "6", "--sample-every", "0", "--output-dir", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[1].startswith("precision: mixed_bfloat16 (as asked") and printed[2].startswith("Epoch 1/3")
    losses = schema.read_json(out / "run.json")["history"]["loss"]
    assert losses[-1] < losses[0]
    # a resume in another precision is refused before anything trains
    assert dlbook(["run", "1.10.6", "--precision", "float32", "--resume", "--epochs", "4", "--max-pairs", "24",
                   "--n-layer", "1", "--n-units", "16", "--emb-dim", "8", "--query-len", "5",
                   "--decoder-seq-length", "6", "--output-dir", str(out)]) == 2
    assert "precision: saved 'mixed_bfloat16', now 'float32'" in capsys.readouterr().err


def mlp(dropout=True):
    ni = tl.layers.Input([None, 4])
    nn = tl.layers.Dropout(keep=0.5)(ni) if dropout else ni
    nn = tl.layers.Dense(8, act=tf.nn.relu)(nn)
    return tl.models.Model(inputs=ni, outputs=tl.layers.Dense(3)(nn))


def test_mixed_resume_is_exact_its_files_float32_and_another_precision_refused(tmp_path):
    """2 epochs in one go == 1 epoch then a resume (mixed precision, dropout on); model.h5 holds
    float32; resuming with float32 (or auto, float32 on a CPU without bf16) is refused."""
    X = RNG.normal(size=(23, 4)).astype(np.float32)
    Y = (X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 0)
    args = dict(acc=accuracy, batch_size=8, seed=3, verbose=0, precision="mixed_bfloat16")
    straight, first = mlp(), mlp()
    for s, t in zip(straight.all_weights, first.all_weights):
        t.assign(s)
    fit(straight, tf.optimizers.Adam(0.01), tl.cost.cross_entropy, X, Y, n_epoch=2, **args)
    fit(first, tf.optimizers.Adam(0.01), tl.cost.cross_entropy, X, Y, n_epoch=1, checkpoint_dir=tmp_path, **args)
    resumed = mlp()
    fit(resumed, tf.optimizers.Adam(0.01), tl.cost.cross_entropy, X, Y, n_epoch=2, checkpoint_dir=tmp_path, **args)
    for a, b in zip(straight.all_weights, resumed.all_weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    with h5py.File(tmp_path / "model.h5") as f:
        dtypes = set()
        f.visititems(lambda name, item: dtypes.add(item.dtype) if isinstance(item, h5py.Dataset) else None)
    assert dtypes == {np.dtype(np.float32)}
    with pytest.raises(UsageError, match="precision: saved 'mixed_bfloat16', now 'float32'"):
        fit(mlp(), tf.optimizers.Adam(0.01), tl.cost.cross_entropy, X, Y, n_epoch=3, checkpoint_dir=tmp_path,
            **{**args, "precision": "float32"})


def test_run_json_precision_is_checked_by_the_schema():
    record = {"epoch": 1, "step": 0, "options": {"precision": "float32"}}
    assert schema.check(record, schema.RUN_RECORD, "run.json") is record
    with pytest.raises(CheckpointError, match="run.json: field 'options.precision'"):
        schema.check({**record, "options": {"precision": "float8"}}, schema.RUN_RECORD, "run.json")


# -- auto --------------------------------------------------------------------------------------

ZEN3 = "processor\t: 0\nflags\t\t: fpu sse sse2 avx avx2 fma vaes\nbugs\t\t: sysret_ss_attrs\n"
ZEN4 = "processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_vnni avx512_bf16 vaes\n"
SAPPHIRE_RAPIDS = "flags\t\t: avx512f amx_bf16 amx_tile amx_int8\n"


@pytest.mark.parametrize("cpuinfo, expected, reason", [
    (ZEN4, "mixed_bfloat16", "auto: this CPU has AVX512_BF16"),
    (SAPPHIRE_RAPIDS, "mixed_bfloat16", "auto: this CPU has AMX"),
    (ZEN3, "float32", "auto: " + precision.NO_BF16),
    ("", "float32", "auto: " + precision.NO_BF16),  # not Linux: nothing known, the safe choice
])
def test_auto_on_a_cpu_reads_the_flags(cpuinfo, expected, reason):
    assert precision.resolve("auto", cpuinfo=cpuinfo, gpus=[]) == (expected, reason)


def test_auto_on_a_gpu_needs_compute_capability_8():
    assert precision.resolve("auto", cpuinfo=ZEN3, gpus=[(8, 6)]) == (
        "mixed_bfloat16", "auto: the GPU has compute capability 8.6")
    assert precision.resolve("auto", cpuinfo=ZEN4, gpus=[(8, 0), (7, 5)]) == (
        "float32", "auto: the GPU has compute capability 7.5 (below 8.0)")


def test_an_explicit_choice_is_kept_with_a_warning_where_bf16_is_slow():
    assert precision.resolve("float32", cpuinfo=ZEN4, gpus=[]) == ("float32", precision.ALL_FLOAT32)
    assert precision.resolve("mixed_bfloat16", cpuinfo=ZEN4, gpus=[]) == ("mixed_bfloat16", "as asked")
    assert precision.resolve("mixed_bfloat16", cpuinfo=ZEN3, gpus=[]) == (
        "mixed_bfloat16", "as asked; " + precision.NO_BF16)
    with pytest.raises(UsageError, match="precision must be one of float32, mixed_bfloat16, auto"):
        precision.resolve("float16")


@pytest.mark.parametrize("environ, machine, expected", [
    ({}, "x86_64", "1"), ({"TF_ENABLE_ONEDNN_OPTS": ""}, "x86_64", "1"),
    ({"TF_ENABLE_ONEDNN_OPTS": "0"}, "x86_64", "0"),  # the user's choice stays
    ({}, "aarch64", None)])                          # elsewhere TensorFlow's own default
def test_onednn_is_preferred_on_x86_64_unless_the_user_chose(environ, machine, expected, monkeypatch):
    monkeypatch.delitem(__import__("sys").modules, "tensorflow")  # as before TensorFlow loads
    precision.prefer_onednn(environ, machine=machine)
    assert environ.get(precision.ONEDNN_ENV) == expected


def test_once_tensorflow_is_loaded_the_environment_is_left_alone():
    environ = {}
    precision.prefer_onednn(environ, machine="x86_64")  # tensorflow is imported in this process
    assert environ == {}


@pytest.mark.skipif(__import__("platform").machine().lower() not in ("x86_64", "amd64"), reason="x86-64 only")
def test_importing_dlbook_first_turns_tensorflows_onednn_on():
    import os
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    code = ("import dlbook; from tensorflow.python.util import _pywrap_util_port as port; "
            "print(port.IsMklEnabled())")  # TensorFlow's own report of its oneDNN kernels
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "True", out.stderr
