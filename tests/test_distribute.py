"""dlbook.distribute with the one train step (dlbook.train.train_step): N replicas train like one
device on the same global batches.

Logical devices must be configured before TensorFlow initialises (and importing TensorLayer
does), so the distributed runs happen in subprocesses: one splits the CPU into 2 devices for
MirroredStrategy, two others form a 2-worker MultiWorkerMirroredStrategy job on 127.0.0.1.
Dropout is left out of these models: each replica draws its own masks, so with dropout the
runs agree in distribution only, not step by step.
"""
import json
import os
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from dlbook import distribute
from dlbook.compat import tl  # noqa: F401  (initialises TensorFlow in this process)
from dlbook.errors import UsageError
from dlbook.models import get_mlp_model
import tensorflow as tf

TIMEOUT = 240  # seconds per subprocess, generous for a loaded 2-core machine

# float32 sums taken in another order across replicas: per-step losses and final weights
# agree to ~1e-7 here; these tolerances leave room, and the un-scaled step misses by ~1e-2.
LOSS_RTOL = 1e-4
WEIGHT_ATOL = 1e-5

# The shared part of the subprocess scripts: data, the MLP, the book's one-device step.
COMMON = """
import json
import numpy as np
import tensorflow as tf
from dlbook import distribute
from dlbook.compat import tl
from dlbook.models import get_mlp_model
from dlbook.train import position, train_step

tf.random.set_seed(0)   # the initial weights; the checks hold for other seeds too
rng = np.random.default_rng(0)
N, D, C, B, L2 = 100, 20, 5, 32, 1e-3   # 3 full global batches of 32 and a last one of 4
X = rng.normal(size=(N, D)).astype(np.float32)
y = np.argmax(X @ rng.normal(size=(D, C)), axis=1).astype(np.int32)
batches = [(X[i:i + B], y[i:i + B]) for i in range(0, N, B)] * 2   # 2 epochs, same order

def build(strategy, make_model, make_optimizer, init=None, in_scope=distribute.scope):
    with in_scope(strategy):
        net, optimizer = make_model(), make_optimizer()
    for w, value in zip(net.all_weights, init or ()):
        w.assign(value)
    net.train()
    return net, optimizer

def l2(net):
    return lambda: L2 * tf.add_n([tf.nn.l2_loss(w) for w in net.trainable_weights])

mlp = lambda: get_mlp_model((None, D), n_units=16, n_classes=C)
sgd = lambda: tf.optimizers.SGD(0.5)   # SGD, not Adam: Adam would hide a wrong loss scale

def book_run(net, optimizer):
    \"\"\"One device, the book's step: batch-mean tl.cost.cross_entropy plus the L2 penalty
    differentiated, the cross-entropy reported.\"\"\"
    @tf.function(reduce_retracing=True)
    def step(xb, yb):
        with tf.GradientTape() as tape:
            ce = tl.cost.cross_entropy(net(xb), yb, name="ce")
            loss = ce + l2(net)()
        grads = tape.gradient(loss, net.trainable_weights)
        optimizer.apply_gradients(zip(grads, net.trainable_weights))
        return ce
    return [float(step(xb, yb)) for xb, yb in batches]

def max_diff(a, b):
    return max(float(np.max(np.abs(np.asarray(u) - np.asarray(v)))) for u, v in zip(a, b))

def distributed_run(strategy, init, dataset):
    net, optimizer = build(strategy, mlp, sgd, init)
    step = train_step(net, optimizer, tl.cost.cross_entropy, penalty=l2(net), strategy=strategy)
    data = batches
    if dataset:
        ds = tf.data.Dataset.from_tensor_slices((X, y)).batch(B)
        data = [batch for _ in range(2) for batch in distribute.distribute_dataset(strategy, ds)]
    return [float(step(xb, yb, position(0, 0, 0))["loss"]) for xb, yb in data], net
"""

