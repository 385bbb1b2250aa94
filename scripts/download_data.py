"""Download the real datasets: ``python scripts/download_data.py {mnist,cifar10,all} [--data-dir DIR]``.

MNIST (~11 MB) comes from the first working mirror in ``dlbook.data.download.MNIST_MIRRORS``, each
file checked against the md5 of its decompressed content; CIFAR-10 (~163 MB) from the Toronto site,
checked against the archive's md5 and extracted to ``<data-dir>/cifar10/cifar-10-batches-py``.
Files already present are kept. Progress goes to stderr; a failure is one line and exit code 1.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone without installing

from dlbook.cli import guarded  # noqa: E402
from dlbook.data.download import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(guarded(main, sys.argv[1:]))
