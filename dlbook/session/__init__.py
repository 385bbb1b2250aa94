"""One training session: the run-directory rules every trainer (fit, 1.10.5, 1.10.6) follows, written once.

The rules (snapshots, no clobbering, exact resume, signals, NaN guard): docs/design.md.
"""
import itertools
import json
import math
import shlex
import sys
import time

import numpy as np

from dlbook.files import checkpoints, schema
from dlbook.errors import CheckpointError, DlbookError, SaveError, UsageError
from dlbook.models import registry
from dlbook.files.atomic import write_bytes
from dlbook.session.progress import EpochProgress
from dlbook.session.rundir import RUN_FILE, SNAPSHOTS, Lock, RunDir
from dlbook.session.signals import Interrupted, StopRequest, signal_name

__all__ = ["Session", "open", "open_run", "Interrupted"]

WEIGHTS_NAME = "model.h5"
_FORMAT = "dlbook-run-1"
_SAME_CALL = "run the same training again to resume"


def open(directory, *, resume=False, overwrite=False, options=None, command=None, writer=True):  # noqa: A001
    """A :class:`Session` over the run directory ``directory`` (None: save nothing).

    ``resume``: True continues the run there (refused when there is none), False starts a new one
    (refused when there is one, unless ``overwrite``), ``"auto"`` continues one when there is one
    (the API's ``fit(checkpoint_dir=...)``). ``options``: the values that fix the run (checked on
    resume, see :meth:`Session.fix`). ``command``: the command line that continues the run (shown
    on a signal), None for "run the same training again". ``writer=False``: never write (the
    non-chief workers of a multi-worker job).
    """
    return Session(directory, resume=resume, overwrite=overwrite, options=options, command=command,
                   writer=writer)


