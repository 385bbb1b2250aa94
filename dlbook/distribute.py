"""Data-parallel training with ``tf.distribute``: ``--strategy {default,mirrored,multiworker}``.

    from dlbook import distribute
    distribute.setup(cpu_devices=2)                  # BEFORE TensorLayer is imported (see below)
    strategy = distribute.get_strategy("mirrored")   # 2 replicas: CPU:0 and CPU:1 (or every GPU)
    with distribute.scope(strategy):
        net = get_model_batchnorm([None, 24, 24, 3])
        optimizer = tf.optimizers.Adam(1e-4)
    train_step = distribute.TrainStep(strategy, net, optimizer,
                                      distribute.per_example_cross_entropy, acc=accuracy)
    net.train()
    for X_batch, y_batch in train_dl:                 # GLOBAL batches (e.g. 128 images)
        loss, acc = train_step(X_batch, y_batch)      # each of the N replicas trains on 128/N

One optimizer step of N replicas on a global batch of B examples is the step of one device on
the same B examples (tested: ``tests/test_distribute.py``): each replica sums its per-example
losses and divides by the GLOBAL batch size (``tf.nn.compute_average_loss``; B is all-reduced,
so the last, partial batch is weighted by its real size), a regulariser is scaled by 1/N
(``tf.nn.scale_regularization_loss``), and the optimizer all-reduces (sums) the gradients.

Three things differ from one device, by design of data parallelism:

* BatchNorm normalizes each replica's share with that share's statistics (no sync BN); the
  moving mean and variance become the mean over replicas of each replica's update (``scope``
  gives them MEAN aggregation; TensorLayer's default lets the replicas' copies drift apart:
  errata ``tl-batchnorm-mirrored``). So the moving mean equals one device's when the shares
  are equal in size, and the moving variance misses the spread between the replicas' means.
* Dropout draws its masks independently on each replica: the same distribution, other masks.
* float32 sums are taken in another order: losses agree to ~1e-7 relative, not bit for bit.

A last global batch smaller than the number of replicas leaves a replica without examples: its
loss and metric weigh 0, but a BatchNorm's statistics of an empty share are NaN (keep the last
batch at least N examples long, or drop it, for BatchNorm models).

Devices must be configured before TensorFlow initialises them, and importing TensorLayer does
that (it creates tensors at import). :func:`setup` (splitting the CPU, creating the
multi-worker strategy) must therefore run before ``from dlbook.compat import tl``;
``dlbook run SECTION --strategy ... --cpu-devices N`` calls :func:`setup_from_argv` before it
imports the section. This module imports TensorFlow only, never TensorLayer.

Multi-worker: every process runs the same command with its own ``TF_CONFIG`` (cluster + task),
e.g. for two workers on this machine::

    TF_CONFIG='{"cluster": {"worker": ["127.0.0.1:20001", "127.0.0.1:20002"]},
                "task": {"type": "worker", "index": 0}}' dlbook run 1.10.4 --strategy multiworker &
    TF_CONFIG='{"cluster": {"worker": ["127.0.0.1:20001", "127.0.0.1:20002"]},
                "task": {"type": "worker", "index": 1}}' dlbook run 1.10.4 --strategy multiworker

Each worker must read the same global batches in the same order (same ``--seed``); each trains
on its replicas' share of every batch (:class:`TrainStep` slices it), and worker 0 (the chief)
is the one that should write files.
"""
import argparse
import contextlib
import json
import os

import dlbook  # noqa: F401  (holds TensorFlow's start-up lines: dlbook.quiet)
import tensorflow as tf

from dlbook.errors import DlbookError, UsageError
from dlbook.options import cpu_devices, max_cpu_devices

STRATEGIES = ("default", "mirrored", "multiworker")
TF_CONFIG_EXAMPLE = ('{"cluster": {"worker": ["127.0.0.1:20001", "127.0.0.1:20002"]}, '
                     '"task": {"type": "worker", "index": 0}}')

_multiworker = None  # MultiWorkerMirroredStrategy can be created once per process, at startup


# -- devices and strategies -------------------------------------------------------------------

