"""The book's ``tl.data`` API (1.10.5): ``Dataset``, ``CIFAR10``, ``MNIST`` and ``Dataloader`` on ``tf.data``."""
import inspect
import math

import numpy as np

from dlbook.data.transforms import in_graph  # noqa: F401  (part of this API)
from dlbook.errors import DataError, ShapeError, UsageError
import tensorflow as tf


def _is_in_graph(fn):
    return getattr(fn, "in_graph", False) or isinstance(fn, tf.types.experimental.PolymorphicFunction)


def _takes_seed(fn):
    try:
        return "seed" in inspect.signature(fn).parameters
    except (TypeError, ValueError):  # builtins and some callables have no signature
        return False


class Dataset:
    """A map-style dataset: ``dataset[i]`` is ``(img, target)``; ``len(dataset)`` the count.

    Subclasses holding all their samples in memory return them from :meth:`arrays`, which lets
    the Dataloader slice them inside the ``tf.data`` graph instead of calling ``__getitem__``.
    """

    def __getitem__(self, index):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError

    def arrays(self):
        """``(data, targets)`` arrays when the samples are in memory, else None."""
        return None


class ArrayDataset(Dataset):
    """A dataset over two arrays of the same length: ``data[i], targets[i]``."""

    def __init__(self, data, targets):
        data, targets = np.asarray(data), np.asarray(targets)
        if len(data) != len(targets):
            raise ShapeError(f"data has {len(data)} samples but targets has {len(targets)}: "
                             f"give one target per sample")
        self.data, self.targets = data, targets

    def __getitem__(self, index):
        return self.data[index], self.targets[index]

    def __len__(self):
        return len(self.data)

    def arrays(self):
        return self.data, self.targets


# errata: tl-data
class CIFAR10(ArrayDataset):
    """CIFAR-10 as ``tl.data.CIFAR10(train_or_test='train', shape=(-1, 32, 32, 3))``.

    float32 pixels 0..255, int32 labels; ``path`` is the data directory holding
    ``cifar10/cifar-10-batches-py`` (see :func:`dlbook.data.load_cifar10_dataset`).
    """

    def __init__(self, train_or_test="train", shape=(-1, 32, 32, 3), path=None):
        if train_or_test not in ("train", "test"):
            raise UsageError(f"CIFAR10(train_or_test={train_or_test!r}): use 'train' or 'test'")
        from dlbook.data.cifar10 import load_cifar10_dataset
        X_train, y_train, X_test, y_test = load_cifar10_dataset(shape=shape, path=path)
        super().__init__(*((X_train, y_train) if train_or_test == "train" else (X_test, y_test)))


class MNIST(ArrayDataset):
    """MNIST in the same style: ``MNIST(train_or_test='train', shape=(-1, 784))``.

    ``train_or_test`` is 'train', 'val' or 'test', the three splits of
    :func:`dlbook.data.load_mnist_dataset` (float32 pixels in [0, 1], int32 labels).
    """

    def __init__(self, train_or_test="train", shape=(-1, 784), path=None):
        splits = ("train", "val", "test")
        if train_or_test not in splits:
            raise UsageError(f"MNIST(train_or_test={train_or_test!r}): use 'train', 'val' or 'test'")
        from dlbook.data.mnist import load_mnist_dataset
        arrays = load_mnist_dataset(shape=shape, path=path)
        i = splits.index(train_or_test)
        super().__init__(arrays[2 * i], arrays[2 * i + 1])


class _Stage:
    """Consecutive transforms of one kind: in-graph, or NumPy through one ``tf.numpy_function``."""

    def __init__(self, fns, graph):
        self.fns, self.graph = fns, graph
        self.takes_seed = [_takes_seed(fn) for fn in fns]
        self.out_dtypes = self.out_shapes = None  # NumPy stages: set by probing a sample

    def seeds(self, seed):
        """One stateless seed per transform, from the image's or batch's seed."""
        return [tf.random.experimental.stateless_fold_in(seed, k) for k in range(len(self.fns))]

    def run(self, img, target, seeds):
        for fn, takes_seed, fn_seed in zip(self.fns, self.takes_seed, seeds):
            img, target = fn(img, target, seed=fn_seed) if takes_seed else fn(img, target)
        return img, target

    def probe(self, img, target):
        """Run on one sample eagerly; NumPy stages remember the output dtypes and shapes."""
        seeds = self.seeds(tf.constant([0, 0], tf.int64))
        if self.graph:
            img, target = self.run(img, target, seeds)
            return tf.convert_to_tensor(img), tf.convert_to_tensor(target)
        img, target = self.run(np.asarray(img), np.asarray(target), [s.numpy() for s in seeds])
        img, target = np.asarray(img), np.asarray(target)
        self.out_dtypes = (tf.as_dtype(img.dtype), tf.as_dtype(target.dtype))
        self.out_shapes = (img.shape, target.shape)
        return tf.convert_to_tensor(img), tf.convert_to_tensor(target)

    def __call__(self, img, target, seed):
        seeds = self.seeds(seed)
        if self.graph:
            return self.run(img, target, seeds)
        dtypes = [d.as_numpy_dtype for d in self.out_dtypes]

        def run_numpy(img, target, seeds):
            return tuple(np.asarray(v, dtype) for v, dtype in zip(self.run(img, target, seeds), dtypes))

        img, target = tf.numpy_function(run_numpy, [img, target, tf.stack(seeds)], self.out_dtypes,
                                        stateful=True)
        img.set_shape(self.out_shapes[0])
        target.set_shape(self.out_shapes[1])
        return img, target


