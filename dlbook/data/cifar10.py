"""CIFAR-10: ``load_cifar10_dataset`` with the return values of ``tl.files.load_cifar10_dataset``."""
import os
import struct
import warnings
from pathlib import Path

import numpy as np

from dlbook.files import safe_pickle
from dlbook.files.atomic import atomic_path
from dlbook.data.paths import (CIFAR10, CIFAR10_META, CIFAR10_SUBDIR, CIFAR10_TEST_BATCH,  # noqa: F401
                               CIFAR10_TRAIN_BATCHES, display_path, download_command, resolve_data_dir,
                               survey, survey_error)
from dlbook.errors import DataError, ShapeError

IMAGE_SIZE = 32 * 32 * 3


def _text(value):
    return value.decode("latin-1") if isinstance(value, bytes) else value


def _fix(path, several=False):
    command = download_command("cifar10", Path(path).parent.parent.parent)
    return (f"delete {'them' if several else 'it'} and put {'good copies' if several else 'a good copy'} "
            f"there (or run `{command}`)")


def _unpickle(path):
    """The dict in a CIFAR-10 pickle, with str keys whichever Python wrote it."""
    path = Path(path)
    content = safe_pickle.load(path, safe_pickle.CIFAR10_GLOBALS, what="CIFAR-10 file",
                               shown=display_path(path), fix=_fix(path))
    if not isinstance(content, dict):
        problem = f"holds a {type(content).__name__}, not a dict: not a CIFAR-10 batch"
        raise safe_pickle.BadPickle(f"CIFAR-10 file {display_path(path)} {problem}; {_fix(path)}", problem)
    return {_text(k): v for k, v in content.items()}