MIRRORED = COMMON + """
default = tf.distribute.get_strategy()
mirrored = distribute.get_strategy("mirrored")
ref, ref_opt = build(default, mlp, sgd)
init = [w.numpy() for w in ref.all_weights]
mlp_out = {"replicas": mirrored.num_replicas_in_sync, "book": book_run(ref, ref_opt)}
for name, strategy, dataset in (("default", default, False), ("mirrored", mirrored, False),
                                ("mirrored_dataset", mirrored, True)):
    mlp_out[name], net = distributed_run(strategy, init, dataset)
    mlp_out[name + "_weight_diff"] = max_diff([w.numpy() for w in net.all_weights],
                                              [w.numpy() for w in ref.all_weights])
    mlp_out[name + "_types"] = sorted({type(w).__name__ for w in net.all_weights})

# the same step without the scaling: each replica's batch mean, the penalty on every replica
net, optimizer = build(mirrored, mlp, sgd, init)
@tf.function(reduce_retracing=True)
def unscaled_step(xb, yb):
    def replica(xb, yb):
        with tf.GradientTape() as tape:
            ce = tl.cost.cross_entropy(net(xb), yb, name="ce")
            loss = ce + l2(net)()
        optimizer.apply_gradients(zip(tape.gradient(loss, net.trainable_weights), net.trainable_weights))
        return ce
    return mirrored.reduce("mean", mirrored.run(replica, args=(xb, yb)), axis=None)
ds = tf.data.Dataset.from_tensor_slices((X, y)).batch(B)
mlp_out["unscaled"] = [float(unscaled_step(xb, yb)) for _ in range(2)
                       for xb, yb in distribute.distribute_dataset(mirrored, ds)]

# a global batch of 1 example: replica 1 gets none and must weigh 0 (no NaN)
from dlbook.metrics import accuracy
steps = {}
for name, strategy in (("one_example_default", default), ("one_example_mirrored", mirrored)):
    net, optimizer = build(strategy, mlp, sgd, init)
    step = train_step(net, optimizer, tl.cost.cross_entropy, metric=accuracy, strategy=strategy)
    mlp_out[name] = [float(v) for v in step(X[:1], y[:1], position(0, 0, 0)).values()]
    steps[name] = [w.numpy() for w in net.all_weights]
mlp_out["one_example_weight_diff"] = max_diff(*steps.values())

# BatchNorm CNN: one Adam step on 16 images, 8 per replica
from dlbook.models import get_model_batchnorm

images = rng.normal(1.0, 2.0, size=(16, 8, 8, 3)).astype(np.float32)
labels = rng.integers(0, 10, size=16).astype(np.int32)
cnn = lambda: get_model_batchnorm([None, 8, 8, 3])
adam = lambda: tf.optimizers.Adam(1e-3)
first = lambda net, kind: next(l for l in net.all_layers if type(l).__name__ == kind)  # the first such layer
halves = [slice(0, 8), slice(8, 16)]

one, one_opt = build(default, cnn, adam)
init = [w.numpy() for w in one.all_weights]
conv1 = first(one, "Conv2d")(tf.constant(images))   # the first BatchNorm's input, at the initial weights
stats = [tf.nn.moments(conv1[h], [0, 1, 2]) for h in halves]
v0 = first(one, "BatchNorm2d").moving_var.numpy()
two, two_opt = build(mirrored, cnn, adam, init)
ghost, _ = build(default, cnn, adam, init)   # one device, each half with its own BN statistics
per_example = lambda logits, labels: tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
ce = tl.cost.cross_entropy
bn_out = {
    "loss_one": float(train_step(one, one_opt, ce, strategy=default)(images, labels, position(0, 0, 0))["loss"]),
    "loss_two": float(train_step(two, two_opt, ce, strategy=mirrored)(images, labels, position(0, 0, 0))["loss"]),
    "loss_ghost": sum(float(tf.reduce_sum(per_example(ghost(images[h]), labels[h]))) for h in halves) / 16,
    "mean_one": first(one, "BatchNorm2d").moving_mean.numpy().tolist(),
    "mean_two": first(two, "BatchNorm2d").moving_mean.numpy().tolist(),
    "var_one": first(one, "BatchNorm2d").moving_var.numpy().tolist(),
    "var_two": first(two, "BatchNorm2d").moving_var.numpy().tolist(),
    "var_replica_mean": (0.99 * v0 + 0.01 * (stats[0][1] + stats[1][1]) / 2).numpy().tolist(),
    "copy_diff": max(max_diff(v.values[:1], v.values[1:]) for v in two.all_weights),
    "aggregations": sorted({v.aggregation.name for v in two.nontrainable_weights}),
}
# TensorLayer's variables built under plain strategy.scope(): the step refuses them, and one
# training forward leaves the two replicas with different moving means
plain, plain_opt = build(mirrored, cnn, adam, init, in_scope=lambda s: s.scope())
try:
    train_step(plain, plain_opt, ce, strategy=mirrored)
except Exception as exc:
    bn_out["plain_scope_error"] = f"{type(exc).__name__}: {exc}"
shares = mirrored.experimental_distribute_values_from_function(
    lambda ctx: images[halves[ctx.replica_id_in_sync_group]])
mirrored.run(tf.function(plain), args=(shares,))
mean = first(plain, "BatchNorm2d").moving_mean
bn_out["plain_copy_diff"] = max_diff(mean.values[:1], mean.values[1:])
print("RESULT " + json.dumps({"mlp": mlp_out, "bn": bn_out}))
"""

