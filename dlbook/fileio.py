"""Atomic file writes (no TensorFlow import here, so drawing and data tools stay light).

Every file a user keeps -- weights, checkpoints, data files, figures, vocabularies -- is written
through :func:`atomic_path`: to a temporary file in the same directory, then moved onto the final
name with ``os.replace`` once complete. A failed or killed write leaves the previous file intact.
"""
import contextlib
import os
import tempfile
from pathlib import Path


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; move it onto ``path`` when the block succeeds.

    The file gets the usual permissions (0666 less the umask), not mkstemp's private 0600.
    On any exception the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise
