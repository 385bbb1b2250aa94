"""SIGINT (Ctrl-C) and SIGTERM (``kill``, a job scheduler) during training: stop after the step
under way, once the run is saved.

The first signal only sets :attr:`StopRequest.signum`; the training loop looks at it after each
step (:meth:`dlbook.session.Session.record`) and at the end of each epoch, saves the run and
raises :class:`Interrupted`. A second signal stops at once (the snapshot in force stays as it
is), except while a save is under way (:meth:`StopRequest.saving`): then the save completes
first, so a second Ctrl-C cannot leave a half-written run. Handlers only set flags (printing from
a handler could re-enter a half-done write to stdout); the loop prints.
"""
import contextlib
import signal
import threading

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """Training stopped by ``signum`` (after saving, when it could); the CLI exits with 128 + signum."""

    def __init__(self, signum=signal.SIGINT, message=""):
        super().__init__(message)
        self.signum = signum


def signal_name(signum):
    return signal.Signals(signum).name


class StopRequest:
    """Signal handlers for SIGINT and SIGTERM while ``with request:`` is active (main thread only)."""

    def __init__(self):
        self.signum = None  # the first signal received, if any
        self.again = False  # a second one arrived while saving
        self._saving = False
        self._previous = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for signum in SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc):
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _handle(self, signum, frame):
        if self.signum is None:
            self.signum = signum
        elif self._saving:
            self.again = True
        else:
            raise Interrupted(signum, f"{signal_name(signum)} again: stopped at once")

    @contextlib.contextmanager
    def saving(self):
        """Defer a second signal until the block (a save) has completed."""
        self._saving = True
        try:
            yield
        finally:
            self._saving = False
