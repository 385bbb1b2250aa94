"""Which data a chapter trains on: the real dataset, or the shipped tiny subset when none of it is there."""
from dataclasses import dataclass
from pathlib import Path

from dlbook.data.paths import (REPO_TINY_DIR, dataset_spec, display_path, download_command,
                               missing_data_error, resolve_data_dir, survey, survey_error)


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
        from dlbook.data.paths import MNIST, mnist_file
        return len(read_idx(mnist_file(MNIST.directory(root), MNIST.files[1]), IDX_LABELS_MAGIC))
    from dlbook.data.cifar10 import read_cifar10_batches
    found = survey(name, root)
    batches = [p for p in found.present if p.name.startswith("data_batch_")]
    return sum(len(labels) for _, labels in read_cifar10_batches(batches))


def find_dataset(name, data_dir=None, *, download=False, announce=True):
    """Locate dataset ``name`` ("mnist" or "cifar10") for a chapter script.

    Looks in :func:`resolve_data_dir` (``data_dir``, ``$DLBOOK_DATA_DIR`` or ``./data``):

    - every required file there and usable: the real data;
    - some there, some missing or unusable: downloads the missing ones if ``download`` is true,
      else (and for unusable ones always) raises DataError listing each bad file and the fix;
    - none there: downloads if ``download`` is true, otherwise falls back to the tiny subset
      shipped in ``data/tiny`` (beside the package, else ``<data_dir>/tiny``) and says so.

    Prints the location's one-line ``message`` when ``announce`` is true.

    >>> loc = find_dataset("mnist")          # doctest: +SKIP
    Real MNIST not found in data/mnist; using the tiny subset in data/tiny/mnist (3,000 training
    images). For the full dataset: dlbook download mnist
    >>> X_train, y_train, X_val, y_val, X_test, y_test = load_mnist_dataset(path=loc.path)  # doctest: +SKIP
    """
    spec = dataset_spec(name)
    root = resolve_data_dir(data_dir)
    found = survey(name, root)
    if found.missing and download and not found.folder:
        from dlbook.data.download import download_dataset
        download_dataset(name, root)
        found = survey(name, root)
    if found.nothing_there:
        tiny_root = next((d for d in (REPO_TINY_DIR, root / "tiny") if not survey(name, d).problems), None)
        if tiny_root is None:
            raise missing_data_error(name, root, found.missing, data_dir=data_dir)
        count = _count_training_images(name, tiny_root)
        location = DatasetLocation(
            name, tiny_root, True,
            f"Real {spec.label} not found in {display_path(spec.directory(root))}; using the tiny subset in "
            f"{display_path(spec.directory(tiny_root))} ({count:,} training images). "
            f"For the full dataset: {download_command(name, data_dir)}")
    elif found.problems or found.folder:
        raise survey_error(found, data_dir=data_dir)
    else:
        location = DatasetLocation(name, root, False,
                                   f"Using {spec.label} from {display_path(spec.directory(root))}")
    if announce:
        print(location.message, flush=True)
    return location
