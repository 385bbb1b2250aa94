"""MNIST: ``load_mnist_dataset`` with the return values of ``tl.files.load_mnist_dataset``.

The IDX files are parsed with numpy and checked (magic number, dimensions, size, label range),
so a truncated or corrupt file is reported by name instead of giving wrong arrays.
"""
import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from dlbook.fileio import atomic_path
from dlbook.data.paths import MNIST_FILES, display_path, missing_files, mnist_file, resolve_data_dir
from dlbook.errors import DataError, ShapeError

IDX_IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions (count, rows, columns)
IDX_LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension (count)


def read_idx(path, magic):
    """Read an IDX file (gzipped if its name ends in .gz) into a uint8 array of its dimensions.

    Raises DataError naming the file when it is missing, empty, not gzip, truncated, has another
    magic number than ``magic``, or its size does not match its header.
    """
    path = Path(path)
    fix = "delete it and put a good copy there (or run `python scripts/download_data.py mnist`)"
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                raw = f.read()
        else:
            raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"MNIST file not found: {display_path(path)}") from None
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise DataError(f"MNIST file {display_path(path)} is not a readable gzip file ({exc}); {fix}") from None
    if len(raw) < 4:
        raise DataError(f"MNIST file {display_path(path)} is empty or truncated ({len(raw)} bytes); {fix}")
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise DataError(f"MNIST file {display_path(path)} has magic number {found}, expected {magic} "
                        f"({'images' if magic == IDX_IMAGES_MAGIC else 'labels'}): not an MNIST "
                        f"{'image' if magic == IDX_IMAGES_MAGIC else 'label'} file; {fix}")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"MNIST file {display_path(path)} is truncated inside its header; {fix}")
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(dims))
    if len(raw) != expected:
        raise DataError(f"MNIST file {display_path(path)} has {len(raw) - header} data bytes but its header "
                        f"{dims} says {expected - header}: the file is "
                        f"{'truncated' if len(raw) < expected else 'corrupt'}; {fix}")
    return np.frombuffer(raw, np.uint8, offset=header).reshape(dims)


def read_mnist_split(directory, split):
    """Images ``[n, rows, cols]`` and labels ``[n]`` (uint8) of ``split`` ("train" or "t10k")."""
    images_name, labels_name = (f for f in MNIST_FILES if f.startswith(split + "-"))
    images_path, labels_path = mnist_file(directory, images_name), mnist_file(directory, labels_name)
    images = read_idx(images_path, IDX_IMAGES_MAGIC)
    labels = read_idx(labels_path, IDX_LABELS_MAGIC)
    if len(images) != len(labels):
        raise DataError(f"MNIST {split} set is inconsistent: {display_path(images_path)} has {len(images)} "
                        f"images but {display_path(labels_path)} has {len(labels)} labels; "
                        f"replace both files with a matching pair")
    if labels.size and labels.max() > 9:
        raise DataError(f"MNIST file {display_path(labels_path)} has label {labels.max()} (> 9): corrupt; "
                        f"replace it with a good copy")
    return images, labels


def load_mnist_dataset(shape=(-1, 784), path=None, *, validation_size=None, pixel_divisor=255.0,
                       download=False):
    """Load MNIST like ``tl.files.load_mnist_dataset(shape, path)``.

    Returns ``X_train, y_train, X_val, y_val, X_test, y_test``: float32 pixels ``/ pixel_divisor``
    reshaped to ``shape``, int32 labels. The validation set is the LAST ``validation_size``
    training rows (TensorLayer's choice); the default ``None`` takes one sixth of the training set,
    which is TensorLayer's 10,000 of 60,000 on the real data and 500 of 3,000 on the tiny subset.
    ``pixel_divisor`` is 255 so pixels span [0, 1]; 256 reproduces TensorLayer bit for bit.

    ``path`` is the data directory holding ``mnist/`` (default: :func:`resolve_data_dir`).
    With ``download=True`` missing files are fetched (see :mod:`dlbook.data.download`);
    otherwise a missing file raises DataError naming it and the fix.

    Real MNIST: 50,000 / 10,000 / 10,000 images; pixels of X_train average 0.1310 (/255), max 1.0.
    """
    root = resolve_data_dir(path)
    directory = root / "mnist"
    missing = missing_files("mnist", root)
    if missing and download:
        from dlbook.data.download import download_mnist
        download_mnist(root)
    elif missing:
        from dlbook.data.download import missing_data_error
        raise missing_data_error("mnist", root, missing)

    train_images, train_labels = read_mnist_split(directory, "train")
    test_images, test_labels = read_mnist_split(directory, "t10k")
    n_train = len(train_images)
    # errata: mnist-validation-split
    n_val = n_train // 6 if validation_size is None else int(validation_size)
    if not 0 <= n_val < n_train:
        raise ShapeError(f"validation_size={validation_size} must be in [0, {n_train}) for the "
                         f"{n_train:,} MNIST training images in {display_path(directory)}")

    def images(x):
        try:
            # errata: mnist-pixel-divisor
            return (x.reshape(shape) / np.float32(pixel_divisor)).astype(np.float32, copy=False)
        except ValueError:
            raise ShapeError(f"cannot reshape MNIST images {x.shape} to shape={tuple(shape)}; "
                             f"use e.g. (-1, 784) or (-1, 28, 28, 1)") from None

    split = n_train - n_val
    X_train, X_val, X_test = images(train_images[:split]), images(train_images[split:]), images(test_images)
    y_train, y_val, y_test = (np.asarray(y, np.int32) for y in
                              (train_labels[:split], train_labels[split:], test_labels))
    return X_train, y_train, X_val, y_val, X_test, y_test


def write_idx_gz(path, array):
    """Write a uint8 array as a gzipped IDX file (mtime 0: same array, same bytes), atomically.

    Used by ``scripts/make_tiny_data.py`` and the tests.
    """
    array = np.ascontiguousarray(array, dtype=np.uint8)
    magic = {1: IDX_LABELS_MAGIC, 3: IDX_IMAGES_MAGIC}[array.ndim]
    payload = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape) + array.tobytes()
    with atomic_path(path) as tmp:
        # level 9 is 2% smaller and 15x slower
        Path(tmp).write_bytes(gzip.compress(payload, compresslevel=6, mtime=0))
        os.chmod(tmp, 0o644)  # atomic_path's temp file is private; a data file is not
