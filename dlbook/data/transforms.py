"""The 1.10.5 augmentation as the book means it, in TensorFlow ops and as a NumPy reference."""
import numpy as np
import tensorflow as tf

from dlbook.compat import tl

CROP = 24  # the book trains on 24x24 crops of the 32x32 CIFAR-10 images, its model takes 24x24


def in_graph(fn):
    """Mark ``fn(img, target[, seed])`` as written in TF ops: the Dataloader runs it in-graph."""
    fn.in_graph = True
    return fn


def random_crop_flip(images, size=CROP, seed=None):
    """A random ``size`` x ``size`` crop and a random left-right flip of each image.

    Every offset 0..H-size is equally likely, the flip has probability 1/2. A batch draws per
    image and crops and flips in two gathers.
    """
    # errata: random-crop-offsets (TL's random crop never takes the last offset)
    images = tf.convert_to_tensor(images)
    single = images.shape.rank == 3
    shape = tf.shape(images)
    n = 1 if single else shape[0]
    # static sizes when known (fewer ops in the tf.data graph), else dynamic
    height, width = (images.shape[i] if images.shape[i] is not None else shape[i] for i in (-3, -2))
    draws = tf.random.uniform([n, 3]) if seed is None else tf.random.stateless_uniform([n, 3], seed=seed)
    top = tf.cast(draws[:, 0] * tf.cast(height - size + 1, tf.float32), tf.int32)
    left = tf.cast(draws[:, 1] * tf.cast(width - size + 1, tf.float32), tf.int32)
    flip = draws[:, 2] < 0.5
    if single:
        crop = tf.slice(images, tf.stack([top[0], left[0], 0]), [size, size, -1])
        return tf.where(flip[0], tf.reverse(crop, [1]), crop)
    steps = tf.range(size)
    rows = top[:, tf.newaxis] + steps
    # a flipped crop reads its columns right to left
    cols = left[:, tf.newaxis] + tf.where(flip[:, tf.newaxis], size - 1 - steps, steps)
    out = tf.gather(images, rows, axis=1, batch_dims=1)
    return tf.gather(out, cols, axis=2, batch_dims=1)


def central_crop(images, size=CROP):
    """The central ``size`` x ``size`` crop (offset floor((H - size) / 2), as tl.prepro.crop)."""
    images = tf.convert_to_tensor(images)
    height, width = images.shape[-3], images.shape[-2]
    top, left = (height - size) // 2, (width - size) // 2
    return images[..., top:top + size, left:left + size, :]


def standardize(images):
    """Per-image standardization: (x - mean) / max(std, 1/sqrt(n)) over each image's n values."""
    # errata: samplewise-norm
    return tf.image.per_image_standardization(images)


@in_graph
def train_transform(img, target, seed=None):
    """The book's ``_fn_train`` as its comments describe it, in TF ops: random crop, random flip,
    standardization."""
    return standardize(random_crop_flip(img, seed=seed)), target


@in_graph
def test_transform(img, target):
    """The test images' transform (not printed in the book) in TF ops: central crop, standardization."""
    return standardize(central_crop(img)), target


def numpy_standardize(img):
    """NumPy reference of :func:`standardize` for one image (float32)."""
    img = np.asarray(img, dtype=np.float32)
    std = max(float(img.std()), img.size ** -0.5)  # a Python float: the division stays float32
    return ((img - img.mean()) / std).astype(np.float32)


def numpy_train_transform(img, target, seed=None):
    """The book's ``_fn_train`` corrected, in NumPy: random crop, random flip, standardization.

    Draws from ``np.random`` unless given a ``seed`` (any non-negative ints, like the Dataloader's
    per-image seeds), which makes the draw repeatable.
    """
    entropy = np.random.randint(2**31) if seed is None else np.asarray(seed, np.int64) % 2**32
    rng = np.random.default_rng(entropy)
    height, width = img.shape[0], img.shape[1]
    top, left = rng.integers(0, height - CROP + 1), rng.integers(0, width - CROP + 1)
    img = img[top:top + CROP, left:left + CROP]
    if rng.uniform() < 0.5:
        img = img[:, ::-1]
    return numpy_standardize(img), np.reshape(target, ())


def numpy_test_transform(img, target):
    """NumPy reference of :func:`test_transform`: central crop, standardization."""
    top, left = (img.shape[0] - CROP) // 2, (img.shape[1] - CROP) // 2
    img = img[top:top + CROP, left:left + CROP]
    return numpy_standardize(img), np.reshape(target, ())


def book_fn_train(img, target):
    """The listing's ``_fn_train`` exactly as printed (a central crop, no standardization: see errata)."""
    img = tl.prepro.crop(img, 24, 24, False)  # errata: crop-random
    img = tl.prepro.flip_axis(img, is_random=True)
    img = tl.prepro.samplewise_norm(img)  # errata: samplewise-norm
    target = np.reshape(target, ())
    return img, target