def _batch_problem(batch):
    """What is wrong with an unpickled batch dict (what was expected, what was found), or None."""
    if "data" not in batch or "labels" not in batch:
        return f"has keys {sorted(map(str, batch))}, expected 'data' and 'labels': not a CIFAR-10 batch"
    data = batch["data"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != IMAGE_SIZE:
        found = f"{data.dtype}{list(data.shape)}" if isinstance(data, np.ndarray) else f"a {type(data).__name__}"
        return f"has data {found}, expected uint8[n, {IMAGE_SIZE}]"
    if len(data) == 0:
        return "has 0 images, expected at least 1 (an official batch has 10,000)"
    try:
        labels = np.asarray(batch["labels"])
    except (ValueError, TypeError):
        return "has labels that are not a list of integers"
    if labels.shape != (len(data),):
        return f"has {len(data)} images but {labels.size} labels, expected one label per image"
    if labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() > 9:
        found = f"{labels.min()}..{labels.max()}" if labels.dtype.kind in "iuf" else f"{labels.dtype} values"
        return f"has labels outside 0..9 (found {found})"
    return None


def _read_batch(path):
    """``((data, labels), None)`` for a good batch file, ``(None, what is wrong)`` for a bad one."""
    try:
        batch = _unpickle(path)
    except safe_pickle.BadPickle as exc:
        return None, exc.problem
    problem = _batch_problem(batch)
    if problem:
        return None, problem
    return (batch["data"], np.asarray(batch["labels"]).astype(np.int32)), None


def read_cifar10_batch(path):
    """``(data, labels)`` of one batch file: uint8 ``[n, 3072]`` (R, G, B planes) and int32 ``[n]``."""
    return read_cifar10_batches([path])[0]


def read_cifar10_batches(paths):
    """``[(data, labels), ...]`` of each batch in ``paths``; one DataError lists every bad batch."""
    results, problems = [], []
    for path in map(Path, paths):
        result, problem = _read_batch(path)
        if problem:
            problems.append((path, problem))
        results.append(result)
    if len(problems) == 1:
        path, problem = problems[0]
        if problem == "is missing":
            raise DataError(f"CIFAR-10 file not found: {display_path(path)}")
        raise DataError(f"CIFAR-10 file {display_path(path)} {problem}; {_fix(path)}")
    if problems:
        raise DataError(f"{len(problems)} CIFAR-10 files in {display_path(problems[0][0].parent)} are bad: "
                        + "; ".join(f"{path.name} {problem}" for path, problem in problems)
                        + f". {_fix(problems[0][0], several=True).capitalize()}")
    return results


def load_cifar10_label_names(path=None):
    """The ten class names from ``batches.meta``: ['airplane', 'automobile', ..., 'truck']."""
    meta_path = CIFAR10.directory(resolve_data_dir(path)) / CIFAR10_META
    meta = _unpickle(meta_path)
    names = meta.get("label_names", [])
    if not isinstance(names, (list, tuple)) or len(names) != 10 or not all(isinstance(n, (str, bytes)) for n in names):
        found = f"{len(names)} label names" if isinstance(names, (list, tuple)) else f"a {type(names).__name__}"
        raise DataError(f"CIFAR-10 file {display_path(meta_path)} has {found} under 'label_names', "
                        f"expected a list of 10 names; {_fix(meta_path)}")
    return [_text(n) for n in names]


def _to_images(data, shape):
    shape = tuple(shape)
    try:
        if shape == (-1, 32, 32, 3):
            # Same values as TL's reshape(order='F') + transpose(0, 2, 1, 3): planes -> height, width, channel.
            return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        return data.reshape(shape)  # TL: (-1, 3, 32, 32) and any other shape are a plain reshape
    except ValueError:
        raise ShapeError(f"cannot reshape CIFAR-10 data {data.shape} to shape={shape}; "
                         f"use (-1, 32, 32, 3) or (-1, 3, 32, 32)") from None


def load_cifar10_dataset(shape=(-1, 32, 32, 3), path=None, *, download=False):
    """Load CIFAR-10 like ``tl.files.load_cifar10_dataset(shape, path)``.

    Returns ``X_train, y_train, X_test, y_test``: float32 pixels 0..255 in ``shape``
    ((-1, 32, 32, 3) is height, width, RGB), int32 labels 0..9. ``path`` is the data directory
    holding ``cifar10/cifar-10-batches-py/`` (default: :func:`resolve_data_dir`).

    Loads the ``data_batch_1..5`` that exist, warning when some are missing (TensorLayer fails);
    the test batch is required. With ``download=True`` missing files are fetched; otherwise a
    missing file raises DataError naming it and the fix. A present but unusable file (a broken
    symlink, unreadable, not a CIFAR-10 batch) raises DataError listing each such file; a file
    that would run code when unpickled is refused before any of it runs (:mod:`dlbook.files.safe_pickle`).
    Class names: :func:`load_cifar10_label_names`.

    Full CIFAR-10: 50,000 training and 10,000 test images, 1,000 per class in the test set.
    """
    root = resolve_data_dir(path)
    directory = CIFAR10.directory(root)
    found = survey("cifar10", root)
    if found.missing and download and not found.folder:
        from dlbook.data.download import download_cifar10
        download_cifar10(root)
        found = survey("cifar10", root)
    if found.problems or found.folder:
        raise survey_error(found, data_dir=path)

    present = [b for b in CIFAR10_TRAIN_BATCHES if directory / b in found.present]  # errata: cifar10-loader-strictness
    if len(present) < len(CIFAR10_TRAIN_BATCHES):
        absent = [b for b in CIFAR10_TRAIN_BATCHES if b not in present]
        warnings.warn(f"CIFAR-10: {len(present)} of {len(CIFAR10_TRAIN_BATCHES)} training batches in "
                      f"{display_path(directory)} ({', '.join(absent)} missing); training on those present",
                      stacklevel=2)
    *batches, (test_data, y_test) = read_cifar10_batches([directory / b for b in present]
                                                          + [directory / CIFAR10_TEST_BATCH])
    X_train = np.ascontiguousarray(_to_images(np.concatenate([d for d, _ in batches]), shape), np.float32)
    X_test = np.ascontiguousarray(_to_images(test_data, shape), np.float32)
    y_train = np.concatenate([y for _, y in batches])
    return X_train, y_train, X_test, y_test


class _Global:
    def __init__(self, module, name):
        self.opcode = b"c" + f"{module}\n{name}\n".encode()


_NDARRAY = _Global("numpy", "ndarray")


def _py2_pickle(obj):
    """Protocol-2 pickle as Python 2 wrote the official batches: strings are Python 2 ``str``
    (load as str with encoding='latin-1', as bytes with encoding='bytes'), arrays use
    ``numpy.core.multiarray._reconstruct``. Supports what a CIFAR-10 batch holds."""
    out = [b"\x80\x02"]

    def save(o):
        if o is None:
            out.append(b"N")
        elif isinstance(o, bool):
            out.append(b"\x88" if o else b"\x89")
        elif isinstance(o, int):
            out.append(b"K" + bytes([o]) if 0 <= o < 256 else
                       b"M" + struct.pack("<H", o) if 0 <= o < 65536 else b"J" + struct.pack("<i", o))
        elif isinstance(o, (str, bytes)):
            data = o.encode("latin-1") if isinstance(o, str) else o
            out.append(b"U" + bytes([len(data)]) + data if len(data) < 256 else
                       b"T" + struct.pack("<I", len(data)) + data)
        elif isinstance(o, _Global):
            out.append(o.opcode)
        elif isinstance(o, tuple):
            out.append(b"(")
            for item in o:
                save(item)
            out.append(b"t")
        elif isinstance(o, list):
            out.append(b"](")
            for item in o:
                save(item)
            out.append(b"e")
        elif isinstance(o, dict):
            out.append(b"}(")
            for key, value in o.items():
                save(key)
                save(value)
            out.append(b"u")
        elif isinstance(o, np.ndarray) and o.dtype == np.uint8:
            save(_Global("numpy.core.multiarray", "_reconstruct"))
            save((_NDARRAY, (0,), "b"))
            out.append(b"R")
            out.append(b"(")
            save(1)
            save(tuple(o.shape))
            save(_Global("numpy", "dtype"))
            save(("u1", 0, 1))
            out.append(b"R")
            save((3, "|", None, None, None, -1, -1, 0))
            out.append(b"b")
            save(False)
            save(np.ascontiguousarray(o).tobytes())
            out.append(b"tb")
        else:
            raise TypeError(f"cannot write {type(o).__name__} in a CIFAR-10 pickle")

    save(obj)
    out.append(b".")
    return b"".join(out)


def write_cifar10_pickle(path, content):
    """Write ``content`` (a batch or meta dict) in the official Python 2 pickle format, atomically.

    Used by ``scripts/make_tiny_data.py`` and the tests.
    """
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(_py2_pickle(content))
        os.chmod(tmp, 0o644)  # atomic_path's temp file is private; a data file is not
