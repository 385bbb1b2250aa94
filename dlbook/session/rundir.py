"""A run directory: every file a training run keeps, committed together as one snapshot (docs/design.md)."""
import contextlib
import fcntl
import os
import re
import shutil
import stat
import tempfile
import weakref
from pathlib import Path

from dlbook.files import schema
from dlbook.errors import CheckpointError
from dlbook.files.atomic import fsync_dir
from dlbook.files.schema import file_kind

CURRENT, SNAPSHOTS, RUN_FILE, LOCK_FILE = "current", "snapshots", "run.json", ".lock"
# Files that dlbook trainers wrote straight into their output directory before snapshots.
LEGACY_FILES = ("checkpoint.h5", "model.h5", "config.json", "vocab.json")
_GENERATION = re.compile(r"^\d{6}$")
_OURS = re.compile(r"^(\d{6}|\.\d{6}\.tmp-.*|\.replaced-.*)$")  # what commit() creates in snapshots/
MAX_RUN_FILE = 16 * 2**20  # run.json: options and history, far below this


class RunDir:
    """The snapshots of one run directory ``path`` (which need not exist yet).

    It never follows a link out of ``path``: ``snapshots`` must be a directory (not a link),
    ``current`` a link to ``snapshots/NNNNNN`` (or, in a copy that followed the links, a
    directory), and a snapshot's files regular files; anything else is refused with one line.
    """

    def __init__(self, path, adopt=False):
        self.path = Path(path)
        self.adopt = adopt  # replace files of the run's names that dlbook did not write (--overwrite)

    def _refuse(self, entry, what):
        return CheckpointError(f"{self.path / entry} {what}: a run directory never follows a link out of "
                               f"itself nor reads what dlbook did not write there; move it away, or give "
                               f"another --output-dir")

    def _check_layout(self):
        snapshots, current = self.path / SNAPSHOTS, self.path / CURRENT
        if snapshots.is_symlink():
            raise self._refuse(SNAPSHOTS, f"is a symlink (to {os.readlink(snapshots)})")
        if os.path.lexists(snapshots) and not snapshots.is_dir():
            raise self._refuse(SNAPSHOTS, "is not a directory")
        if current.is_symlink():
            target = os.readlink(current)
            head, name = os.path.split(target)
            if head != SNAPSHOTS or not _GENERATION.match(name) or (snapshots / name).is_symlink():
                raise self._refuse(CURRENT, f"is a symlink to {target}, not to one of its snapshots")
        elif os.path.lexists(current) and not current.is_dir():
            raise self._refuse(CURRENT, "is not a directory")

    def snapshot(self):
        """The directory of the snapshot in force, or None when the run directory holds none."""
        self._check_layout()
        current = self.path / CURRENT
        if current.is_dir():
            # a symlink (resolved once, so that all files are read from one snapshot) or, in a
            # copy that followed the links, a plain directory
            return current.resolve() if current.is_symlink() else current
        complete = self._generations()  # `current` lost in a crash: the newest complete one
        return self.path / SNAPSHOTS / complete[-1] if complete else None

    def file(self, name):
        """The path of the snapshot's file ``name`` (a regular file, not a link), or None."""
        snapshot = self.snapshot()
        if snapshot is None or not os.path.lexists(snapshot / name):
            return None
        mode = os.lstat(snapshot / name).st_mode
        if not stat.S_ISREG(mode):
            raise self._refuse(os.path.join(CURRENT, name), f"is a {file_kind(mode)}, not a file dlbook wrote")
        return snapshot / name

    def legacy_files(self):
        """Files of a run written by an older dlbook (no snapshots), or files of the same names
        that dlbook did not write, that are in ``path``: a new run adopts them only when told to."""
        if self.snapshot() is not None:
            return []
        return [name for name in (*LEGACY_FILES, RUN_FILE) if os.path.lexists(self.path / name)]

    def foreign(self):
        """Entries of ``snapshots/`` that dlbook did not create (never deleted, never read)."""
        try:
            names = os.listdir(self.path / SNAPSHOTS)
        except OSError:
            return []
        return sorted(n for n in names if not _OURS.match(n) or (self.path / SNAPSHOTS / n).is_symlink())

    def read_meta(self):
        """The ``run.json`` of the snapshot in force (a dict), or None; CheckpointError if damaged."""
        path = self.file(RUN_FILE)
        if path is None:
            return None
        fix = f"; not the record of a dlbook run: --overwrite starts a new run in {self.path}"
        try:
            meta = schema.read_json(path, MAX_RUN_FILE)
            return schema.check(meta, schema.RUN_RECORD, path)
        except CheckpointError as exc:
            raise CheckpointError(f"{exc}{fix}") from None

    def _generations(self):
        try:
            names = os.listdir(self.path / SNAPSHOTS)
        except OSError:
            return []
        return sorted(name for name in names
                      if _GENERATION.match(name) and not (self.path / SNAPSHOTS / name).is_symlink())

    def commit(self, write):
        """Write a new snapshot with ``write(directory)`` and make it the one in force.

        ``write`` puts every file of the snapshot into the (empty) directory it is given. Returns
        the new snapshot's directory. On an ``OSError`` the previous snapshot stays in force and
        the partial new one is removed (as far as the file system lets us).
        """
        snapshots = self.path / SNAPSHOTS
        self._check_layout()
        snapshots.mkdir(parents=True, exist_ok=True)
        generations = self._generations()
        name = f"{int(generations[-1]) + 1 if generations else 1:06d}"
        staging = Path(tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=snapshots))
        try:
            os.chmod(staging, 0o777 & ~_umask())
            write(staging)
            files = sorted(os.listdir(staging))
            fsync_dir(staging)
            target = snapshots / name
            os.rename(staging, target)
            fsync_dir(snapshots)
            staging = None
            for file in files:
                self._link(file)
            self._switch(target)
        except BaseException:
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
            raise
        self._tidy(name, files)
        return target

    def _link(self, file):
        """Make ``path/file`` a link to ``current/file`` (before the switch, so it flips with it)."""
        link, target = self.path / file, os.path.join(CURRENT, file)
        if link.is_symlink() and os.readlink(link) == target:
            return
        if link.is_dir() and not link.is_symlink():
            raise IsADirectoryError(21, "a directory is in the way of a file of the run", str(link))
        current = self.path / CURRENT
        copied = current.is_dir() and not current.is_symlink()  # a copy that followed the links
        if os.path.lexists(link) and not link.is_symlink() and not self.adopt and not copied:
            raise FileExistsError(17, "a file dlbook did not write is in the way (--overwrite replaces it)",
                                  str(link))
        _replace_with_symlink(target, link)

    def _switch(self, target):
        current = self.path / CURRENT
        if current.is_dir() and not current.is_symlink():  # a copy that followed the links
            os.rename(current, tempfile.mkdtemp(prefix=".replaced-", dir=self.path / SNAPSHOTS))
        _replace_with_symlink(os.path.join(SNAPSHOTS, target.name), current)
        fsync_dir(self.path)

    def _tidy(self, name, files):
        """After a commit: drop links to files the new snapshot lacks, and older snapshots."""
        with contextlib.suppress(OSError):
            for entry in os.listdir(self.path):
                link = self.path / entry
                if (entry not in files and link.is_symlink()
                        and os.readlink(link) == os.path.join(CURRENT, entry)):
                    link.unlink()
            for entry in os.listdir(self.path / SNAPSHOTS):  # only what commit() created
                if entry != name and _OURS.match(entry) and not (self.path / SNAPSHOTS / entry).is_symlink():
                    shutil.rmtree(self.path / SNAPSHOTS / entry, ignore_errors=True)