def open_run(args, argv, *, prog, keys, writer=True):
    """:func:`open` for a chapter's command line: ``args.output_dir``, ``--resume``, ``--overwrite``.

    ``keys``: the names in ``args`` of the options that fix the data, the model and the batch
    order. The command shown to continue is ``prog`` and ``argv`` (the options given) with
    ``--resume`` instead of ``--overwrite``.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    kept = [arg for arg in argv if arg not in ("--resume", "--overwrite")]
    command = " ".join([prog, shlex.join(kept + ["--resume"])])
    return open(args.output_dir, resume=args.resume, overwrite=args.overwrite,
                options={"program": prog, **{key: getattr(args, key) for key in keys}},
                command=command, writer=writer)


def _jsonable(value):
    return json.loads(json.dumps(value, default=str))


class Session:
    """One training run: where it is saved, where it stands, and the rules (module docstring).

    Position: :attr:`epoch` (epochs completed) and :attr:`step` (steps done in the next epoch).
    :attr:`history`: a list per metric, one value per completed epoch. :attr:`state`: a dict the
    trainer may fill with JSON-able values to keep across a resume (e.g. early-stopping counters).
    """

    def __init__(self, directory=None, *, resume=False, overwrite=False, options=None, command=None,
                 writer=True):
        if directory is not None and not str(directory).strip():
            raise UsageError(f"{'--output-dir' if command else 'checkpoint_dir'} is empty: give the name of "
                             f"a directory for the run (an empty name would mean the current directory)")
        self.rundir = None if directory is None else RunDir(directory, adopt=overwrite)
        self.command, self.writer, self.lock = command, writer, None
        self.epoch, self.step, self.history, self.state = 0, 0, {}, {}
        self.options, self._saved_options = {}, None
        self.model = self.optimizer = None
        self._kept, self._sums, self._saved = [], None, None  # _saved: (epoch, step) in force
        self._stop, self._progress, self._n_steps, self._started = StopRequest(), None, None, None
        self.resuming = self._held_before = False
        if self.rundir is not None:
            try:
                self._check_directory(resume, overwrite)
            except BaseException:
                if self.lock is not None:
                    self.lock.release()
                raise
        if options:
            self.fix(**options)

    # -- opening: refuse to clobber, resume only what is there ------------------------------

    @property
    def directory(self):
        return None if self.rundir is None else self.rundir.path

    def _flag(self, flag, api):
        return flag if self.command else api

    def _check_directory(self, resume, overwrite):
        path = self.rundir.path
        blocker = next((p for p in itertools.chain([path], path.parents) if p.exists()), None)
        if blocker is not None and not blocker.is_dir():
            raise UsageError(f"cannot create {self._flag('--output-dir', 'checkpoint_dir')} {path}: Not a "
                             f"directory ({blocker} is a file); give a directory that can be written")
        if self.writer:
            self.lock = Lock(path).acquire()  # a second writer is refused here, before any data loads
        legacy, foreign = self.rundir.legacy_files(), self.rundir.foreign()
        holds = self.rundir.snapshot() is not None
        if resume == "auto":
            resume = holds
        if resume and not holds:
            if legacy:
                raise UsageError(f"--resume: {path} holds files of a run saved by an older dlbook, or not "
                                 f"written by dlbook ({', '.join(legacy)}), which cannot be resumed; add "
                                 f"--overwrite to start afresh there, or give another --output-dir")
            raise UsageError(f"--resume: {path} holds no run to continue; leave out --resume to start one")
        if holds and not resume and not overwrite:
            raise UsageError(f"{path} already holds {self._describe_saved()}: add --resume to continue "
                             f"it, or --overwrite to start a new one (the old one is replaced when the new "
                             f"one first saves), or give another --output-dir")
        if (legacy or foreign) and not holds and not overwrite:
            listed = legacy + [f"{SNAPSHOTS}/{name}" for name in foreign[:5]] + (["..."] if len(foreign) > 5 else [])
            raise UsageError(f"{path} holds files that a dlbook run did not write, or that an older dlbook "
                             f"wrote ({', '.join(listed)}); a run never adopts them on its own: add --overwrite "
                             f"to start a new run there (it replaces {', '.join(legacy) or 'none of them'} when "
                             f"it first saves; it never deletes files it did not create), or give another "
                             f"--output-dir")
        self.resuming, self._held_before = bool(resume), holds or bool(legacy)
        if resume:
            meta = self.rundir.read_meta()  # a damaged run.json: a CheckpointError naming it
            if meta is None:
                raise UsageError(f"--resume: {path} holds a run without its {RUN_FILE}, which cannot be "
                                 f"resumed; add --overwrite to start afresh there, or give another --output-dir")
            self._saved_options, self._saved = meta["options"], (meta["epoch"], meta["step"])

    def _describe_saved(self):
        """What the run directory holds, in a few words (for the refusal to start a new run)."""
        try:
            meta = self.rundir.read_meta()
        except CheckpointError:
            meta = None
        if meta is None:
            return "a run"
        return (f"a run of `{meta['options'].get('program', 'fit')}`, "
                f"{_position(meta['epoch'], meta['step'])}")

    def fix(self, **values):
        """Record values that fix the run (data, model, batch order); on resume, check them.

        Raises :class:`UsageError` naming every value that differs from the saved run's.
        """
        values = _jsonable(values)
        if self._saved_options is not None:
            differ = [f"{key}: saved {self._saved_options[key]!r}, now {value!r}"
                      for key, value in values.items()
                      if key in self._saved_options and self._saved_options[key] != value]
            if differ:
                raise UsageError(
                    f"cannot {self._flag('--resume', 'resume')} from {self.directory}: it was trained with "
                    f"other options ({'; '.join(differ)}). Give the same options, or "
                    + self._flag("--overwrite to start afresh, or another --output-dir",
                                 "another checkpoint directory"))
        self.options.update(values)

    # -- the model, the optimizer and the files of each snapshot -----------------------------

    def build(self, builder, *args, **kwargs):
        """``builder(*args, **kwargs)`` (a model builder of dlbook.models.registry), recorded in
        run.json so that export, chat and --resume rebuild the same model."""
        self.record_model(builder, *args, **kwargs)
        return builder(*args, **kwargs)

    def record_model(self, builder, *args, **kwargs):
        """Record how the run's model is rebuilt (run.json's options "model"); on resume, check it."""
        self.fix(model=registry.record(builder, *args, **kwargs))


    def restore(self, model, optimizer, *, verbose=True):
        """Attach the run's model and optimizer; on resume, load the saved ones into them.

        Builds the optimizer on the model's trainable weights when needed. Returns True when a
        saved run was restored (its position, history, state and running sums too).
        """
        self.model, self.optimizer = model, optimizer
        if not optimizer.built:
            optimizer.build(model.trainable_weights)
        if not self.resuming:
            return False
        path = self.rundir.file(checkpoints.CHECKPOINT_NAME)  # a regular file inside the run, or None
        if path is None:
            raise CheckpointError(f"{self.rundir.snapshot()} has no {checkpoints.CHECKPOINT_NAME}: the run cannot "
                                  f"be resumed; --overwrite starts a new run in {self.directory}")
        state = checkpoints.load_checkpoint(path.parent, model, optimizer)
        extra = schema.check(state["extra"], schema.SESSION_EXTRA, f"{path} (attribute 'extra')")
        self.epoch, self.step = state["epoch"], state["step"]
        self.history, self.state, self._sums = extra.get("history", {}), extra.get("state", {}), extra.get("sums")
        if verbose:
            print(f"Resumed from {self.directory}: {_position(self.epoch, self.step)}", flush=True)
        return True

    def keep(self, write):
        """Add files to every snapshot: ``write(directory)`` writes them into ``directory``."""
        self._kept.append(write)

    def save(self):
        """Commit a snapshot of the run now (every file at once); returns its directory or None."""
        if self.rundir is None or not self.writer:
            return None
        extra = {"history": self.history, "state": self.state, "sums": self._sums if self.step else None}
        meta = {"format": _FORMAT, "command": self.command, "options": self.options,
                "epoch": self.epoch, "step": self.step, "history": self.history, "state": self.state}

        def write(directory):
            write_bytes(directory / checkpoints.CHECKPOINT_NAME, checkpoints.checkpoint_bytes(
                self.model, self.optimizer, self.epoch, self.step, extra))
            write_bytes(directory / WEIGHTS_NAME, checkpoints.weights_bytes(self.model))
            write_bytes(directory / RUN_FILE, json.dumps(meta, indent=1).encode())
            for keep in self._kept:
                keep(directory)

        with self._stop.saving():
            try:
                snapshot = self.rundir.commit(write)
            except OSError as exc:
                raise SaveError(f"cannot save the run in {self.directory}: {exc.filename or self.directory}: "
                                f"{exc.strerror or exc}; {self._kept_note()}") from None
        self._saved = (self.epoch, self.step)
        return snapshot

    def save_weights(self, model, name=WEIGHTS_NAME):
        """The book's ``network.save_weights('model.h5')`` for the session's model: commit the run
        now (its ``model.h5`` holds these weights) and return the path of ``name``."""
        if model is not self.model or name != WEIGHTS_NAME:
            raise UsageError(f"a session saves the weights of its own model as {WEIGHTS_NAME}")
        self.save()
        return None if self.rundir is None else self.directory / name

    def _kept_note(self):
        """What the run directory holds now, for a message about a failure."""
        if self._saved is not None:
            return f"the run in {self.directory} stays as last saved ({_position(*self._saved)})"
        if self._held_before:
            return f"the run already in {self.directory} was left as it was"
        return f"nothing was saved in {self.directory}"

    # -- the loop ----------------------------------------------------------------------------

    def __enter__(self):
        if self.rundir is not None:  # without a directory Ctrl-C is a plain KeyboardInterrupt
            self._stop.__enter__()
        return self

    def __exit__(self, exc_type, exc, tb):
        self._stop.__exit__()
        if exc_type is None and self._stop.signum is not None:  # arrived after the last epoch's save
            self._stopped()

    def epochs(self, n_epoch, n_steps, *, verbose=1, print_freq=1):
        """The epochs still to train, ``range(epoch, n_epoch)``; ``n_steps`` steps each.

        ``verbose`` as :class:`~dlbook.session.progress.EpochProgress`; the first, every
        ``print_freq``-th and the last epoch are shown.
        """
        self._n_steps = n_steps
        for epoch in range(self.epoch, n_epoch):
            if self._stop.signum is not None:  # came after the last save (e.g. during the trainer's
                self._stopped()                # own end-of-epoch work)
            if self._sums is None or not self.step:
                self._sums = {"n": 0}
            shown = epoch == 0 or (epoch + 1) % print_freq == 0 or epoch + 1 == n_epoch
            self._progress = EpochProgress(epoch, n_epoch, n_steps, verbose, shown)
            self._started = time.perf_counter()
            yield epoch

    def record(self, loss, n=1, **metrics):
        """After a train step (or ``len(loss)`` steps): its loss and metrics, ``n`` examples each.

        Keeps their running means (weighted by ``n``), stops on a non-finite loss, updates the
        progress bar, and on a signal saves the run and raises :class:`Interrupted`.
        """
        losses = np.atleast_1d(np.asarray(loss, dtype=np.float64))
        values = {name: np.atleast_1d(np.asarray(v, dtype=np.float64)) for name, v in metrics.items()}
        sums = self._sums
        for i, value in enumerate(losses.tolist()):
            self.step += 1
            if not math.isfinite(value):
                self._progress.newline()
                raise DlbookError(f"the loss became {value} at epoch {self.epoch + 1}, step {self.step} of "
                                  f"{self._n_steps}: training diverged (lower the learning rate, or check the "
                                  f"data for NaN/inf)" + (f"; {self._kept_note()}" if self.rundir else ""))
            sums["n"] += n
            sums["loss"] = sums.get("loss", 0.0) + value * n
            for name, v in values.items():
                sums[name] = sums.get(name, 0.0) + float(v[i]) * n
        self._progress.update(self.step, self.means())
        if self._stop.signum is not None and self.step < self._n_steps:
            self._stopped()

    def means(self):
        """The running means of the epoch under way, e.g. ``{"loss": 0.31, "acc": 0.9}``."""
        n = self._sums["n"]
        return {name: total / n for name, total in self._sums.items() if name != "n"} if n else {}

    def end_epoch(self, **metrics):
        """Close the epoch: its row (running means, updated with ``metrics``, and ``time``) is
        appended to :attr:`history`, shown, and the run is saved. Returns the row."""
        row = {**self.means(), **metrics, "time": time.perf_counter() - self._started}
        for key, value in row.items():
            self.history.setdefault(key, []).append(float(value))
        self.epoch, self.step, self._sums = self.epoch + 1, 0, None
        self._progress.done(row)
        self.save()
        if self._stop.signum is not None:
            self._stopped()
        return row

    def _stopped(self):
        """Save the run where it stands (after the step under way), say how to continue, stop."""
        signum = self._stop.signum
        if self._progress is not None:
            self._progress.newline()
        if self.rundir is None or not self.writer:
            raise Interrupted(signum)
        if self._saved != (self.epoch, self.step):
            self.save()
        print(f"Stopped by {signal_name(signum)}: the run is saved in {self.directory} "
              f"({_position(self.epoch, self.step)}); "
              + (f"continue with: {self.command}" if self.command else _SAME_CALL), flush=True)
        raise Interrupted(signum)


def _position(epoch, step):
    return f"{epoch} epoch(s) done" + (f", {step} step(s) into epoch {epoch + 1}" if step else "")
