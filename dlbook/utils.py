"""Training utilities with the book's ``tl.utils`` API: ``fit``, ``test``, ``predict``, and ``set_seed``.

``fit`` takes every argument of ``tl.utils.fit`` (TensorLayer 2.2.5) with the same meaning, and fixes
what is broken there on TensorFlow 2.21 (notes item 8)::

    history = fit(network, train_op=tf.optimizers.Adam(learning_rate=0.0001),
                  cost=tl.cost.cross_entropy, X_train=X_train, y_train=y_train, acc=accuracy,
                  batch_size=256, n_epoch=20, X_val=X_val, y_val=y_val, eval_train=False)
    test(network, accuracy, X_test, y_test, batch_size=None, cost=tl.cost.cross_entropy)
    logits = predict(network, X_test, batch_size=1000)

* the train step and the evaluation step are compiled (``tf.function``), one per mode: the network
  is traced in ``train()`` mode for training (dropout on) and ``eval()`` mode for evaluation;
* every example is used each epoch: the last, partial batch is trained on, and losses and
  accuracies are averaged with batch-size weights, so they are exact means over the set;
* sets smaller than a batch work; a second ``fit`` in one process (new model, new optimizer) works;
* float64 arrays are cast to float32 (with one warning); wrong lengths, shapes and labels raise
  :class:`~dlbook.errors.ShapeError` / :class:`~dlbook.errors.DataError` naming the array;
* a Keras-style progress bar per epoch (train and validation loss/accuracy, time), and a history dict.

And adds ``shuffle``, ``seed``, ``early_stopping``, ``checkpoint_dir`` (resumable) and ``verbose``.
"""
import contextlib
import math
import os
import random
import signal
import sys
import threading
import time
import warnings

import numpy as np

from dlbook.compat import tl  # noqa: F401  (applies the TensorLayer fixes before any use)
import tensorflow as tf

from dlbook import checkpoints, distribute
from dlbook.errors import DataError, DlbookError, ShapeError, UsageError

BEST_WEIGHTS_NAME = "best.h5"
_INDEX_SPEC = tf.TensorSpec([None], tf.int32)
_CHUNK_SPEC = tf.TensorSpec([None, None], tf.int32)
_STEPS_PER_CALL = 8  # train steps run in one compiled call (progress, Ctrl-C and NaN checks between)


def set_seed(seed, deterministic=True):
    """Seed Python, NumPy and TensorFlow; with ``deterministic``, ask TF for deterministic ops.

    On CPU this makes runs repeatable: the same seed gives the same weights.
    """
    random.seed(seed)
    np.random.seed(seed)
    tf.random.set_seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()


# -- checking the data against the model ------------------------------------------------------

def _as_array(values, name):
    array = np.asarray(values)
    if array.dtype == np.float64:  # errata: fit-float64
        warnings.warn(f"{name} is float64: cast to float32, the dtype TensorLayer's layers compute in",
                      stacklevel=4)
        array = array.astype(np.float32)
    return array


def _declared_input_shape(network):
    """The Input layer's shape of a static model, e.g. [None, 784]; None for dynamic models."""
    info = getattr(getattr(network, "_inputs", None), "_info", None)
    return list(info[0].layer.shape) if info else None


def _check_x(network, X, name):
    """Cast and check ``X`` against the model; return it and the model's output for ``X[:1]``."""
    X = _as_array(X, name)
    if X.ndim == 0 or len(X) == 0:
        raise DataError(f"{name} is empty (shape {X.shape}): give at least one example")
    declared = _declared_input_shape(network)
    if declared is not None and (
            len(declared) != X.ndim
            or any(d is not None and d != s for d, s in zip(declared[1:], X.shape[1:]))):
        raise ShapeError(f"{name} has shape {X.shape}, but the model's Input expects "
                         f"{tuple(declared)} (None: any size); reshape {name} to match")
    network.eval()
    try:
        probe = network(X[:1])
    except (tf.errors.OpError, ValueError, TypeError) as e:
        if np.issubdtype(X.dtype, np.integer) or X.dtype == np.bool_:  # ids are fine for an Embedding
            raise ShapeError(f"{name} has dtype {X.dtype}, but the model computes in float32: convert it "
                             f"first, e.g. {name} = {name}.astype(np.float32) / 255 for raw pixel bytes") from None
        first_line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ShapeError(f"{name} (shape {X.shape}, dtype {X.dtype}) does not fit the model: "
                         f"{first_line}") from None
    return X, probe