def split_cpu(n):
    """Split the first CPU into ``n`` logical devices (CPU:0 .. CPU:n-1), e.g. to run
    MirroredStrategy with n replicas on a machine without GPUs. Calling it again with the same
    ``n`` does nothing. Must run before TensorFlow initialises its devices."""
    if not isinstance(n, int) or not 1 <= n <= max_cpu_devices():
        raise UsageError(f"split_cpu needs 1 to {max_cpu_devices()} devices on this machine (4 per CPU core), "
                         f"got {n!r}")
    cpu = tf.config.list_physical_devices("CPU")[0]
    current = tf.config.get_logical_device_configuration(cpu)
    if current is not None and len(current) == n:
        return
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * n)
    except RuntimeError:  # errata: tl-import-initialises-tf
        raise UsageError(
            f"cannot split the CPU into {n} devices: TensorFlow has already initialised its devices "
            f"({len(tf.config.list_logical_devices('CPU'))} CPU device(s)). Call "
            f"dlbook.distribute.setup(cpu_devices={n}) before anything creates a tensor, in "
            f"particular before `from dlbook.compat import tl` (importing TensorLayer creates "
            f"tensors); on the command line use `dlbook run SECTION --cpu-devices {n}`") from None


def read_tf_config(environ=None):
    """The parsed, checked ``TF_CONFIG`` of a multi-worker job; UsageError naming the fix."""
    environ = os.environ if environ is None else environ
    fix = f"set it in every process, e.g. TF_CONFIG='{TF_CONFIG_EXAMPLE}' (index 1 in the second)"
    text = environ.get("TF_CONFIG", "").strip()
    if not text:
        raise UsageError("--strategy multiworker needs the TF_CONFIG environment variable (the "
                         f"cluster's worker addresses and this process's task): {fix}")
    try:
        config = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"TF_CONFIG is not valid JSON ({exc.msg} at character {exc.pos}): {fix}") from None
    cluster = config.get("cluster") if isinstance(config, dict) else None
    workers = cluster.get("worker") if isinstance(cluster, dict) else None
    if not (isinstance(workers, list) and workers):
        raise UsageError(f'TF_CONFIG has no "cluster": {{"worker": [...]}} list of addresses: {fix}')
    for address in workers:
        host, _, port = str(address).rpartition(":")
        if not (host and port.isdigit()):
            raise UsageError(f'TF_CONFIG worker address {address!r} is not "host:port": {fix}')
    task = config.get("task")
    if not (isinstance(task, dict) and task.get("type") in cluster
            and isinstance(task.get("index"), int) and 0 <= task["index"] < len(cluster[task["type"]])):
        raise UsageError(f'TF_CONFIG "task" must name this process, {{"type": "worker", "index": i}} '
                         f"with i from 0 to {len(workers) - 1}; got {task!r}: {fix}")
    return config


def _local_devices():
    """Every GPU, else every (logical) CPU: the devices MirroredStrategy mirrors over."""
    return [d.name for d in tf.config.list_logical_devices("GPU")] or \
        [d.name for d in tf.config.list_logical_devices("CPU")]


def get_strategy(name="default"):
    """The ``tf.distribute`` strategy for ``--strategy name``.

    default: TensorFlow's default strategy (one device, no distribution).
    mirrored: MirroredStrategy over every local GPU, or every logical CPU (see ``split_cpu``).
    multiworker: MultiWorkerMirroredStrategy configured from ``TF_CONFIG``; create it with
      ``setup(strategy="multiworker")`` at program start (this returns that instance).
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy(devices=_local_devices())
    if name == "multiworker":
        global _multiworker
        if _multiworker is None:
            read_tf_config()
            try:
                _multiworker = tf.distribute.MultiWorkerMirroredStrategy()
            except RuntimeError as exc:
                if "startup" not in str(exc):
                    raise
                raise UsageError(
                    "--strategy multiworker must be set up before TensorFlow initialises: call "
                    "dlbook.distribute.setup(strategy='multiworker') before "
                    "`from dlbook.compat import tl` (or use `dlbook run SECTION --strategy multiworker`)"
                ) from None
        return _multiworker
    raise UsageError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}")


def setup(strategy="default", cpu_devices=None):
    """Configure devices at program start: split the CPU, create the multi-worker strategy.

    Call before TensorFlow initialises (before ``from dlbook.compat import tl``); later calls
    with the same arguments do nothing.
    """
    if cpu_devices is not None and cpu_devices > 1:
        split_cpu(cpu_devices)
    if strategy == "multiworker":
        get_strategy(strategy)
    elif strategy not in STRATEGIES:
        raise UsageError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")


def add_strategy_args(parser):
    """Add ``--strategy`` and ``--cpu-devices`` to a section's parser."""
    parser.add_argument("--strategy", choices=STRATEGIES, default="default",
                        help="data-parallel training: one device, MirroredStrategy over the local "
                             "GPUs (or CPU devices), or MultiWorkerMirroredStrategy from TF_CONFIG")
    parser.add_argument("--cpu-devices", type=cpu_devices, default=None, metavar="N",
                        help="split the CPU into N logical devices (for --strategy mirrored "
                             "without GPUs)")
    return parser