class Lock:
    """A writer's lock on a run directory: ``DIR/.lock`` holds the owner's pid, under ``flock``.

    The kernel drops the ``flock`` when its process ends in any way (SIGKILL included), so a lock
    file left by a dead process is stale: the next writer takes it over and says so. A second
    live writer is refused with one line. Within one process a new lock on the same directory
    takes over the old one (a notebook cell run again). Released by :meth:`release`, when the
    lock is garbage-collected, or at exit.
    """

    _held = weakref.WeakValueDictionary()  # directory -> Lock held by this process

    def __init__(self, path):
        self.path, self._release = Path(path), None

    def acquire(self, log=print):
        """Take the lock (creating the directory, and removing it again on release, if missing)."""
        key = str(self.path.resolve())
        old = Lock._held.get(key)
        if old is not None:
            old.release()
        created = [p for p in [self.path, *self.path.parents] if not os.path.lexists(p)]
        self.path.mkdir(parents=True, exist_ok=True)
        lock_file = self.path / LOCK_FILE
        for _ in range(3):  # the file may be unlinked by its owner between our open and our flock
            fd = os.open(lock_file, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                owner = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
                _unlock(fd, None, created)
                raise CheckpointError(f"{self.path} is being written by another process (pid {owner}): wait "
                                      f"for it to finish, or give another --output-dir") from None
            if os.path.lexists(lock_file) and os.fstat(fd).st_ino == os.lstat(lock_file).st_ino:
                break
            os.close(fd)
        stale = os.read(fd, 32).decode("ascii", "replace").strip()
        if stale and stale != str(os.getpid()):
            log(f"{self.path}: took over the lock left by process {stale}, which is no longer running")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        Lock._held[key] = self
        self._release = weakref.finalize(self, _unlock, fd, lock_file, created)
        return self

    def release(self):
        """Drop the lock and its file (and the directories acquire() created, if still empty)."""
        if self._release is not None:
            self._release()


def release_all():
    """Release every run directory lock this process holds (the CLI, when a command ends)."""
    for lock in list(Lock._held.values()):
        lock.release()


def _unlock(fd, lock_file, created):
    if lock_file is not None:
        with contextlib.suppress(OSError):
            os.unlink(lock_file)
    with contextlib.suppress(OSError):
        os.close(fd)
    for directory in created:
        with contextlib.suppress(OSError):
            directory.rmdir()


def _replace_with_symlink(target, link):
    """Point ``link`` at ``target`` with one atomic ``os.replace``."""
    tmp = link.parent / f".{link.name}.link-{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)
    os.symlink(target, tmp)
    try:
        os.replace(tmp, link)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
