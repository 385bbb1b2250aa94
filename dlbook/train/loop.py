"""The epoch loop: train steps over a session, then the evaluation, the hooks, one save per epoch."""
from dlbook.train.step import position


def train_epochs(run, step, batches, n_epoch, *, steps=None, seed=0, evaluation=dict, hooks=(), verbose=1,
                 print_freq=1):
    """Train from where ``run`` stands to epoch ``n_epoch`` (fewer once a hook stops it).

    Each epoch: ``for inputs, labels in batches(epoch, run.step)`` (the epoch's batches from that
    step on: a resumed run gets those it missed; ``steps`` of them in an epoch, default
    ``len(batches)``), ``step(inputs, labels, position(seed, epoch, step))``, recorded by the session (NaN
    guard, progress, signals); then the row ``{**running means, **evaluation()}`` goes to each
    hook's ``end_epoch`` (:class:`~dlbook.train.hooks.Hook`), to ``run.end_epoch``, which commits
    the run, and to each hook's ``after_epoch``. Returns the run's history.
    """
    for hook in hooks:
        n_epoch = hook.epochs(n_epoch)
    with run:
        for epoch in run.epochs(n_epoch, steps or len(batches), verbose=verbose, print_freq=print_freq):
            for inputs, labels in batches(epoch, run.step):
                out = step(inputs, labels, position(seed, epoch, run.step))
                run.record(out.pop("loss"), n=step.examples(labels), **out)
            row = {**run.means(), **evaluation()}
            stop = [hook.end_epoch(epoch, row) for hook in hooks]
            run.end_epoch(**row)
            for hook in hooks:
                hook.after_epoch(epoch, row)
            if any(stop):
                break
    return run.history
