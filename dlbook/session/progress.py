"""Progress of one epoch: a Keras progress bar on a terminal; elsewhere (a notebook, a pipe, a log)
Keras's log line, written once at the end of the epoch."""
import sys

import tensorflow as tf


def live_output():
    """True where a progress bar can redraw in place: a terminal. A notebook keeps every redraw
    of Keras's bar (backspaces and carriage returns) in its saved outputs and on the site, and a
    log file piles them up on one line."""
    isatty = getattr(sys.stdout, "isatty", None)
    return bool(isatty and isatty())


class EpochProgress:
    """``Epoch e/N`` and a bar updated by :meth:`update`, closed by :meth:`done` with the epoch's
    metrics. ``verbose``: 0 silent, 1 a bar (per-step updates only where :func:`live_output`),
    2 one line per epoch. ``shown=False`` prints nothing for this epoch."""

    def __init__(self, epoch, n_epoch, n_steps, verbose=1, shown=True):
        self.n_steps, self.bar = n_steps, None
        self.live = bool(verbose and shown) and verbose == 1 and live_output()
        if verbose and shown:
            print(f"Epoch {epoch + 1}/{n_epoch}", flush=True)
            # no metric is averaged by the bar: the session passes running means. Keras draws a
            # bar with escape codes even into a file: a plain line (verbose 2) there instead.
            self.bar = tf.keras.utils.Progbar(n_steps, verbose=verbose if self.live else 2, stateless_metrics=())

    def update(self, step, values):
        """After step ``step`` (1-based): the running means ``values`` (a dict)."""
        if self.live:
            self.bar.update(step, list(values.items()), finalize=False)

    def newline(self):
        """End a half-drawn bar before another message is printed."""
        if self.live:
            print(flush=True)

    def done(self, row):
        """The epoch's metrics (a dict; ``time`` is shown by the bar itself)."""
        if self.bar is not None:
            self.bar.update(self.n_steps, [(k, v) for k, v in row.items() if k != "time"], finalize=True)