def _check_y(y, name, X, x_name, probe):
    y = _as_array(y, name)
    if y.ndim == 0 or len(y) != len(X):
        raise ShapeError(f"{x_name} has {len(X)} examples but {name} has "
                         f"{'no length' if y.ndim == 0 else len(y)}: give one label per example")
    if np.issubdtype(y.dtype, np.integer) and y.dtype not in (np.int32, np.int64):
        y = y.astype(np.int64)  # e.g. uint8 labels: TF's sparse cross-entropy takes int32/int64 only
    if y.ndim == 1 and len(probe.shape) == 2 and probe.shape[-1] > 1 and not np.issubdtype(y.dtype, np.integer):
        raise DataError(f"{name} has dtype {y.dtype}, but the model outputs {int(probe.shape[-1])} class "
                        f"scores: class labels must be integers, e.g. {name} = {name}.astype(np.int64)")
    if np.issubdtype(y.dtype, np.integer) and y.ndim == 1 and len(probe.shape) == 2:
        n_classes = int(probe.shape[-1])
        low, high = int(y.min()), int(y.max())
        if low < 0 or high >= n_classes:
            raise DataError(f"{name} has labels from {low} to {high}, but the model outputs "
                            f"{n_classes} classes: labels must be integers 0..{n_classes - 1}")
    return y


def _spec(array):
    return tf.TensorSpec((None,) + array.shape[1:], tf.as_dtype(array.dtype))


# -- compiled steps ---------------------------------------------------------------------------

def _metric(acc, logits, labels):
    """``acc(logits, labels)`` as a float32 scalar inside a graph.

    A NumPy-only metric (the book's ``np.mean(np.equal(np.argmax(...)))``) cannot run on symbolic
    tensors; it is then called through ``tf.numpy_function`` on the step's values.
    """
    if acc is None:
        return tf.constant(0.0)
    try:
        return tf.cast(acc(logits, labels), tf.float32)
    except (NotImplementedError, TypeError):
        return tf.numpy_function(lambda out, y: np.float32(acc(out, y)), [logits, labels], tf.float32)


def _make_train_step(network, optimizer, cost, acc, x_spec, y_spec, strategy=None):
    """A new compiled train function (its random ops start from the current TF seed).

    It takes a chunk of index batches ``idxs`` [k, batch] and runs the k steps in one call (a
    loop in the graph: less Python per step), returning their (loss, metric) as a [k, 2] array.
    """
    if strategy is not None:  # data-parallel: each replica trains on its share of the batch
        step = distribute.TrainStep(strategy, network, optimizer, distribute.from_batch_mean(cost),
                                    acc=lambda logits, labels: _metric(acc, logits, labels))

        @tf.function(input_signature=[x_spec, y_spec, _INDEX_SPEC])
        def distributed_train_step(X, y, idx):
            return step(tf.gather(X, idx), tf.gather(y, idx))

        def distributed_train_steps(X, y, idxs):  # one compiled step per batch
            return np.array([[float(v) for v in distributed_train_step(X, y, idx)] for idx in idxs])

        return distributed_train_steps
    weights = network.trainable_weights

    def train_step(X, y, idx):
        inputs, labels = tf.gather(X, idx), tf.gather(y, idx)
        with tf.GradientTape() as tape:
            logits = network(inputs)
            loss = cost(logits, labels)
        optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))
        return tf.stack([tf.cast(loss, tf.float32), _metric(acc, logits, labels)])

    @tf.function(input_signature=[x_spec, y_spec, _CHUNK_SPEC])
    def train_steps(X, y, idxs):
        results = tf.TensorArray(tf.float32, size=tf.shape(idxs)[0])
        for i in tf.range(tf.shape(idxs)[0]):
            results = results.write(i, train_step(X, y, idxs[i]))
        return results.stack()

    return train_steps


# Ops whose random stream lives in the kernel (seeded when traced, not resettable per epoch).
_STATEFUL_RANDOM_OPS = {"RandomUniform", "RandomUniformInt", "RandomStandardNormal", "TruncatedNormal",
                        "ParameterizedTruncatedNormal", "Multinomial", "RandomShuffle", "RandomGamma",
                        "RandomPoisson", "RandomPoissonV2"}


def _draws_random_numbers(step):
    """True when the traced ``step`` (loop bodies included) has stateful random ops (e.g. Dropout)."""
    if not hasattr(step, "get_concrete_function"):
        return True  # not inspectable (the distributed path): assume it does
    graph_def = step.get_concrete_function().graph.as_graph_def()
    ops = {node.op for node in graph_def.node}
    ops.update(node.op for function in graph_def.library.function for node in function.node_def)
    return bool(ops & _STATEFUL_RANDOM_OPS)


