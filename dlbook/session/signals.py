"""SIGINT and SIGTERM during training: stop after the step under way, once the run is saved."""
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