def _stages(transforms):
    stages = []
    for fn in transforms or ():
        if not callable(fn):
            raise UsageError(f"transform {fn!r} is not callable: "
                             f"give functions (img, target) -> (img, target)")
        graph = _is_in_graph(fn)
        if stages and stages[-1].graph == graph:
            stages[-1] = _Stage(stages[-1].fns + [fn], graph)
        else:
            stages.append(_Stage([fn], graph))
    return stages


def _identity(element):
    return element


def buffered_shuffle(n, buffer_size, seed):
    """``0 .. n-1`` as ``tf.data.Dataset.range(n).shuffle(buffer_size)`` orders them, seeded by
    ``seed`` (a shape-[2] int64 stateless seed, a tensor) alone.

    The kernel is tf.data's own ShuffleDataset: a buffer of the next ``buffer_size`` indices, each
    output drawn uniformly from it and replaced by the next index, so index i comes out at
    position ``i - buffer_size + 1`` or later, and ``buffer_size >= n`` gives a uniform
    permutation. ``Dataset.shuffle(seed=...)`` would mix TensorFlow's global seed into the order
    (and fails on a tensor seed when the global seed is 0); here the two seeds are ``seed``.
    """
    seed = tf.cast(seed, tf.int64)
    seed2 = tf.where(tf.reduce_all(seed == 0), tf.constant(1, tf.int64), seed[1])  # (0, 0): "unseeded"
    indices = tf.data.Dataset.range(n)
    shuffled = tf.raw_ops.ShuffleDataset(
        input_dataset=tf.data.experimental.to_variant(indices), buffer_size=tf.constant(buffer_size, tf.int64),
        seed=seed[0], seed2=seed2, output_types=[tf.int64], output_shapes=[[]], reshuffle_each_iteration=False)
    return tf.data.experimental.from_variant(shuffled, indices.element_spec)