def setup_from_argv(argv):
    """:func:`setup` from a section's ``--strategy`` / ``--cpu-devices`` options, if given.

    For the CLI, before it imports the section. Other options, and mistakes in these two, are
    left to the section's own parser, which reports them as one line."""
    parser = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    parser.add_argument("--strategy", default="default")
    parser.add_argument("--cpu-devices", default=None)
    try:
        args, _ = parser.parse_known_args(argv)
        setup(args.strategy, cpu_devices(args.cpu_devices) if args.cpu_devices else None)
    except (argparse.ArgumentError, argparse.ArgumentTypeError, DlbookError):
        pass


def strategy_from_args(args):
    """The strategy for parsed ``--strategy`` / ``--cpu-devices``; prints one line saying so
    (unless it is the default, one-device strategy)."""
    setup(args.strategy, args.cpu_devices)
    strategy = get_strategy(args.strategy)
    if args.strategy != "default":
        print(describe(strategy, args.strategy))
    return strategy


def is_chief(strategy):
    """True in the process that should write files: worker 0 of a multi-worker job, else always."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or resolver.task_type in (None, "chief"):
        return True
    return (resolver.task_type == "worker" and resolver.task_id == 0
            and "chief" not in resolver.cluster_spec().as_dict())


def describe(strategy, name=""):
    """One line: the strategy, its replica count and devices."""
    label = f"strategy: {name or type(strategy).__name__}, {strategy.num_replicas_in_sync} replica(s)"
    if not tf.distribute.has_strategy() and strategy is tf.distribute.get_strategy():
        return label  # the default strategy has no device list
    devices = ", ".join(d.rsplit("/", 1)[-1].replace("device:", "") for d in strategy.extended.worker_devices)
    local = "this worker: " if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) else ""
    return f"{label} ({local}{devices})"


# -- models and data --------------------------------------------------------------------------

@contextlib.contextmanager
def scope(strategy):
    """``strategy.scope()`` for building a TensorLayer model and its optimizer.

    TensorLayer creates plain ``tf.Variable``s, which become mirrored variables under the
    strategy; variables created without an aggregation get MEAN aggregation, so that a
    BatchNorm's moving mean/variance, updated inside each replica, stay one value: the mean of
    the replicas' updates. (TL's default, NONE, lets each replica keep its own copy and a
    checkpoint saves replica 0's: errata ``tl-batchnorm-mirrored``.) Trainable weights are
    updated by the optimizer after the all-reduce; their aggregation is not used.
    """
    def mean_aggregation(next_creator, **kwargs):
        if kwargs.get("aggregation") in (None, tf.VariableAggregation.NONE):
            kwargs["aggregation"] = tf.VariableAggregation.MEAN  # errata: tl-batchnorm-mirrored
        return next_creator(**kwargs)

    with strategy.scope(), tf.variable_creator_scope(mean_aggregation):
        yield strategy


def distribute_dataset(strategy, dataset):
    """Split each GLOBAL batch of a batched ``tf.data.Dataset`` across the replicas.

    With several workers each keeps its part of every batch (auto-shard by data: works for
    in-memory datasets too, not only files). Feed the result's elements to :class:`TrainStep`.
    """
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return strategy.experimental_distribute_dataset(dataset.with_options(options))


def per_example_cross_entropy(logits, labels):
    """Softmax cross-entropy of each example (integer labels): ``tl.cost.cross_entropy``
    before its batch mean."""
    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)


def from_batch_mean(cost):
    """Per-example losses from a batch-mean ``cost(logits, y)`` such as ``tl.cost.cross_entropy``:
    each example gets the batch mean, so their sum is the batch's total loss, exactly."""
    def per_example(logits, labels):
        return tf.fill(tf.shape(labels)[:1], cost(logits, labels))
    per_example.__name__ = f"per_example_{getattr(cost, '__name__', 'cost')}"
    return per_example


# -- the train step ---------------------------------------------------------------------------

