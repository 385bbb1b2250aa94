"""Download MNIST and CIFAR-10 from lists of mirrors, with timeouts and content checksums."""
import gzip
import hashlib
import http.client
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zlib
from pathlib import Path

from dlbook.files.atomic import atomic_path
from dlbook.data.paths import (CIFAR10, DATASETS, MNIST, dataset_dir, dataset_spec, display_path, download_command,
                               missing_data_error, missing_files, resolve_data_dir, survey, survey_error)
from dlbook.errors import DataError

# The defaults come from the dataset descriptions in dlbook.data.paths (errata: mnist-mirrors).
MNIST_MIRRORS = MNIST.mirrors
MNIST_MD5 = MNIST.md5  # of the DECOMPRESSED files: mirrors re-compress, so the .gz bytes differ
CIFAR10_URLS = CIFAR10.mirrors
CIFAR10_ARCHIVE_MD5 = CIFAR10.archive_md5
CIFAR10_ARCHIVE_DIR = CIFAR10.archive_dir

DEFAULT_TIMEOUT = 30.0  # seconds, for the connection and for each read
_CHUNK = 1 << 16


class _DownloadFailed(Exception):
    """One URL failed (network, timeout, checksum); the caller tries the next mirror."""


def _md5_of_file(path, gunzip=False):
    digest = hashlib.md5()
    opener = gzip.open if gunzip else open
    try:
        with opener(path, "rb") as f:
            for chunk in iter(lambda: f.read(_CHUNK), b""):
                digest.update(chunk)
    except (OSError, EOFError, zlib.error) as exc:
        raise _DownloadFailed(f"not a valid {'gzip ' if gunzip else ''}file ({exc})") from None
    return digest.hexdigest()


