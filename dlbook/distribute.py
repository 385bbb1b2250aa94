"""Data-parallel training with ``tf.distribute``: ``--strategy {default,mirrored,multiworker}``.

    distribute.setup(cpu_devices=2)                  # BEFORE TensorLayer is imported
    strategy = distribute.get_strategy("mirrored")   # 2 replicas: CPU:0 and CPU:1 (or every GPU)
    with distribute.scope(strategy):
        net, optimizer = get_model_batchnorm([None, 24, 24, 3]), tf.optimizers.Adam(1e-4)
    step = dlbook.train.train_step(net, optimizer, tl.cost.cross_entropy, strategy=strategy)

The step (:mod:`dlbook.train.step`) gives each replica its share of a global batch; what that
means for the loss, BatchNorm, dropout and multi-worker runs is in docs/design.md. Devices must be
configured before TensorFlow initialises them (importing TensorLayer does), so this module
imports TensorFlow only.
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
    in-memory datasets too, not only files). Feed its elements to a
    :func:`dlbook.train.train_step` built with the strategy.
    """
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return strategy.experimental_distribute_dataset(dataset.with_options(options))


def check_built_in_scope(strategy, network, optimizer):
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
