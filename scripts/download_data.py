"""Same as ``dlbook download {mnist,cifar10,all} [--data-dir DIR]``, for a clone that is not installed.

The command lives in the package (:mod:`dlbook.data.download`); this wrapper only runs it.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone without installing

from dlbook.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["download", *sys.argv[1:]]))