def _cached(network, key, build):
    """A compiled function for ``network`` and ``key``, built once and kept on the network."""
    steps = network.__dict__.setdefault("_dlbook_compiled", {})
    if key not in steps:
        steps[key] = build()
    return steps[key]


def _eval_step(network, cost, acc, x_spec, y_spec):
    def build():
        @tf.function(input_signature=[x_spec, y_spec, _INDEX_SPEC])
        def eval_step(X, y, idx):
            inputs, labels = tf.gather(X, idx), tf.gather(y, idx)
            logits = network(inputs)
            loss = cost(logits, labels) if cost is not None else tf.constant(0.0)
            return loss, _metric(acc, logits, labels)
        return eval_step
    return _cached(network, ("eval", cost, acc, x_spec, y_spec), build)


def _predict_step(network, x_spec):
    def build():
        @tf.function(input_signature=[x_spec, _INDEX_SPEC])
        def predict_step(X, idx):
            return network(tf.gather(X, idx))
        return predict_step
    return _cached(network, ("predict", x_spec), build)


def _chunks(order, batch_size, first=0):
    """(first step, [k, batch] indices): up to _STEPS_PER_CALL full batches, the last batch alone."""
    n_full = len(order) // batch_size
    for start in range(first, n_full, _STEPS_PER_CALL):
        stop = min(start + _STEPS_PER_CALL, n_full)
        yield start, tf.constant(order[start * batch_size:stop * batch_size].reshape(stop - start, batch_size),
                                 tf.int32)
    if len(order) % batch_size and first <= n_full:  # errata: fit-partial-batch
        yield n_full, tf.constant(order[n_full * batch_size:][np.newaxis], tf.int32)


def _batches(order, batch_size):
    """Index batches over ``order``, the last one partial (errata: fit-partial-batch)."""
    for start in range(0, len(order), batch_size):
        yield tf.constant(order[start:start + batch_size], tf.int32)


def _evaluate(eval_step, X, y, batch_size):
    """(mean loss, mean metric) over all of ``X``, batch means weighted by batch size."""
    n = int(X.shape[0])
    loss_sum = acc_sum = 0.0
    for idx in _batches(np.arange(n), batch_size):
        loss, acc = eval_step(X, y, idx)
        loss_sum += float(loss) * len(idx)
        acc_sum += float(acc) * len(idx)
    return loss_sum / n, acc_sum / n


# -- fit --------------------------------------------------------------------------------------

def _epoch_seed(seed, epoch):
    return int(np.random.SeedSequence([seed % 2**63, epoch]).generate_state(1)[0])


def _epoch_order(n, epoch, shuffle, seed):
    if not shuffle:
        return np.arange(n)
    if seed is None:
        return np.random.permutation(n)
    return np.random.default_rng([seed % 2**63, epoch]).permutation(n)


@contextlib.contextmanager
def deferred_interrupt(enabled):
    """Turn the first Ctrl-C into a flag checked between steps; a second one interrupts at once."""
    pressed = []
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield pressed
        return

    def handler(signum, frame):
        if pressed:
            raise KeyboardInterrupt
        pressed.append(True)
        print("\nInterrupted: saving a checkpoint after the steps under way (Ctrl-C again to stop at once)",
              flush=True)

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield pressed
    finally:
        signal.signal(signal.SIGINT, previous)


class _EarlyStopping:
    """Patience on the validation loss; remembers the best epoch's weights."""

    def __init__(self, patience, network, best_path, state=None):
        self.patience, self.network, self.best_path = patience, network, best_path
        state = state or {}
        self.best = state.get("best", math.inf)
        self.best_epoch = state.get("best_epoch")
        self.wait = state.get("wait", 0)
        self.snapshot = None

    def state(self):
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait}

    @property
    def stopped(self):
        """True once ``patience`` epochs passed without improvement (also after a resume)."""
        return self.wait >= self.patience

    def update(self, epoch, val_loss):
        """Record epoch ``epoch``'s validation loss; True when training should stop."""
        if val_loss < self.best:
            self.best, self.best_epoch, self.wait = val_loss, epoch, 0
            self.snapshot = [w.numpy() for w in self.network.all_weights]
            if self.best_path is not None:
                checkpoints.save_weights(self.network, self.best_path)
            return False
        self.wait += 1
        return self.stopped

    def restore(self):
        """Put the best epoch's weights back (from memory, or from best.h5 after a resume)."""
        if self.snapshot is not None:
            for var, value in zip(self.network.all_weights, self.snapshot):
                var.assign(value)
        elif self.best_path is not None and os.path.isfile(self.best_path):
            checkpoints.load_weights(self.network, self.best_path)


