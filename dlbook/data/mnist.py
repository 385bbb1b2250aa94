"""MNIST: ``load_mnist_dataset`` with the return values of ``tl.files.load_mnist_dataset``."""
import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from dlbook.files.atomic import atomic_path
from dlbook.data.paths import (MNIST, MNIST_FILES, display_path, download_command, mnist_file,  # noqa: F401
                               resolve_data_dir, survey, survey_error)
from dlbook.errors import DataError, ShapeError

IDX_IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions (count, rows, columns)
IDX_LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension (count)
IMAGE_SHAPE = (28, 28)


def _fix(root, several=False):
    command = download_command("mnist", root)
    return (f"delete {'them' if several else 'it'} and put {'good copies' if several else 'a good copy'} "
            f"there (or run `{command}`)")


def _idx_problem(path, magic):
    """``(array, None)`` for a good IDX file, ``(None, what is wrong)`` for a bad one."""
    path = Path(path)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                raw = f.read()
        else:
            raw = path.read_bytes()
    except FileNotFoundError:
        return None, "is missing"
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        return None, f"is not a readable gzip file ({exc})"
    kind = "images" if magic == IDX_IMAGES_MAGIC else "labels"
    if len(raw) < 4:
        return None, f"is empty or truncated ({len(raw)} bytes)"
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        return None, (f"has magic number {found}, expected {magic} ({kind}): not an MNIST "
                      f"{'image' if magic == IDX_IMAGES_MAGIC else 'label'} file")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        return None, "is truncated inside its header"
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(dims))
    if len(raw) != expected:
        return None, (f"has {len(raw) - header} data bytes but its header {dims} says {expected - header}: "
                      f"the file is {'truncated' if len(raw) < expected else 'corrupt'}")
    return np.frombuffer(raw, np.uint8, offset=header).reshape(dims), None


def read_idx(path, magic, *, fix=None):
    """Read an IDX file (gzipped if its name ends in .gz) into a uint8 array of its dimensions.

    Raises DataError naming the file when it is missing, empty, not gzip, truncated, has another
    magic number than ``magic``, or its size does not match its header.
    """
    array, problem = _idx_problem(path, magic)
    if problem == "is missing":
        raise DataError(f"MNIST file not found: {display_path(path)}")
    if problem:
        raise DataError(f"MNIST file {display_path(path)} {problem}; {fix or _fix(Path(path).parent.parent)}")
    return array


def _content_problem(array, magic, filename):
    """What is wrong with the content of a well-formed IDX array as an MNIST file, or None."""
    train = filename.startswith("train")
    official = MNIST.train_images if train else MNIST.test_images
    kind = "images" if magic == IDX_IMAGES_MAGIC else "labels"
    if len(array) == 0:
        return (f"has 0 {kind} (its header is valid but says 0), expected {official:,} "
                f"(at least 1)")
    if magic == IDX_IMAGES_MAGIC and array.shape[1:] != IMAGE_SHAPE:
        return (f"has images of {array.shape[1]}x{array.shape[2]} pixels, expected "
                f"{IMAGE_SHAPE[0]}x{IMAGE_SHAPE[1]}: not MNIST images")
    if magic == IDX_LABELS_MAGIC and array.max() > 9:
        return f"has label {array.max()} (> 9), expected labels 0..9: corrupt"
    return None


def read_mnist_files(root):
    """``{filename: array}`` of the four MNIST files under data directory ``root``.

    Every file is read and checked before anything is reported: one DataError lists each bad
    file with what was expected and what was found.
    """
    directory = MNIST.directory(root)
    arrays, problems = {}, []
    for filename in MNIST.files:
        path = mnist_file(directory, filename)
        magic = IDX_IMAGES_MAGIC if "-images-" in filename else IDX_LABELS_MAGIC
        array, problem = _idx_problem(path, magic)
        problem = problem or _content_problem(array, magic, filename)
        if problem:
            problems.append((path, problem))
        else:
            arrays[filename] = array
    if len(problems) == 1:
        path, problem = problems[0]
        raise DataError(f"MNIST file {display_path(path)} {problem}; {_fix(root)}")
    if problems:
        raise DataError(f"{len(problems)} MNIST files in {display_path(directory)} are bad: "
                        + "; ".join(f"{p.name} {what}" for p, what in problems) + f". {_fix(root, several=True).capitalize()}")
    for split in ("train", "t10k"):
        images_name, labels_name = (f for f in MNIST.files if f.startswith(split + "-"))
        images, labels = arrays[images_name], arrays[labels_name]
        if len(images) != len(labels):
            raise DataError(f"MNIST {split} set is inconsistent: "
                            f"{display_path(mnist_file(directory, images_name))} has {len(images)} images but "
                            f"{display_path(mnist_file(directory, labels_name))} has {len(labels)} labels; "
                            f"replace both files with a matching pair")
    return arrays


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
    otherwise a missing file raises DataError naming it and the fix. A present but unusable file
    (a broken symlink, unreadable, corrupt content) raises DataError listing each such file.

    Real MNIST: 50,000 / 10,000 / 10,000 images; pixels of X_train average 0.1310 (/255), max 1.0.
    """
    root = resolve_data_dir(path)
    found = survey("mnist", root)
    if found.missing and download and not found.folder:
        from dlbook.data.download import download_mnist
        download_mnist(root)
        found = survey("mnist", root)
    if found.problems or found.folder:
        raise survey_error(found, data_dir=path)

    arrays = read_mnist_files(root)
    train_images, train_labels, test_images, test_labels = (arrays[f] for f in MNIST.files)
    n_train = len(train_images)
    # errata: mnist-validation-split
    n_val = n_train // 6 if validation_size is None else int(validation_size)
    if not 0 <= n_val < n_train:
        raise ShapeError(f"validation_size={validation_size} must be in [0, {n_train}) for the "
                         f"{n_train:,} MNIST training images in {display_path(MNIST.directory(root))}")

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
