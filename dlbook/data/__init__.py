"""Data: MNIST and CIFAR-10 loaders with TensorLayer's return values, and the book's ``Dataset`` /
``Dataloader`` API (1.10.5) on ``tf.data``; names resolve lazily from ``_EXPORTS``.
"""
from dlbook.lazy import lazy_exports

_EXPORTS = {
    # raw loaders: the return values of tl.files.load_mnist_dataset / load_cifar10_dataset
    "load_mnist_dataset": "dlbook.data.mnist",
    "load_cifar10_dataset": "dlbook.data.cifar10",
    "load_cifar10_label_names": "dlbook.data.cifar10",
    "resolve_data_dir": "dlbook.data.paths",
    "find_dataset": "dlbook.data.locate",
    "DatasetLocation": "dlbook.data.locate",
    "download_mnist": "dlbook.data.download",
    "download_cifar10": "dlbook.data.download",
    "download_dataset": "dlbook.data.download",
    # the book's tl.data API (1.10.5)
    "Dataset": "dlbook.data.dataset",
    "Dataloader": "dlbook.data.dataset",
    "MNIST": "dlbook.data.dataset",
    "CIFAR10": "dlbook.data.dataset",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