def _write_summaries(writers, epoch, row, network, histograms):
    for split, prefix in (("train", ""), ("validation", "val_")):
        with writers[split].as_default(step=epoch + 1):
            for name in ("loss", "acc"):
                if prefix + name in row:
                    tf.summary.scalar(name, row[prefix + name])
    if histograms:
        with writers["train"].as_default(step=epoch + 1):
            for w in network.trainable_weights:
                tf.summary.histogram(w.name.replace(":", "_"), w)
    for writer in writers.values():
        writer.flush()


def _check_positive(**values):
    for name, value in values.items():
        if not (isinstance(value, (int, np.integer)) and value >= 1):
            raise UsageError(f"{name} must be a positive integer, got {value!r}")


def fit(network, train_op, cost, X_train, y_train, acc=None, batch_size=100, n_epoch=100, print_freq=1,
        X_val=None, y_val=None, eval_train=True, tensorboard_dir=None, tensorboard_epoch_freq=1,
        tensorboard_weight_histograms=True, tensorboard_graph_vis=True, *, shuffle=True, seed=None,
        early_stopping=None, checkpoint_dir=None, verbose=1, strategy=None):
    """Train ``network`` with ``train_op`` on ``cost``; the book's ``tl.utils.fit``, fixed and extended.

    Parameters as ``tl.utils.fit``: ``network`` a TL Model (static or dynamic), ``train_op`` a
    Keras optimizer (``tf.optimizers.Adam(...)``), ``cost(logits, y)`` e.g. ``tl.cost.cross_entropy``,
    ``acc(logits, y)`` e.g. :func:`dlbook.metrics.accuracy` or the book's NumPy ``acc``; progress
    is printed for epoch 1, every ``print_freq``-th and the last epoch. With a validation set and
    ``eval_train=True`` the reported train loss/acc come from an extra ``eval()``-mode pass over the
    training set (as TL's "train loss"); otherwise they are the running means of the epoch's
    training steps (dropout on). ``tensorboard_dir`` gets ``train/`` and ``validation/`` scalars
    every ``tensorboard_epoch_freq`` epochs (weight histograms and the step's graph if asked).

    Added (keyword-only):
      shuffle: reshuffle the training set every epoch.
      seed: when given, epoch ``e`` shuffles and draws its dropout masks from a seed derived from
        (seed, e) alone -- runs are repeatable and a resumed run is bit-identical to an
        uninterrupted one on CPU. For a model with dropout this re-traces the train step each
        epoch (TF's stateful random kernels cannot be re-seeded otherwise): about 0.2 s of CPU
        per epoch for the book's MLP here. Without a seed, or without dropout, it is traced once
        (and without a seed, reused by the next ``fit`` with the same optimizer).
      early_stopping: patience in epochs on the validation loss; the best epoch's weights are
        restored at the end. Needs X_val/y_val.
      checkpoint_dir: save ``checkpoint.h5`` there after every epoch and resume from it when present
        (and ``best.h5`` with early stopping). Ctrl-C saves a checkpoint once the compiled call under
        way ends (at most 8 steps: they run in one call) and re-raises KeyboardInterrupt; running
        the same call again resumes.
      verbose: 0 silent, 1 progress bar (one line per epoch when not on a terminal), 2 one line
        per epoch.

    Returns the history: per-epoch lists ``loss``, ``time`` (seconds), and ``acc`` (with ``acc``),
    ``val_loss`` (with a validation set), ``val_acc`` (both). A non-finite loss stops training with
    a DlbookError naming the epoch and step; the saved checkpoint is left as it was.
    """
    _check_positive(batch_size=batch_size, n_epoch=n_epoch, print_freq=print_freq,
                    tensorboard_epoch_freq=tensorboard_epoch_freq)
    if (X_val is None) != (y_val is None):
        raise UsageError("give both X_val and y_val, or neither")
    has_val = X_val is not None
    if early_stopping is not None:
        _check_positive(early_stopping=early_stopping)
        if not has_val:
            raise UsageError("early_stopping watches the validation loss: give X_val and y_val too")

    X_train, probe = _check_x(network, X_train, "X_train")
    y_train = _check_y(y_train, "y_train", X_train, "X_train", probe)
    if has_val:
        X_val, probe = _check_x(network, X_val, "X_val")
        y_val = _check_y(y_val, "y_val", X_val, "X_val", probe)
    if not train_op.built:  # built before tracing, so a second fit works (errata: fit-second-call)
        with (strategy or tf.distribute.get_strategy()).scope():
            train_op.build(network.trainable_weights)

    x_spec, y_spec = _spec(X_train), _spec(y_train)
    train_data = (tf.convert_to_tensor(X_train), tf.convert_to_tensor(y_train))
    val_data = (tf.convert_to_tensor(X_val), tf.convert_to_tensor(y_val)) if has_val else None
    eval_step = _eval_step(network, cost, acc, x_spec, y_spec)
    n_train = len(X_train)
    n_steps = math.ceil(n_train / batch_size)
    keys = ["loss"] + (["acc"] if acc else []) + (["val_loss"] if has_val else []) \
        + (["val_acc"] if has_val and acc else []) + ["time"]
    history = {key: [] for key in keys}
    best_path = os.path.join(checkpoint_dir, BEST_WEIGHTS_NAME) if checkpoint_dir else None

    start_epoch, start_step, partial, stopper_state = 0, 0, None, None
    state = checkpoints.load_checkpoint(checkpoint_dir, network, train_op) if checkpoint_dir else None
    if state is not None:
        extra = state["extra"]
        start_epoch, start_step = state["epoch"], state["step"]
        history, partial, stopper_state = extra["history"], extra["partial"], extra["early_stopping"]
        if verbose:
            print(f"Resumed from {state['path']}: {start_epoch} epoch(s) done"
                  + (f", {start_step} step(s) into epoch {start_epoch + 1}" if start_step else ""))
    stopper = (_EarlyStopping(early_stopping, network, best_path, stopper_state)
               if early_stopping is not None else None)

    writers = None
    if tensorboard_dir is not None:
        writers = {split: tf.summary.create_file_writer(os.path.join(tensorboard_dir, split))
                   for split in ("train", "validation")}

    def save(epoch, step, partial_sums=None):
        checkpoints.save_checkpoint(checkpoint_dir, network, train_op, epoch, step, extra={
            "history": history, "partial": partial_sums,
            "early_stopping": stopper.state() if stopper else None})

    train_step, retrace_each_epoch = None, False
    end_epoch = start_epoch if stopper is not None and stopper.stopped else n_epoch
    with deferred_interrupt(checkpoint_dir is not None) as interrupted:
        for epoch in range(start_epoch, end_epoch):
            started = time.perf_counter()
            if seed is not None:
                tf.random.set_seed(_epoch_seed(seed, epoch))
            if train_step is None or retrace_each_epoch:
                network.train()  # the mode is fixed when the step is traced (its first call)
                if seed is None:  # traced once, reused by later fits with the same optimizer
                    train_step = _cached(network, ("train", train_op, cost, acc, x_spec, y_spec, strategy),
                                         lambda: _make_train_step(network, train_op, cost, acc,
                                                                  x_spec, y_spec, strategy))
                else:
                    train_step = _make_train_step(network, train_op, cost, acc, x_spec, y_spec, strategy)
                    retrace_each_epoch = _draws_random_numbers(train_step)
            shown = verbose and (epoch == 0 or (epoch + 1) % print_freq == 0 or epoch + 1 == n_epoch)
            progbar, live = None, False
            if shown:
                print(f"Epoch {epoch + 1}/{n_epoch}")
                progbar = tf.keras.utils.Progbar(n_steps, verbose=verbose, stateful_metrics=keys)
                # per-step updates only where the bar redraws in place (a terminal, a notebook);
                # in a log file they would pile up on one line
                live = verbose == 1 and (sys.stdout.isatty() or "ipykernel" in sys.modules)

            first = start_step if epoch == start_epoch else 0
            loss_sum, acc_sum, seen = ((partial["loss_sum"], partial["acc_sum"], partial["seen"])
                                       if first and partial else (0.0, 0.0, 0))
            order = _epoch_order(n_train, epoch, shuffle, seed)
            for chunk_start, idxs in _chunks(order, batch_size, first):
                results = np.asarray(train_step(*train_data, idxs))  # [k, 2]: loss, metric per step
                size = int(idxs.shape[1])
                for offset, (loss, batch_acc) in enumerate(results.tolist()):
                    if not math.isfinite(loss):
                        kept = (f" The checkpoint in {checkpoint_dir} was left as it was."
                                if checkpoint_dir else "")
                        raise DlbookError(
                            f"the loss became {loss} at epoch {epoch + 1}, step {chunk_start + offset + 1} "
                            f"of {n_steps}: training diverged (lower the learning rate, or check the data "
                            f"for NaN/inf)." + kept)
                    loss_sum += loss * size
                    acc_sum += batch_acc * size
                    seen += size
                step = chunk_start + len(results) - 1
                if live:
                    progbar.update(step + 1, [("loss", loss_sum / seen)]
                                   + ([("acc", acc_sum / seen)] if acc else []), finalize=False)
                if interrupted and step + 1 < n_steps:
                    save(epoch, step + 1, {"loss_sum": loss_sum, "acc_sum": acc_sum, "seen": seen})
                    print(("\n" if live else "")
                          + f"Checkpoint saved in {checkpoint_dir} (epoch {epoch + 1}, step {step + 1}); "
                          "run the same training again to resume.", flush=True)
                    raise KeyboardInterrupt

            network.eval()
            row = {"loss": loss_sum / seen, "acc": acc_sum / seen}
            if has_val:
                row["val_loss"], row["val_acc"] = _evaluate(eval_step, *val_data, batch_size)
                if eval_train:
                    row["loss"], row["acc"] = _evaluate(eval_step, *train_data, batch_size)
            row["time"] = time.perf_counter() - started
            row = {key: row[key] for key in keys}
            for key in keys:
                history.setdefault(key, []).append(row[key])

            if writers is not None and (epoch == 0 or (epoch + 1) % tensorboard_epoch_freq == 0):
                _write_summaries(writers, epoch, row, network, tensorboard_weight_histograms)
                if tensorboard_graph_vis and epoch == start_epoch:
                    with writers["train"].as_default():
                        tf.summary.graph(train_step.get_concrete_function().graph)
            stop = stopper.update(epoch, row["val_loss"]) if stopper else False
            if checkpoint_dir:
                save(epoch + 1, 0)
            if progbar is not None:
                progbar.update(n_steps, [(k, v) for k, v in row.items() if k != "time"], finalize=True)
            if stop:
                if verbose:
                    print(f"Early stopping: no lower val_loss for {early_stopping} epochs; "
                          f"restoring the weights of epoch {stopper.best_epoch + 1}")
                break
            if interrupted:
                print(f"Checkpoint saved in {checkpoint_dir} (epoch {epoch + 1} done); "
                      "run the same training again to resume.", flush=True)
                raise KeyboardInterrupt
    if stopper is not None:
        stopper.restore()
    network.eval()
    return history