WORKER = COMMON + """
strategy = distribute.get_strategy("multiworker")
ref, ref_opt = build(tf.distribute.get_strategy(), mlp, sgd)
init = [w.numpy() for w in ref.all_weights]
out = {"replicas": strategy.num_replicas_in_sync, "chief": distribute.is_chief(strategy),
       "book": book_run(ref, ref_opt)}
for name, dataset in (("global", False), ("dataset", True)):
    out[name], net = distributed_run(strategy, init, dataset)
    weights = [w.numpy() for w in net.all_weights]
    out[name + "_weight_diff"] = max_diff(weights, [w.numpy() for w in ref.all_weights])
    out[name + "_weights_sum"] = float(sum(np.sum(w, dtype=np.float64) for w in weights))
print("RESULT " + json.dumps(out))
"""


def _start(setup, body, env_extra=None):
    """Start ``python -c`` with ``setup`` (devices, before TensorLayer) then ``body``."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env_extra or {})}
    code = "from dlbook import distribute\n" + setup + "\n" + textwrap.dedent(body)
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)


def _result(process):
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        pytest.fail(f"subprocess timed out after {TIMEOUT} s:\n{stderr[-3000:]}")
    lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
    assert process.returncode == 0 and lines, f"subprocess failed:\n{stderr[-3000:]}"
    return json.loads(lines[-1][len("RESULT "):])


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_mirrored_strategy_on_two_cpu_devices():
    """One subprocess (TensorFlow starts once) for the MLP and the BatchNorm CNN checks."""
    out = _result(_start("distribute.setup(cpu_devices=2)", MIRRORED))
    _check_mlp_follows_the_one_device_loss_trajectory(out["mlp"])
    _check_batchnorm_normalizes_per_replica_and_averages_moving_stats(out["bn"])


def _check_mlp_follows_the_one_device_loss_trajectory(out):
    assert out["replicas"] == 2
    assert out["mirrored_types"] == ["MirroredVariable"]  # TL's tf.Variables became mirrored
    book = np.array(out["book"])
    assert len(book) == 8 and book[-1] < book[0] - 0.02  # 8 steps that do train
    # the default strategy runs the same step code: bit-equal to the book's step
    np.testing.assert_array_equal(out["default"], book)
    assert out["default_weight_diff"] == 0.0
    for name in ("mirrored", "mirrored_dataset"):  # global batches sliced in-graph / tf.data
        np.testing.assert_allclose(out[name], book, rtol=LOSS_RTOL, err_msg=name)
        assert out[name + "_weight_diff"] < WEIGHT_ATOL, name
    # without the global-batch scaling the trajectory leaves the one-device one
    assert np.max(np.abs(np.array(out["unscaled"]) - book) / book) > 100 * LOSS_RTOL
    # a batch of 1 example: the empty replica adds nothing, and no NaN
    np.testing.assert_allclose(out["one_example_mirrored"], out["one_example_default"], rtol=LOSS_RTOL)
    assert out["one_example_weight_diff"] < WEIGHT_ATOL


def _check_batchnorm_normalizes_per_replica_and_averages_moving_stats(out):
    # each replica normalizes its 8 images with their own statistics (no sync BN):
    # the loss is the one-device loss of two 8-image "ghost" batches, not of the 16-image batch
    assert out["loss_two"] == pytest.approx(out["loss_ghost"], rel=1e-5)
    assert abs(out["loss_two"] - out["loss_one"]) > 1e-4
    # moving mean: the mean of the replicas' updates = one device's (equal shares), to 1e-6
    np.testing.assert_allclose(out["mean_two"], out["mean_one"], atol=1e-6)
    # moving variance: decay * v0 + (1 - decay) * mean of the two halves' variances
    np.testing.assert_allclose(out["var_two"], out["var_replica_mean"], rtol=1e-4)
    assert np.max(np.abs(np.array(out["var_two"]) - out["var_one"])) > 1e-6  # misses the spread
    assert out["aggregations"] == ["MEAN"] and out["copy_diff"] == 0.0  # one value on both replicas
    # errata tl-batchnorm-mirrored: TL's default aggregation lets the copies drift apart
    assert out["plain_copy_diff"] > 1e-5
    assert out["plain_scope_error"].startswith("UsageError") and "distribute.scope" in out["plain_scope_error"]


def test_two_workers_on_localhost_train_like_one_device():
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    workers = [_start('distribute.setup(strategy="multiworker")', WORKER,
                      {"TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}})})
               for i in range(2)]
    try:
        outs = [_result(w) for w in workers]
    finally:  # a worker left alone would wait for its peer until the timeout
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.communicate()
    for out in outs:
        assert out["replicas"] == 2
        for name in ("global", "dataset"):
            np.testing.assert_allclose(out[name], out["book"], rtol=LOSS_RTOL, err_msg=name)
            assert out[name + "_weight_diff"] < WEIGHT_ATOL, name
    for name in ("global", "dataset"):  # both workers end with the same weights
        assert outs[0][name + "_weights_sum"] == outs[1][name + "_weights_sum"]
    assert [out["chief"] for out in outs] == [True, False]  # worker 0 writes the files


# -- errors, in this process ------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    (None, "needs the TF_CONFIG environment variable"),
    ("{cluster: 1}", "TF_CONFIG is not valid JSON"),
    ('{"task": {"type": "worker", "index": 0}}', 'no "cluster"'),
    ('{"cluster": {"worker": ["localhost"]}, "task": {"type": "worker", "index": 0}}', '"host:port"'),
    ('{"cluster": {"worker": ["127.0.0.1:20001"]}, "task": {"type": "worker", "index": 1}}',
     "with i from 0 to 0"),
])
def test_multiworker_without_a_valid_tf_config_says_how_to_set_it(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", value)
    with pytest.raises(UsageError, match="TF_CONFIG") as info:
        distribute.get_strategy("multiworker")
    assert expected in str(info.value)
    assert distribute.TF_CONFIG_EXAMPLE in str(info.value)  # the fix, ready to copy


def test_valid_tf_config_is_accepted():
    config = distribute.read_tf_config({"TF_CONFIG": distribute.TF_CONFIG_EXAMPLE})
    assert config["task"] == {"type": "worker", "index": 0}


def test_split_cpu_after_tensorflow_started_names_the_fix():
    tf.constant(0)  # devices are initialised
    with pytest.raises(UsageError, match=r"before `from dlbook.compat import tl`.*--cpu-devices 3"):
        distribute.split_cpu(3)


def test_unknown_strategy_is_a_usage_error():
    with pytest.raises(UsageError, match="default, mirrored, multiworker"):
        distribute.get_strategy("tpu")
    with pytest.raises(UsageError, match="default, mirrored, multiworker"):
        distribute.setup("tpu")


def test_one_process_strategies_are_chief():
    assert distribute.is_chief(tf.distribute.get_strategy())
    assert distribute.is_chief(tf.distribute.MirroredStrategy(["/cpu:0"]))


def test_step_refuses_a_model_built_outside_the_strategy():
    from dlbook.train import train_step

    net = get_mlp_model((None, 4), n_units=3, n_classes=2)
    one_device = tf.distribute.MirroredStrategy(["/cpu:0"])
    with one_device.scope():
        optimizer = tf.optimizers.SGD(0.1)
    with pytest.raises(UsageError, match="built outside the strategy"):
        train_step(net, optimizer, tl.cost.cross_entropy, strategy=one_device)


@pytest.mark.parametrize("argv", [["--strategy"], ["--cpu-devices", "two"], ["--strategy", "tpu"],
                                  ["--strategy", "multiworker"], ["--epochs", "1"]])
def test_early_setup_leaves_mistakes_to_the_section_parser(monkeypatch, argv):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    distribute.setup_from_argv(argv)  # no exception, no exit: nothing to set up or report here


def test_strategy_options_parse_and_reject_bad_values():
    from dlbook.options import make_parser
    parser = distribute.add_strategy_args(make_parser(prog="dlbook run x", description="x"))
    args = parser.parse_args(["--strategy", "mirrored", "--cpu-devices", "2"])
    assert (args.strategy, args.cpu_devices) == ("mirrored", 2)
    with pytest.raises(UsageError, match="--cpu-devices"):
        parser.parse_args(["--cpu-devices", "0"])
    with pytest.raises(UsageError, match="--strategy"):
        parser.parse_args(["--strategy", "tpu"])
