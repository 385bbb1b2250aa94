"""A run directory: every file a training run keeps, committed together as one snapshot (docs/design.md)."""
import contextlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from dlbook.errors import CheckpointError
from dlbook.files.atomic import fsync_dir

CURRENT, SNAPSHOTS, RUN_FILE = "current", "snapshots", "run.json"
# Files that dlbook trainers wrote straight into their output directory before snapshots.
LEGACY_FILES = ("checkpoint.h5", "model.h5", "config.json", "vocab.json")
_GENERATION = re.compile(r"^\d{6}$")


class RunDir:
    """The snapshots of one run directory ``path`` (which need not exist yet)."""

    def __init__(self, path):
        self.path = Path(path)

    def snapshot(self):
        """The directory of the snapshot in force, or None when the run directory holds none."""
        current = self.path / CURRENT
        if current.is_dir():
            # a symlink (resolved once, so that all files are read from one snapshot) or, in a
            # copy that followed the links, a plain directory
            return current.resolve()
        complete = self._generations()  # `current` lost in a crash: the newest complete one
        return self.path / SNAPSHOTS / complete[-1] if complete else None

    def legacy_files(self):
        """Files of a run written by an older dlbook (no snapshots) that are in ``path``."""
        if self.snapshot() is not None:
            return []
        return [name for name in LEGACY_FILES if (self.path / name).is_file()]

    def read_meta(self):
        """The ``run.json`` of the snapshot in force (a dict), or None; CheckpointError if damaged."""
        snapshot = self.snapshot()
        if snapshot is None or not (snapshot / RUN_FILE).is_file():
            return None
        path = snapshot / RUN_FILE
        try:
            with open(path, encoding="utf-8") as f:
                meta = json.load(f)
            int(meta["epoch"]), int(meta["step"]), dict(meta["options"])
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise CheckpointError(f"{path} is not the record of a dlbook run ({type(exc).__name__}: {exc}); "
                                  f"--overwrite starts a new run in {self.path}") from None
        return meta

    def _generations(self):
        try:
            names = os.listdir(self.path / SNAPSHOTS)
        except OSError:
            return []
        return sorted(name for name in names if _GENERATION.match(name))

    def commit(self, write):
        """Write a new snapshot with ``write(directory)`` and make it the one in force.

        ``write`` puts every file of the snapshot into the (empty) directory it is given. Returns
        the new snapshot's directory. On an ``OSError`` the previous snapshot stays in force and
        the partial new one is removed (as far as the file system lets us).
        """
        snapshots = self.path / SNAPSHOTS
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
            for entry in os.listdir(self.path / SNAPSHOTS):
                if entry != name:
                    shutil.rmtree(self.path / SNAPSHOTS / entry, ignore_errors=True)


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
