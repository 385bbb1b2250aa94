"""What the epoch loop calls after each epoch besides the session: early stopping (1.7.5) and
TensorBoard. (The NaN guard and the progress bar are the session's: ``run.record``.)"""
import math
import os

import tensorflow as tf

from dlbook.files import checkpoints
from dlbook.files.atomic import write_bytes

BEST_WEIGHTS_NAME = "best.h5"


class Hook:
    """What the loop calls: ``epochs(n_epoch)`` the epoch budget; ``end_epoch(epoch, row)`` after
    the evaluation, before the run is saved (True: stop after this epoch); ``after_epoch(epoch,
    row)`` once it is saved and shown."""

    def epochs(self, n_epoch):
        return n_epoch

    def end_epoch(self, epoch, row):
        return False

    def after_epoch(self, epoch, row):
        pass


class EarlyStopping(Hook):
    """1.7.5: stop after ``patience`` epochs without a better ``monitor`` (a key of the epoch's row,
    e.g. "val_loss" with ``mode="min"``, "val_acc" with "max"), keeping the best epoch's weights.

    Its counters live in ``run.state`` and the best weights in ``best.h5`` of every snapshot, so a
    resumed run continues the count, restores the same weights, and a stopped run stays stopped.
    """

    def __init__(self, run, model, *, patience, monitor="val_loss", mode="min"):
        self.run, self.model, self.patience = run, model, patience
        self.monitor, self.sign = monitor, 1 if mode == "min" else -1
        state = run.state.get("early_stopping") or {}
        self.best, self.best_epoch = state.get("best", math.inf), state.get("best_epoch")
        self.wait, self.best_weights = state.get("wait", 0), None
        snapshot = run.rundir.snapshot() if run.resuming else None
        if snapshot is not None and (snapshot / BEST_WEIGHTS_NAME).is_file():
            self.best_weights = checkpoints.read_weights(model, snapshot / BEST_WEIGHTS_NAME)
        run.keep(self.write)

    @property
    def stopped(self):
        """True once ``patience`` epochs passed without improvement (also after a resume)."""
        return self.wait >= self.patience

    def epochs(self, n_epoch):
        """The run's epoch budget: ``n_epoch``, or the epochs it had done when it stopped."""
        return self.run.epoch if self.stopped else n_epoch

    def end_epoch(self, epoch, row):
        """Count epoch ``epoch`` (its row of metrics); True when training should stop."""
        value = self.sign * row[self.monitor]
        if value < self.best:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            self.best_weights = [w.numpy() for w in self.model.all_weights]
        else:
            self.wait += 1
        self.run.state["early_stopping"] = {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait}
        return self.stopped

    def write(self, directory):
        if self.best_weights is not None:
            write_bytes(directory / BEST_WEIGHTS_NAME, checkpoints.weights_bytes(self.model, self.best_weights))

    def restore(self):
        """Put the best epoch's weights back; returns its number (1-based), or None."""
        if self.best_weights is None:
            return None
        for var, value in zip(self.model.all_weights, self.best_weights):
            var.assign(value)
        return self.best_epoch + 1


class TensorBoard(Hook):
    """Each epoch's row as TensorBoard scalars at step ``epoch + 1``, as Keras lays them out:
    ``val_x`` under ``validation/x``, ``test_x`` under ``test/x``, the rest under ``train/``.
    Every ``every`` epochs (and the first); ``weights``: also their histograms; ``graph``: a
    ``tf.function`` with an input signature (the train step) drawn once."""

    SPLITS = (("val_", "validation"), ("test_", "test"), ("", "train"))

    def __init__(self, directory, *, every=1, weights=(), graph=None):
        self.directory, self.every, self.weights, self.writers = directory, every, list(weights), {}
        self.graph = graph

    def _writer(self, split):
        if split not in self.writers:
            self.writers[split] = tf.summary.create_file_writer(os.path.join(self.directory, split))
        return self.writers[split]

    def end_epoch(self, epoch, row):
        if epoch and (epoch + 1) % self.every:
            return False
        for name, value in row.items():
            prefix, split = next((p, s) for p, s in self.SPLITS if name.startswith(p))
            with self._writer(split).as_default(step=epoch + 1):
                tf.summary.scalar(name[len(prefix):], value)
        with self._writer("train").as_default(step=epoch + 1):
            for w in self.weights:
                tf.summary.histogram(w.name.replace(":", "_"), w)
            if self.graph is not None:
                tf.summary.graph(self.graph.get_concrete_function().graph)
                self.graph = None  # once
        for writer in self.writers.values():
            writer.flush()
        return False