def _progress_printer(label):
    """A ``(done, total)`` callback printing progress to stderr (one line per 10% off a terminal)."""
    tty = sys.stderr.isatty()
    state = {"shown": -1}

    def show(done, total):
        if total:
            tenth = min(10, done * 10 // total)
            if tty:
                print(f"\r  {label}: {done / 1e6:6.1f} of {total / 1e6:.1f} MB", end="", file=sys.stderr)
            elif tenth != state["shown"]:
                print(f"  {label}: {tenth * 10}%", file=sys.stderr)
            state["shown"] = tenth
        elif tty:
            print(f"\r  {label}: {done / 1e6:6.1f} MB", end="", file=sys.stderr)
        if tty and total and done >= total:
            print(file=sys.stderr)

    return show


def _fetch(url, target, label, timeout, progress):
    """Stream ``url`` into the file ``target``."""
    try:
        with open(target, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            done = 0
            report = _progress_printer(label) if progress else None
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                done += len(chunk)
                if report:
                    report(done, total)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        # URLError wraps the socket error (e.g. "timed out"); HTTPError says "HTTP Error 403: Forbidden"
        reason = exc.reason if type(exc) is urllib.error.URLError else exc
        raise _DownloadFailed(str(reason) or type(reason).__name__) from None
    if total is not None and done != total:
        raise _DownloadFailed(f"connection closed after {done} of {total} bytes")


def _download_to(urls, dest, verify, timeout, progress):
    """Download ``dest`` from the first of ``urls`` whose file ``verify`` accepts.

    The file appears under ``dest`` only once verified (``atomic_path``); raises
    ``_DownloadFailed`` listing every URL's failure.
    """
    failures = []
    for url in urls:
        if progress:
            print(f"Downloading {url}", file=sys.stderr, flush=True)
        try:
            with atomic_path(dest) as tmp:
                _fetch(url, tmp, dest.name, timeout, progress)
                verify(tmp)
                os.chmod(tmp, 0o644)  # mkstemp makes it private; a data file is not
            return
        except _DownloadFailed as exc:
            failures.append(f"{urllib.parse.urlsplit(url).netloc or url}: {exc}")
            if progress:
                print(f"  failed: {exc}", file=sys.stderr, flush=True)
    raise _DownloadFailed("; ".join(failures))


def _checksum(expected, gunzip=False):
    def verify(path):
        found = _md5_of_file(path, gunzip=gunzip)
        if found != expected:
            raise _DownloadFailed(f"checksum mismatch (md5 {found}, expected {expected})")
    return verify


def download_mnist(data_dir=None, *, mirrors=None, md5s=None, timeout=DEFAULT_TIMEOUT, progress=True):
    """Download the MNIST files missing from ``<data_dir>/mnist``; return that directory.

    Each file comes from the first of ``mirrors`` (base URLs; default ``MNIST_MIRRORS``) that
    delivers it with the right decompressed md5 (``md5s``; default ``MNIST_MD5``).
    Raises one DataError when a file cannot be had.
    """
    mirrors, md5s = mirrors or MNIST_MIRRORS, md5s or MNIST_MD5
    root = resolve_data_dir(data_dir)
    directory = _prepare(MNIST, root)
    for filename in [p.name for p in missing_files("mnist", root)]:
        try:
            _download_to([m + filename for m in mirrors], directory / filename,
                         _checksum(md5s[filename], gunzip=True), timeout, progress)
        except _DownloadFailed as exc:  # the other files would fail the same way: stop here
            raise _download_error("mnist", root, filename, exc) from None
    return directory


def download_cifar10(data_dir=None, *, urls=None, md5=None, timeout=DEFAULT_TIMEOUT, progress=True):
    """Download cifar-10-python.tar.gz (from ``urls``; default ``CIFAR10_URLS``), check its md5
    (default ``CIFAR10_ARCHIVE_MD5``), and extract the batches into
    ``<data_dir>/cifar10/cifar-10-batches-py`` (each file moved into place atomically; the
    archive is deleted afterwards). Returns that directory; raises one DataError on failure."""
    urls, md5 = urls or CIFAR10_URLS, md5 or CIFAR10_ARCHIVE_MD5
    root = resolve_data_dir(data_dir)
    directory = _prepare(CIFAR10, root)
    wanted = list(CIFAR10.files)
    archive = directory.parent / CIFAR10.archive
    try:
        _download_to(urls, archive, _checksum(md5), timeout, progress)
    except _DownloadFailed as exc:
        raise _download_error("cifar10", root, CIFAR10.archive, exc) from None
    staging = Path(tempfile.mkdtemp(dir=directory.parent, prefix=".cifar10."))
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for name in wanted:  # only the expected regular files: no path tricks from the archive
                member = tar.getmember(f"{CIFAR10_ARCHIVE_DIR}/{name}")
                if not member.isfile():
                    raise DataError(f"cifar-10-python.tar.gz: {member.name} is not a regular file")
                with tar.extractfile(member) as src, open(staging / name, "wb") as dst:
                    shutil.copyfileobj(src, dst)
        for name in wanted:
            os.replace(staging / name, directory / name)
    except (KeyError, tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise DataError(f"could not extract {display_path(archive)} into {display_path(directory)} "
                        f"({exc}); retry `{download_command('cifar10', root)}`") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        archive.unlink(missing_ok=True)
    return directory


def _prepare(spec, root):
    """Create ``spec``'s folder under ``root``; a data directory that is a file (or a broken
    symlink) on the way is one DataError naming it."""
    found = survey(spec.name, root)
    if found.folder:
        raise survey_error(found)
    directory = spec.directory(root)
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _download_error(name, root, filename, failure):
    missing = missing_files(name, root)
    if not missing:  # only optional files were absent (CIFAR-10 batches): what is there still loads
        return DataError(f"could not download {filename} ({failure}); the {dataset_spec(name).label} files "
                         f"already in {display_path(dataset_dir(name, root))} are kept and still load. "
                         f"Retry `{download_command(name, root)}` later")
    return DataError(f"could not download {filename} ({failure}). {missing_data_error(name, root, missing)}")


def download_dataset(name, data_dir=None, **kwargs):
    """Download dataset ``name`` ("mnist" or "cifar10") into ``data_dir``; return its directory."""
    if name == "mnist":
        return download_mnist(data_dir, **kwargs)
    if name == "cifar10":
        return download_cifar10(data_dir, **kwargs)
    raise DataError(f"unknown dataset {name!r}; known datasets: {', '.join(DATASETS)}")


def main(argv=None):
    """``dlbook download {mnist,cifar10,all} [--data-dir DIR] [--timeout S]``."""
    from dlbook.options import make_parser, positive_float
    parser = make_parser(prog="dlbook download",
                         description=f"Download MNIST (~{MNIST.download_mb} MB) and/or CIFAR-10 "
                                     f"(~{CIFAR10.download_mb} MB) into the data directory, checking each "
                                     f"file's checksum; files already there are kept.")
    parser.add_argument("dataset", choices=[*DATASETS, "all"], help="what to download")
    parser.add_argument("--data-dir", default=None, metavar="DIR",
                        help="data directory (default: $DLBOOK_DATA_DIR, else ./data)")
    parser.add_argument("--timeout", type=positive_float, default=DEFAULT_TIMEOUT,
                        help="seconds to wait for a connection or for each read")
    args = parser.parse_args(argv)
    root = resolve_data_dir(args.data_dir)
    for name in DATASETS if args.dataset == "all" else [args.dataset]:
        found = survey(name, root)
        complete = not (found.folder or found.problems or found.absent_optional)
        if not complete:
            download_dataset(name, root, timeout=args.timeout)
            found = survey(name, root)
            if found.folder or found.problems:  # e.g. a broken symlink a download does not replace
                raise survey_error(found, data_dir=args.data_dir)
        print(f"{name}: {'already' if complete else 'ready'} in {display_path(dataset_dir(name, root))}")
    return 0
