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

And adds ``shuffle``, ``seed``, ``early_stopping``, ``checkpoint_dir`` / ``session`` and ``verbose``.
``fit`` is a short loop over a :class:`dlbook.session.Session`, which keeps the run directory,
resumes, saves on SIGINT / SIGTERM, stops on a non-finite loss and shows progress -- the same
rules as the 1.10.5 and 1.10.6 training loops.
"""
import hashlib
import math
import os
import random
import warnings

import numpy as np

from dlbook.compat import dropout_seed, tl  # noqa: F401  (applies the TensorLayer fixes before any use)
import tensorflow as tf

from dlbook import distribute
from dlbook.files import checkpoints
from dlbook.errors import DataError, ShapeError, UsageError
from dlbook.files.atomic import write_bytes
from dlbook.session import open as open_session

BEST_WEIGHTS_NAME = "best.h5"
_INDEX_SPEC = tf.TensorSpec([None], tf.int32)
_CHUNK_SPEC = tf.TensorSpec([None, None], tf.int32)
_SEED_SPEC = tf.TensorSpec([2], tf.int64)
_STEP_SPEC = tf.TensorSpec([], tf.int64)
_STEPS_PER_CALL = 8  # train steps run in one compiled call (progress, signal and NaN checks between)


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
    if np.issubdtype(y.dtype, np.integer) and y.dtype != np.int64:
        # int64, as the book's acc expects them (tf.convert_to_tensor(y_batch, tf.int64) refuses
        # an int32 tensor inside the compiled step); uint8 labels would not even fit TF's
        # sparse cross-entropy, which takes int32/int64 only
        y = y.astype(np.int64)
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

    A NumPy-only metric (such as TensorLayer's docstring example
    ``np.mean(np.equal(np.argmax(...)))``; the book's ``acc`` is in TF ops) cannot run on symbolic
    tensors; it is then called through ``tf.numpy_function`` on the step's values.
    """
    if acc is None:
        return tf.constant(0.0)
    try:
        return tf.cast(acc(logits, labels), tf.float32)
    except (NotImplementedError, TypeError):
        return tf.numpy_function(lambda out, y: np.float32(acc(out, y)), [logits, labels], tf.float32)



def _cached(network, key, build):
    """A compiled function for ``network`` and ``key``, built once and kept on the network."""
    steps = network.__dict__.setdefault("_dlbook_compiled", {})
    if key not in steps:
        steps[key] = build()
    return steps[key]



def _train_steps(network, optimizer, cost, acc, x_spec, y_spec, strategy=None):
    """The compiled train function of ``network`` (traced once, kept on the network).

    ``train_steps(X, y, idxs, epoch_seed, first)`` runs the steps ``first``, ``first + 1``, ... of
    an epoch on the index batches ``idxs`` [k, batch] in one call (a loop in the graph: less
    Python per step) and returns their (loss, metric) as a [k, 2] array. Step ``s`` draws its
    dropout masks from ``stateless_fold_in(epoch_seed, s)`` (:func:`dlbook.compat.dropout_seed`),
    so the masks depend on (seed, epoch, step) only: a run resumed at any step draws what an
    uninterrupted one draws, with no re-tracing.
    """
    def build():
        if strategy is not None:  # data-parallel: each replica trains on its share of the batch
            return _distributed_train_steps(network, optimizer, cost, acc, x_spec, y_spec, strategy)
        weights = network.trainable_weights

        def train_step(X, y, idx, seed):
            inputs, labels = tf.gather(X, idx), tf.gather(y, idx)
            with tf.GradientTape() as tape, dropout_seed(seed):
                logits = network(inputs)
                loss = cost(logits, labels)
            optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))
            return tf.stack([tf.cast(loss, tf.float32), _metric(acc, logits, labels)])

        @tf.function(input_signature=[x_spec, y_spec, _CHUNK_SPEC, _SEED_SPEC, _STEP_SPEC])
        def train_steps(X, y, idxs, epoch_seed, first):
            results = tf.TensorArray(tf.float32, size=tf.shape(idxs)[0])
            for i in tf.range(tf.shape(idxs)[0]):
                seed = tf.random.experimental.stateless_fold_in(epoch_seed, first + tf.cast(i, tf.int64))
                results = results.write(i, train_step(X, y, idxs[i], seed))
            return results.stack()

        return train_steps
    return _cached(network, ("train", optimizer, cost, acc, x_spec, y_spec, strategy), build)