class Dataloader:
    """Batches of ``(X_batch, y_batch)`` from a :class:`Dataset`, through ``tf.data``.

    ``transforms`` run on each ``(img, target)``, ``batch_transforms`` on each batch (both in
    order; see the module docstring for NumPy vs in-graph). ``shuffle`` draws a new order every
    epoch (a full permutation, or a ``shuffle_buffer_size`` buffer); the last partial batch is
    kept unless ``drop_last``; ``output_types`` (like ``(np.float32, np.int32)``) casts the batch.
    Each ``iter()`` is one epoch; ``epoch`` counts the completed ones (set it, or :meth:`seek` a
    batch inside an epoch, to resume a run's random stream). :meth:`as_tf_dataset` is the same
    batches as a ``tf.data.Dataset``.
    ``seed`` (default: drawn from NumPy's global generator, so ``set_seed`` fixes it) makes the
    order and every augmentation repeatable.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, transforms=None,
                 batch_transforms=None, output_types=None, shuffle_buffer_size=None,
                 num_parallel_calls=tf.data.AUTOTUNE, prefetch=tf.data.AUTOTUNE, seed=None):
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise UsageError(f"Dataloader batch_size must be a positive integer, got {batch_size!r}")
        if len(dataset) == 0:
            raise DataError("Dataloader got an empty dataset: there is nothing to iterate")
        if output_types is not None and len(output_types) != 2:
            raise UsageError(f"output_types must be two types (images, targets), got {output_types!r}")
        self.dataset, self.batch_size = dataset, int(batch_size)
        if shuffle_buffer_size is not None and (not isinstance(shuffle_buffer_size, (int, np.integer))
                                                or shuffle_buffer_size < 1):
            raise UsageError(f"Dataloader shuffle_buffer_size must be a positive integer or None (a full "
                             f"permutation), got {shuffle_buffer_size!r}")
        self.shuffle, self.drop_last = shuffle, drop_last
        self.shuffle_buffer_size, self.num_parallel_calls, self.prefetch = (
            shuffle_buffer_size, num_parallel_calls, prefetch)
        self.output_types = None if output_types is None else tuple(tf.as_dtype(t) for t in output_types)
        self.seed = int(np.random.randint(2**31 - 1)) if seed is None else int(seed)
        # the epoch counter is a variable: the pipeline of as_tf_dataset() reads and advances it
        self._epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="dataloader_epoch")
        arrays = dataset.arrays()
        self._tensors = None if arrays is None else tuple(tf.convert_to_tensor(a) for a in arrays)
        self._iterator = self._iterator_epoch = None
        self._skip = 0  # batches of the next epoch to leave out (seek)
        self._item_stages, self._batch_stages = _stages(transforms), _stages(batch_transforms)
        self._item_dtypes = self._item_shapes = None  # of dataset[i]: set by _probe
        self._probe()

    @property
    def epoch(self):
        """The number of the next epoch: completed ones in ``for batch in loader``, started
        ones in :meth:`as_tf_dataset`. Set it to resume a run's random stream."""
        return int(self._epoch.numpy())

    @epoch.setter
    def epoch(self, value):
        self._epoch.assign(int(value))
        self._skip = 0

    def seek(self, epoch, batch=0):
        """Make the next ``for batch in loader`` give epoch ``epoch`` from its batch ``batch`` on
        (counted from 0): the batches an uninterrupted run got there, as a run resumed inside an
        epoch needs them. ``seek(k)`` is ``loader.epoch = k``."""
        if not isinstance(batch, (int, np.integer)) or not 0 <= batch <= len(self):
            raise UsageError(f"Dataloader.seek: batch must be an integer from 0 to {len(self)} "
                             f"(the batches of an epoch), got {batch!r}")
        self.epoch = epoch
        self._skip = int(batch)

    def __repr__(self):  # also what Keras prints when given the loader itself: name the fix
        return (f"<Dataloader: {len(self)} batches of {self.batch_size} from {type(self.dataset).__name__} "
                f"({len(self.dataset):,} samples), next epoch {self.epoch}; for Keras or tf.distribute "
                f"use loader.as_tf_dataset()>")

    def __len__(self):
        """Batches per epoch."""
        rounding = math.floor if self.drop_last else math.ceil
        return rounding(len(self.dataset) / self.batch_size)

    def __iter__(self):
        """One epoch of batches. One ``tf.data`` pipeline runs over all epochs (built once; it
        prefetches the next epoch's first batches during evaluation)."""
        skip, self._skip = self._skip, 0
        if self._iterator_epoch == self.epoch and not skip:
            iterator = self._iterator
        else:
            every_epoch = tf.data.Dataset.range(self.epoch, 2**62).flat_map(self._epoch_dataset)
            iterator = iter(self._prefetched(every_epoch.skip(skip)))
        self._iterator_epoch = None  # an epoch left half-way is not continued
        for _ in range(len(self) - skip):
            yield next(iterator)
        self.epoch += 1
        self._iterator, self._iterator_epoch = iterator, self.epoch

    def _probe(self):
        """Run the transforms on sample 0 now: NumPy stages learn their output types, and a
        broken transform fails here, naming itself, rather than inside tf.data."""
        img, target = (np.asarray(v) for v in self.dataset[0])
        self._item_dtypes = (tf.as_dtype(img.dtype), tf.as_dtype(target.dtype))
        self._item_shapes = (img.shape, target.shape)
        for stages, batched in ((self._item_stages, False), (self._batch_stages, True)):
            if batched:
                img, target = tf.expand_dims(img, 0), tf.expand_dims(target, 0)
            for stage in stages:
                try:
                    img, target = stage.probe(img, target)
                except Exception as exc:
                    names = ", ".join(getattr(fn, "__name__", repr(fn)) for fn in stage.fns)
                    raise ShapeError(f"transform {names} failed on sample 0 of the dataset "
                                     f"({type(exc).__name__}: {exc}); it must take (img, target) "
                                     f"and return (img, target)") from exc

    def _indices(self, epoch_seed):
        n = len(self.dataset)
        if not self.shuffle:
            return tf.data.Dataset.range(n)
        if self.shuffle_buffer_size:
            return buffered_shuffle(n, self.shuffle_buffer_size,
                                    tf.random.experimental.stateless_fold_in(epoch_seed, 2))
        order = tf.random.experimental.stateless_shuffle(tf.range(n, dtype=tf.int64), seed=epoch_seed)
        return tf.data.Dataset.from_tensor_slices(order)

    def _slice(self, i):
        """``(img, target)`` from the in-memory arrays (``i``: one index or a batch of them)."""
        data, targets = self._tensors
        return tf.gather(data, i), tf.gather(targets, i)

    def _load_item(self, i):
        """``(img, target)`` from ``dataset[i]`` in Python, for datasets not held in arrays."""
        dtypes = [d.as_numpy_dtype for d in self._item_dtypes]

        def get(i):
            return tuple(np.asarray(v, dtype) for v, dtype in zip(self.dataset[int(i)], dtypes))

        img, target = tf.numpy_function(get, [i], self._item_dtypes, stateful=True)
        img.set_shape(self._item_shapes[0])
        target.set_shape(self._item_shapes[1])
        return img, target

    def _map(self, dataset, stages, seed, load, finish=_identity):
        """Map ``(i, payload)`` to ``finish(stages(load(payload)))``; the i-th element (image or
        batch) gets the seed fold_in(seed, i). Loading and finishing are fused into the maps.
        Only in-graph work runs in parallel: NumPy holds the GIL anyway, and a Python dataset's
        ``__getitem__`` is called from one thread, in order, as a plain loop would."""
        in_python = load == self._load_item
        if not stages:
            return dataset.map(lambda i, payload: finish(load(payload)),
                               num_parallel_calls=None if in_python else self.num_parallel_calls)
        for k, stage in enumerate(stages):
            def fn(i, payload, stage=stage, first=k == 0, last=k == len(stages) - 1):
                element = stage(*(load(payload) if first else payload),
                                tf.random.experimental.stateless_fold_in(seed, i))
                return finish(element) if last else (i, element)

            parallel = stage.graph and not (k == 0 and in_python)
            dataset = dataset.map(fn, num_parallel_calls=self.num_parallel_calls if parallel else None)
        return dataset

    def _epoch_dataset(self, epoch):
        """The batches of epoch ``epoch`` (an int, or an int64 tensor inside ``flat_map``)."""
        epoch_seed = tf.stack([tf.constant(self.seed, tf.int64), tf.cast(epoch, tf.int64)])
        item_seed, batch_seed = (tf.random.experimental.stateless_fold_in(epoch_seed, k) for k in (0, 1))
        source = self._indices(epoch_seed)
        load = self._load_item if self._tensors is None else self._slice
        if self._item_stages or self._tensors is None:
            dataset = self._map(source.enumerate(), self._item_stages, item_seed, load)
            dataset, load = dataset.batch(self.batch_size, drop_remainder=self.drop_last), _identity
        else:  # no per-image work: slice whole batches out of memory at once
            dataset = source.batch(self.batch_size, drop_remainder=self.drop_last)
        return self._map(dataset.enumerate(), self._batch_stages, batch_seed, load, finish=self._cast)

    def _cast(self, batch):
        if self.output_types is None:
            return batch
        return tuple(tf.cast(v, dtype) for v, dtype in zip(batch, self.output_types))

    def _prefetched(self, dataset):
        return dataset.prefetch(self.prefetch) if self.prefetch else dataset

    def as_tf_dataset(self, epoch=None):
        """The loader as a ``tf.data.Dataset`` of ``(X_batch, y_batch)``, for Keras ``fit`` /
        ``evaluate``, custom loops and ``strategy.experimental_distribute_dataset``.

        Without ``epoch``, every iteration of the dataset is one epoch of the loader, as
        ``tf.data``'s ``shuffle(reshuffle_each_iteration=True)``: when an iteration draws its
        first batch it takes the loader's ``epoch`` as its number (its order and augmentation
        seeds, the same batches ``for batch in loader`` gives for that epoch) and advances
        ``epoch`` by one. Setting ``loader.epoch = k`` resumes at epoch k on both paths. Its
        cardinality is ``len(loader)``. (Keras under a distribution strategy draws one batch
        before training to build the model: that iteration takes an epoch number too.)

        With ``epoch=k``: the batches of epoch k alone, the same on every iteration.
        """
        if epoch is not None:
            return self._prefetched(self._epoch_dataset(epoch))
        counter = self._epoch
        start = tf.data.Dataset.range(1).map(lambda _: counter.assign_add(1) - 1)
        batches = start.flat_map(self._epoch_dataset)
        return self._prefetched(batches.apply(tf.data.experimental.assert_cardinality(len(self))))
