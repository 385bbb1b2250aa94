"""The epoch loop: train steps over a session, then the evaluation, the hooks, one save per epoch."""
import tensorflow as tf

from dlbook.train.step import position


def batch_size(labels):
    """The number of examples in a batch (``labels`` a tensor or a tuple of them)."""
    return int(tf.nest.flatten(labels)[0].shape[0])


def train_epochs(run, step, batches, n_epoch, *, seed=0, evaluation=dict, hooks=(), verbose=1, print_freq=1):
    """Train from where ``run`` stands to epoch ``n_epoch`` (fewer once a hook stops it).

    Each epoch: ``batches.seek(epoch, run.step)`` (a resumed run gets the batches it missed),
    ``step(inputs, labels, position(seed, epoch, step))`` per batch, recorded by the session (NaN
    guard, progress, signals); then the row ``{**running means, **evaluation()}`` goes to each
    hook's ``end_epoch(epoch, row)`` (True: stop after this epoch) and to ``run.end_epoch``, which
    commits the run. Returns the run's history.
    """
    for hook in hooks:
        n_epoch = hook.epochs(n_epoch) if hasattr(hook, "epochs") else n_epoch
    with run:
        for epoch in run.epochs(n_epoch, len(batches), verbose=verbose, print_freq=print_freq):
            batches.seek(epoch, run.step)
            for inputs, labels in batches:
                out = step(inputs, labels, position(seed, epoch, run.step))
                run.record(out.pop("loss"), n=batch_size(labels), **out)
            row = {**run.means(), **evaluation()}
            stop = [hook.end_epoch(epoch, row) for hook in hooks]
            run.end_epoch(**row)
            if any(stop):
                break
    return run.history