class TrainStep:
    """One data-parallel optimizer step: ``loss, acc = train_step(X_batch, y_batch)``.

    ``network``: a TensorLayer model built inside :func:`scope` (call ``network.train()``
    first); ``optimizer``: a Keras optimizer created inside it too; ``loss_fn(logits, y)``:
    the loss of EACH example (shape [batch], e.g. :func:`per_example_cross_entropy`);
    ``acc(logits, y)``: optional batch-mean metric; ``regularizer()``: optional scalar penalty
    added once per step (e.g. ``lambda: 1e-4 * tf.add_n([tf.nn.l2_loss(w) for w in Ws])``).

    ``X_batch, y_batch``: a global batch (tensors or arrays; each replica takes its contiguous
    share) or an element of :func:`distribute_dataset`. Returns the global batch's mean loss
    (plus the penalty) and mean ``acc`` (0 without one), both computed before the update. The
    step is one ``tf.function``, traced once for full batches and once for a last partial one.
    """

    def __init__(self, strategy, network, optimizer, loss_fn, acc=None, regularizer=None):
        self.strategy, self.network, self.optimizer = strategy, network, optimizer
        self.loss_fn, self.acc, self.regularizer = loss_fn, acc, regularizer
        self.weights = network.trainable_weights
        _check_built_in_scope(strategy, network, optimizer)
        with strategy.scope():
            optimizer.build(self.weights)  # its slots exist before tracing, mirrored like the weights
        self._global_step = tf.function(self._global_batch, reduce_retracing=True)
        self._distributed_step = tf.function(self._distributed_batch, reduce_retracing=True)

    def __call__(self, X_batch, y_batch, seed=None):
        """``seed``: None, or a shape-[2] integer tensor keying the step's dropout masks
        (:func:`dlbook.compat.dropout_seed`; each replica folds in its id)."""
        if isinstance(X_batch, tf.distribute.DistributedValues):
            return self._distributed_step(X_batch, y_batch, seed)
        return self._global_step(X_batch, y_batch, seed)

    def _replica_step(self, X, y, seed=None):
        ctx = tf.distribute.get_replica_context()
        n_local = tf.cast(tf.shape(y)[0], tf.float32)
        n_global = ctx.all_reduce(tf.distribute.ReduceOp.SUM, n_local)  # the last batch's real size
        if seed is not None:
            seed = tf.random.experimental.stateless_fold_in(seed, ctx.replica_id_in_sync_group)
        from dlbook.compat import dropout_seed  # not at the top: TensorLayer fixes the devices on import
        with tf.GradientTape() as tape, dropout_seed(seed):
            logits = self.network(X)
            per_example = self.loss_fn(logits, y)
            if per_example.shape.rank != 1:
                raise UsageError(f"loss_fn must return one loss per example (shape [batch]), got "
                                 f"shape {per_example.shape}; a batch-mean cost such as "
                                 f"tl.cost.cross_entropy cannot be re-weighted across replicas: "
                                 f"use dlbook.distribute.per_example_cross_entropy")
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=tf.cast(n_global, tf.int64))
            if self.regularizer is not None:
                loss += tf.nn.scale_regularization_loss(self.regularizer())
        grads = tape.gradient(loss, self.weights)
        self.optimizer.apply_gradients(zip(grads, self.weights))  # sums the replicas' gradients
        if self.acc is None:
            return loss, tf.constant(0.0)
        # a replica with no examples (a tiny last batch) has a NaN mean: it weighs 0
        return loss, tf.math.multiply_no_nan(tf.cast(self.acc(logits, y), tf.float32),
                                             tf.math.divide_no_nan(n_local, n_global))

    def _reduce(self, per_replica):
        return tuple(self.strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None)
                     for value in per_replica)

    def _distributed_batch(self, X, y, seed=None):
        return self._reduce(self.strategy.run(self._replica_step, args=(X, y, seed)))

    def _global_batch(self, X, y, seed=None):
        def replica_share(X, y, seed):
            ctx = tf.distribute.get_replica_context()
            n, i = tf.shape(y)[0], tf.cast(ctx.replica_id_in_sync_group, tf.int32)
            start, end = n * i // ctx.num_replicas_in_sync, n * (i + 1) // ctx.num_replicas_in_sync
            return self._replica_step(X[start:end], y[start:end], seed)

        return self._reduce(self.strategy.run(replica_share, args=(X, y, seed)))


def _check_built_in_scope(strategy, network, optimizer):
    """UsageError unless the model and the optimizer were created inside ``scope(strategy)``."""
    if strategy is tf.distribute.get_strategy() and not tf.distribute.has_strategy():
        return  # the default strategy: plain variables are right
    variables = network.all_weights
    if not all(isinstance(v, tf.distribute.DistributedValues) for v in variables):
        raise UsageError("the model was built outside the strategy: build it inside "
                         "`with dlbook.distribute.scope(strategy):`")
    if any(v.aggregation == tf.VariableAggregation.NONE for v in network.nontrainable_weights or ()):
        raise UsageError("the model was built in `strategy.scope()`, where its BatchNorm moving "
                         "statistics would drift apart between replicas: build it inside "
                         "`with dlbook.distribute.scope(strategy):`")
    if getattr(optimizer, "_distribution_strategy", strategy) is not strategy:
        raise UsageError("the optimizer was created outside the strategy: create it inside "
                         "`with dlbook.distribute.scope(strategy):`")