# -- test and predict -------------------------------------------------------------------------

def test(network, acc, X_test, y_test, batch_size, cost=None):
    """Evaluate ``network`` on a test set in eval mode; print and return the accuracy (as TL).

    ``batch_size=None`` evaluates the whole set in one batch. Every example counts, the last
    partial batch included. Returns ``acc``'s value, or the loss when ``acc`` is None.
    """
    if acc is None and cost is None:
        raise UsageError("test() needs acc or cost (or both) to have something to measure")
    X_test, probe = _check_x(network, X_test, "X_test")
    y_test = _check_y(y_test, "y_test", X_test, "X_test", probe)
    if batch_size is not None:
        _check_positive(batch_size=batch_size)
    eval_step = _eval_step(network, cost, acc, _spec(X_test), _spec(y_test))
    loss, accuracy = _evaluate(eval_step, tf.convert_to_tensor(X_test), tf.convert_to_tensor(y_test),
                               batch_size or len(X_test))
    if cost is not None:
        print(f"   test loss: {loss:f}")
    if acc is not None:
        print(f"   test acc: {accuracy:f}")
    return accuracy if acc is not None else loss


test.__test__ = False  # the book's name; keeps pytest from collecting it when imported into tests


def predict(network, X, batch_size=None):
    """The network's outputs (eval mode) for ALL rows of ``X``, as one NumPy array.

    ``batch_size=None`` runs the whole set as one batch.
    """
    X, _ = _check_x(network, X, "X")
    if batch_size is not None:
        _check_positive(batch_size=batch_size)
    predict_step = _predict_step(network, _spec(X))
    data = tf.convert_to_tensor(X)
    outputs = [predict_step(data, idx).numpy()
               for idx in _batches(np.arange(len(X)), batch_size or len(X))]
    return np.concatenate(outputs)
