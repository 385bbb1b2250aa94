"""Where the data lives: the data directory, the file layout, and the tiny-subset fallback.

Layout under a data directory (the same as ``../shared/data`` and as TensorLayer's ``path``)::

    <data_dir>/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
    <data_dir>/cifar10/cifar-10-batches-py/{data_batch_1..5,test_batch,batches.meta}

The data directory is the explicit argument, else ``$DLBOOK_DATA_DIR``, else ``./data``.
The repository ships tiny synthetic subsets in the same layout under ``data/tiny``;
:func:`find_dataset` falls back to them (and says so) when the real data is absent.
"""
import os
from dataclasses import dataclass
from pathlib import Path

from dlbook.errors import DataError

DATA_DIR_ENV = "DLBOOK_DATA_DIR"
DATASETS = ("mnist", "cifar10")

MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
CIFAR10_SUBDIR = Path("cifar10") / "cifar-10-batches-py"
CIFAR10_TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST_BATCH = "test_batch"
CIFAR10_META = "batches.meta"

# data/tiny next to the dlbook package, so a clean clone finds it from any working directory.
REPO_TINY_DIR = Path(__file__).resolve().parents[2] / "data" / "tiny"


def resolve_data_dir(data_dir=None):
    """The data directory: ``data_dir`` if given, else ``$DLBOOK_DATA_DIR``, else ``./data``."""
    if data_dir is None or str(data_dir) == "":
        data_dir = os.environ.get(DATA_DIR_ENV) or "data"
    return Path(data_dir).expanduser()


def display_path(path):
    """``path`` relative to the working directory when it is inside it (for messages)."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def download_command(name, data_dir=None):
    """The shell command that downloads dataset ``name`` into ``data_dir``."""
    command = f"python scripts/download_data.py {name}"
    if data_dir is not None and resolve_data_dir(data_dir) != resolve_data_dir(None):
        command += f" --data-dir {display_path(data_dir)}"
    return command


def mnist_file(directory, filename):
    """The MNIST file ``filename`` in ``directory``: the ``.gz`` or, failing that, the unpacked file.

    Returns the ``.gz`` path when neither exists (the name shown in error messages).
    """
    gz = Path(directory) / filename
    raw = gz.with_suffix("")
    return raw if not gz.exists() and raw.exists() else gz


def missing_files(name, root):
    """The files of dataset ``name`` missing under data directory ``root`` (empty: loadable).

    For CIFAR-10 the test batch and at least one training batch are required.
    """
    root = Path(root)
    if name == "mnist":
        return [mnist_file(root / "mnist", f) for f in MNIST_FILES
                if not mnist_file(root / "mnist", f).is_file()]
    if name == "cifar10":
        directory = root / CIFAR10_SUBDIR
        missing = [directory / CIFAR10_TEST_BATCH] if not (directory / CIFAR10_TEST_BATCH).is_file() else []
        if not any((directory / b).is_file() for b in CIFAR10_TRAIN_BATCHES):
            missing.insert(0, directory / CIFAR10_TRAIN_BATCHES[0])
        return missing
    raise DataError(f"unknown dataset {name!r}; known datasets: {', '.join(DATASETS)}")


def dataset_dir(name, root):
    """The directory holding dataset ``name``'s files under data directory ``root``."""
    return Path(root) / ("mnist" if name == "mnist" else CIFAR10_SUBDIR)


@dataclass(frozen=True)
class DatasetLocation:
    """Where :func:`find_dataset` found a dataset.

    ``path`` is the data directory to pass as ``path=`` to the loader; ``tiny`` tells whether it
    is the shipped tiny subset; ``message`` is one line saying what is used (and how to get the
    real data when it is the tiny subset).
    """

    name: str
    path: Path
    tiny: bool
    message: str


def _count_training_images(name, root):
    if name == "mnist":
        from dlbook.data.mnist import IDX_LABELS_MAGIC, read_idx
        return len(read_idx(mnist_file(root / "mnist", MNIST_FILES[1]), IDX_LABELS_MAGIC))
    from dlbook.data.cifar10 import read_cifar10_batch
    directory = root / CIFAR10_SUBDIR
    return sum(len(read_cifar10_batch(directory / b)[1])
               for b in CIFAR10_TRAIN_BATCHES if (directory / b).is_file())


def find_dataset(name, data_dir=None, *, download=False, announce=True):
    """Locate dataset ``name`` ("mnist" or "cifar10") for a chapter script.

    Looks in :func:`resolve_data_dir` (``data_dir``, ``$DLBOOK_DATA_DIR`` or ``./data``); when the
    real files are absent, downloads them if ``download`` is true, otherwise falls back to the tiny
    subset shipped in ``data/tiny`` (beside the package, else ``<data_dir>/tiny``). Prints the
    location's one-line ``message`` when ``announce`` is true. Raises :class:`DataError` naming the
    missing files and the fix when neither is there.

    >>> loc = find_dataset("mnist")          # doctest: +SKIP
    Real MNIST not found in data/mnist; using the tiny subset in data/tiny/mnist (3,000 training
    images). For the full dataset: python scripts/download_data.py mnist
    >>> X_train, y_train, X_val, y_val, X_test, y_test = load_mnist_dataset(path=loc.path)  # doctest: +SKIP
    """
    root = resolve_data_dir(data_dir)
    label = {"mnist": "MNIST", "cifar10": "CIFAR-10"}.get(name, name)
    missing = missing_files(name, root)
    if missing and download:
        from dlbook.data.download import download_dataset
        download_dataset(name, root)
        missing = missing_files(name, root)
    if not missing:
        location = DatasetLocation(name, root, False,
                                   f"Using {label} from {display_path(dataset_dir(name, root))}")
    else:
        tiny_root = next((d for d in (REPO_TINY_DIR, root / "tiny") if not missing_files(name, d)), None)
        if tiny_root is None:
            from dlbook.data.download import missing_data_error
            raise missing_data_error(name, root, missing)
        count = _count_training_images(name, tiny_root)
        location = DatasetLocation(
            name, tiny_root, True,
            f"Real {label} not found in {display_path(dataset_dir(name, root))}; using the tiny subset in "
            f"{display_path(dataset_dir(name, tiny_root))} ({count:,} training images). "
            f"For the full dataset: {download_command(name, data_dir)}")
    if announce:
        print(location.message, flush=True)
    return location
