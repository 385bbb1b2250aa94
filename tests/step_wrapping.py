"""Test helper: wrap every train step a section builds through ``dlbook.train.train_step``."""
import contextlib
import signal

from dlbook import train


@contextlib.contextmanager
def wrapped_train_step(monkeypatch, around):
    """Within the block, each call of a built step is ``around(n, step, args)`` (n counts the calls
    from 1; ``step(*args)`` is the real call)."""
    real, calls = train.train_step, []

    def build(*args, **kwargs):
        step = real(*args, **kwargs)

        def wrapped(*call):
            calls.append(1)
            return around(len(calls), step, call)
        wrapped.examples, wrapped.per_call = step.examples, step.per_call  # what the loop asks of a step
        return wrapped

    monkeypatch.setattr(train, "train_step", build)
    try:
        yield calls
    finally:
        monkeypatch.setattr(train, "train_step", real)


def pressing_ctrl_c(monkeypatch, at_call):
    """Within the block, SIGINT arrives just before the ``at_call``-th train step."""
    def around(n, step, args):
        if n == at_call:
            signal.raise_signal(signal.SIGINT)
        return step(*args)
    return wrapped_train_step(monkeypatch, around)


def diverging(monkeypatch, at_call, value=float("inf")):
    """Within the block, the ``at_call``-th train step reports a loss of ``value``."""
    def around(n, step, args):
        out = step(*args)
        return {**out, "loss": value} if n == at_call else out
    return wrapped_train_step(monkeypatch, around)
