"""Writing files so that a failure never leaves a half-written file (no TensorFlow import here)."""
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
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def write_bytes(path, data):
    """Write ``data`` to a new file ``path`` and fsync it; any ``OSError`` names ``path``."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        if exc.filename is None:  # os.write / os.fsync do not say which file
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise


def atomic_write(path, data):
    """Replace ``path`` by a file holding ``data`` (bytes), atomically (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp:
        write_bytes(tmp, data)


def fsync_dir(path):
    """Make the entries of directory ``path`` (new names, renames) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