def _distributed_train_steps(network, optimizer, cost, acc, x_spec, y_spec, strategy):
    """:func:`_train_steps` for a ``tf.distribute`` strategy: one compiled call per batch."""
    step = distribute.TrainStep(strategy, network, optimizer, distribute.from_batch_mean(cost),
                                acc=lambda logits, labels: _metric(acc, logits, labels))

    @tf.function(input_signature=[x_spec, y_spec, _INDEX_SPEC, _SEED_SPEC])
    def distributed_train_step(X, y, idx, seed):
        return step(tf.gather(X, idx), tf.gather(y, idx), seed=seed)

    def distributed_train_steps(X, y, idxs, epoch_seed, first):
        seeds = [tf.cast(tf.random.experimental.stateless_fold_in(epoch_seed, first + i), tf.int64)
                 for i in range(len(idxs))]
        return np.array([[float(v) for v in distributed_train_step(X, y, idx, seed)]
                         for idx, seed in zip(idxs, seeds)])

    return distributed_train_steps


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

def _epoch_order(n, epoch, shuffle, seed):
    """The example order of epoch ``epoch``: a function of (seed, epoch) alone."""
    if not shuffle:
        return np.arange(n)
    return np.random.default_rng([seed % 2**63, epoch]).permutation(n)


def _fingerprint(X, y):
    """A short digest of a training set (its shape, labels and first rows): a resume must use the same."""
    digest = hashlib.sha256(repr((X.shape, str(X.dtype), y.shape)).encode())
    digest.update(np.ascontiguousarray(y).tobytes())
    digest.update(np.ascontiguousarray(X[:64]).tobytes())
    return digest.hexdigest()[:16]


class _EarlyStopping:
    """Patience on the validation loss; keeps the best epoch's weights (``best.h5`` in each snapshot)."""

    BEST_NAME = BEST_WEIGHTS_NAME

    def __init__(self, patience, network, run):
        self.patience, self.network, self.run = patience, network, run
        state = run.state.get("early_stopping") or {}
        self.best = state.get("best", math.inf)
        self.best_epoch = state.get("best_epoch")
        self.wait = state.get("wait", 0)
        self.best_weights = None
        snapshot = run.rundir.snapshot() if run.resuming else None
        if snapshot is not None and (snapshot / self.BEST_NAME).is_file():  # the best epoch before the resume
            self.best_weights = checkpoints.read_weights(network, snapshot / self.BEST_NAME)
        run.keep(self.write)

    @property
    def stopped(self):
        """True once ``patience`` epochs passed without improvement (also after a resume)."""
        return self.wait >= self.patience

    def update(self, epoch, val_loss):
        """Record epoch ``epoch``'s validation loss; True when training should stop."""
        if val_loss < self.best:
            self.best, self.best_epoch, self.wait = val_loss, epoch, 0
            self.best_weights = [w.numpy() for w in self.network.all_weights]
        else:
            self.wait += 1
        self.run.state["early_stopping"] = {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait}
        return self.stopped

    def write(self, directory):
        if self.best_weights is not None:
            write_bytes(directory / self.BEST_NAME, checkpoints.weights_bytes(self.network, self.best_weights))

    def restore(self):
        """Put the best epoch's weights back."""
        if self.best_weights is not None:
            for var, value in zip(self.network.all_weights, self.best_weights):
                var.assign(value)


class _Summaries:
    """TensorBoard logs of fit: ``train/`` and ``validation/`` scalars every ``every`` epochs,
    weight histograms and the train step's graph when asked."""

    def __init__(self, directory, every, network, histograms, graph):
        self.writers = {split: tf.summary.create_file_writer(os.path.join(directory, split))
                        for split in ("train", "validation")}
        self.every, self.network, self.histograms, self.graph = every, network, histograms, graph

    def write(self, epoch, row, train_steps):
        if not (epoch == 0 or (epoch + 1) % self.every == 0):
            return
        for split, prefix in (("train", ""), ("validation", "val_")):
            with self.writers[split].as_default(step=epoch + 1):
                for name in ("loss", "acc"):
                    if prefix + name in row:
                        tf.summary.scalar(name, row[prefix + name])
        with self.writers["train"].as_default(step=epoch + 1):
            for w in self.network.trainable_weights if self.histograms else ():
                tf.summary.histogram(w.name.replace(":", "_"), w)
            if self.graph and hasattr(train_steps, "get_concrete_function"):
                tf.summary.graph(train_steps.get_concrete_function().graph)
                self.graph = False  # once
        for writer in self.writers.values():
            writer.flush()


def _check_positive(**values):
    for name, value in values.items():
        if not (isinstance(value, (int, np.integer)) and value >= 1):
            raise UsageError(f"{name} must be a positive integer, got {value!r}")


def _checked_fit_data(network, X_train, y_train, X_val, y_val, early_stopping):
    """fit's arrays, cast and checked against the model (X_val, y_val: both or None)."""
    if (X_val is None) != (y_val is None):
        raise UsageError("give both X_val and y_val, or neither")
    if early_stopping is not None:
        _check_positive(early_stopping=early_stopping)
        if X_val is None:
            raise UsageError("early_stopping watches the validation loss: give X_val and y_val too")
    X_train, probe = _check_x(network, X_train, "X_train")
    y_train = _check_y(y_train, "y_train", X_train, "X_train", probe)
    if X_val is not None:
        X_val, probe = _check_x(network, X_val, "X_val")
        y_val = _check_y(y_val, "y_val", X_val, "X_val", probe)
    return X_train, y_train, X_val, y_val


def _epoch_evaluation(eval_step, train_data, val_data, batch_size, eval_train, acc):
    """What fit reports after an epoch besides the steps' running means: validation loss and
    accuracy, and with ``eval_train`` the eval-mode loss and accuracy on the training set."""
    row = {}
    if val_data is not None:
        row["val_loss"], row["val_acc"] = _evaluate(eval_step, *val_data, batch_size)
        if eval_train:
            row["loss"], row["acc"] = _evaluate(eval_step, *train_data, batch_size)
    return {key: value for key, value in row.items() if acc or not key.endswith("acc")}


def fit(network, train_op, cost, X_train, y_train, acc=None, batch_size=100, n_epoch=100, print_freq=1,
        X_val=None, y_val=None, eval_train=True, tensorboard_dir=None, tensorboard_epoch_freq=1,
        tensorboard_weight_histograms=True, tensorboard_graph_vis=True, *, shuffle=True, seed=None,
        early_stopping=None, checkpoint_dir=None, session=None, verbose=1, strategy=None):
    """Train ``network`` with ``train_op`` on ``cost``; the book's ``tl.utils.fit``, fixed and extended.

    Parameters as ``tl.utils.fit``: ``network`` a TL Model (static or dynamic), ``train_op`` a
    Keras optimizer (``tf.optimizers.Adam(...)``), ``cost(logits, y)`` e.g. ``tl.cost.cross_entropy``,
    ``acc(logits, y)`` e.g. the book's ``acc`` in TF ops, :func:`dlbook.metrics.accuracy`, or a
    NumPy-only one; progress is printed for epoch 1, every ``print_freq``-th and the last epoch.
    With a validation set and ``eval_train=True`` the reported train loss/acc come from an extra
    ``eval()``-mode pass over the training set (as TL's "train loss"); otherwise they are the
    running means of the epoch's training steps (dropout on). ``tensorboard_dir`` gets ``train/``
    and ``validation/`` scalars every ``tensorboard_epoch_freq`` epochs (weight histograms and the
    step's graph if asked).

    Added (keyword-only):
      shuffle: reshuffle the training set every epoch.
      seed: epoch ``e`` shuffles from (seed, e) and step ``s`` draws its dropout masks from
        (seed, e, s), so runs repeat and a resumed run is bit-identical to an uninterrupted one on
        CPU. Without a seed one is drawn from NumPy's generator (and kept with the run). Either
        way the train step is traced once.
      early_stopping: patience in epochs on the validation loss; the best epoch's weights are
        restored at the end. Needs X_val/y_val.
      checkpoint_dir: a run directory (:mod:`dlbook.session`): the run is saved there after every
        epoch (``model.h5``, ``checkpoint.h5``, ``run.json``, ``best.h5`` with early stopping, as one
        snapshot) and on SIGINT / SIGTERM after the compiled call under way (at most 8 steps), which
        then raises KeyboardInterrupt; the same call again resumes where it stopped.
      session: a :class:`dlbook.session.Session` opened by the caller (a chapter's command line),
        instead of ``checkpoint_dir``.
      verbose: 0 silent, 1 a progress bar (one line per epoch when not on a terminal), 2 one line
        per epoch.
      strategy: a ``tf.distribute`` strategy to train data-parallel (model and optimizer built in
        ``dlbook.distribute.scope(strategy)``).

    Returns the history: per-epoch lists ``loss``, ``time`` (seconds), and ``acc`` (with ``acc``),
    ``val_loss`` (with a validation set), ``val_acc`` (both). A non-finite loss stops training with
    a DlbookError naming the epoch and step; the saved run is left as it was.
    """
    _check_positive(batch_size=batch_size, n_epoch=n_epoch, print_freq=print_freq,
                    tensorboard_epoch_freq=tensorboard_epoch_freq)
    if session is not None and checkpoint_dir is not None:
        raise UsageError("give checkpoint_dir or session, not both")
    X_train, y_train, X_val, y_val = _checked_fit_data(network, X_train, y_train, X_val, y_val, early_stopping)

    run = session or open_session(checkpoint_dir, resume="auto")
    run.fix(batch_size=batch_size, shuffle=shuffle, seed=seed, examples=len(X_train),
            data=_fingerprint(X_train, y_train))
    with (strategy or tf.distribute.get_strategy()).scope():  # errata: fit-second-call
        run.restore(network, train_op, verbose=bool(verbose))  # the optimizer is built before tracing
    seed = run.state.setdefault("seed", int(np.random.randint(2**31)) if seed is None else seed)
    stopper = _EarlyStopping(early_stopping, network, run) if early_stopping is not None else None
    summaries = tensorboard_dir and _Summaries(tensorboard_dir, tensorboard_epoch_freq, network,
                                               tensorboard_weight_histograms, tensorboard_graph_vis)
    x_spec, y_spec = _spec(X_train), _spec(y_train)
    train_steps = _train_steps(network, train_op, cost, acc, x_spec, y_spec, strategy)
    eval_step = _eval_step(network, cost, acc, x_spec, y_spec)
    train_data = (tf.convert_to_tensor(X_train), tf.convert_to_tensor(y_train))
    val_data = None if X_val is None else (tf.convert_to_tensor(X_val), tf.convert_to_tensor(y_val))
    last_epoch = run.epoch if stopper and stopper.stopped else n_epoch

    with run:
        for epoch in run.epochs(last_epoch, math.ceil(len(X_train) / batch_size), verbose=verbose,
                                print_freq=print_freq):
            network.train()  # the mode is fixed when the step is traced (its first call)
            order = _epoch_order(len(X_train), epoch, shuffle, seed)
            epoch_seed = tf.constant([seed % 2**63, epoch], tf.int64)
            for first, idxs in _chunks(order, batch_size, run.step):
                results = np.asarray(train_steps(*train_data, idxs, epoch_seed, first))  # [k, 2]
                run.record(results[:, 0], n=int(idxs.shape[1]), **({"acc": results[:, 1]} if acc else {}))
            network.eval()
            row = _epoch_evaluation(eval_step, train_data, val_data, batch_size, eval_train, acc)
            stop = stopper.update(epoch, row["val_loss"]) if stopper else False
            row = run.end_epoch(**row)
            if summaries:
                summaries.write(epoch, row, train_steps)
            if stop:
                if verbose:
                    print(f"Early stopping: no lower val_loss for {early_stopping} epochs; "
                          f"restoring the weights of epoch {stopper.best_epoch + 1}")
                break
    if stopper is not None:
        stopper.restore()
    network.eval()
    return {key: list(values) for key, values in run.history.items()}


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
