"""The book's Dataset / Dataloader API (dlbook.data.dataset) and the 1.10.5 augmentation
(dlbook.data.transforms), against NumPy / TensorLayer / tf.image oracles. Tiny arrays only."""
import numpy as np
import pytest

from dlbook.compat import tl
from dlbook.data import CIFAR10, MNIST, Dataloader, Dataset
from dlbook.data.cifar10 import write_cifar10_pickle
from dlbook.data.dataset import ArrayDataset
from dlbook.data.paths import REPO_TINY_DIR
from dlbook.data import transforms
from dlbook.data.transforms import (CROP, central_crop, numpy_standardize, numpy_test_transform,
                                    numpy_train_transform, random_crop_flip, standardize, train_transform)
from dlbook.errors import DataError, ShapeError, UsageError
import tensorflow as tf

# fewer than 5 CIFAR-10 training batches is expected here (tiny files, ../shared/data)
pytestmark = pytest.mark.filterwarnings("ignore:CIFAR-10.*training batches:UserWarning")


def _images(n, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, (n, 32, 32, 3)).astype(np.float32)


def _index_dataset(n):
    """Images whose targets are their own index, to check which samples an epoch yields."""
    return ArrayDataset(_images(n), np.arange(n, dtype=np.int32))


def _window_of(img, got, standardized=True):
    """(top, left, flipped) of the 24x24 window of ``img`` that ``got`` is (after per-image
    standardization when ``standardized``; to 1e-5, float32 sums), or None when it is none of the
    9 x 9 x 2 a random crop and flip may give."""
    for top in range(img.shape[0] - CROP + 1):
        for left in range(img.shape[1] - CROP + 1):
            for flipped in (False, True):
                crop = img[top:top + CROP, left:left + CROP]
                crop = crop[:, ::-1] if flipped else crop
                if (np.allclose(got, numpy_standardize(crop), atol=1e-5) if standardized
                        else np.array_equal(got, crop)):
                    return top, left, flipped
    return None


# --- the augmentation -----------------------------------------------------------------------

def test_random_crop_flip_gives_each_image_its_own_window_and_flip():
    images = _images(64)
    crops = random_crop_flip(images, seed=tf.constant([3, 4])).numpy()
    found = [_window_of(img, crop, standardized=False) for img, crop in zip(images, crops)]
    assert None not in found
    # per image draws, not one draw per batch
    assert len({(t, l) for t, l, _ in found}) > 20
    assert 10 < sum(f for _, _, f in found) < 54


def test_random_crop_offsets_cover_0_to_8_and_flip_half_the_time():
    img = np.arange(32 * 32 * 3, dtype=np.float32).reshape(32, 32, 3)  # every window distinct
    crops = random_crop_flip(np.repeat(img[None], 2000, 0), seed=tf.constant([1, 2])).numpy()
    tops = crops[:, 0, 0, 0] // (32 * 3)
    flipped = crops[:, 0, 0, 0] > crops[:, 0, -1, 0]
    lefts = np.where(flipped, crops[:, 0, -1, 0], crops[:, 0, 0, 0]) % (32 * 3) // 3
    # all 9 offsets, the last (8) included, each about 1/9 of 2000 = 222 (binomial sd ~14: 5 sd margin)
    for offsets in (tops, lefts):
        counts = np.bincount(offsets.astype(int), minlength=9)
        assert len(counts) == 9 and counts.min() > 150 and counts.max() < 300, counts
    assert abs(flipped.mean() - 0.5) < 0.05  # sd 0.011


def test_single_image_crops_cover_every_offset():
    img = np.arange(32 * 32 * 3, dtype=np.float32).reshape(32, 32, 3)
    crops = [random_crop_flip(img, seed=tf.constant([7, k])).numpy() for k in range(300)]
    windows = [_window_of(img, crop, standardized=False) for crop in crops]
    assert None not in windows
    assert {t for t, _, _ in windows} == set(range(9)) == {l for _, l, _ in windows}
    assert 0.35 < np.mean([f for _, _, f in windows]) < 0.65  # sd 0.03


def test_tl_prepro_random_crop_never_takes_the_last_offset():
    """errata random-crop-offsets: tl.prepro.crop(is_random=True) draws int(uniform(0, 8)): 0..7."""
    img = np.arange(32 * 32 * 3, dtype=np.float32).reshape(32, 32, 3)
    np.random.seed(0)
    tops = {int(tl.prepro.crop(img, 24, 24, is_random=True)[0, 0, 0]) // 96 for _ in range(500)}
    assert tops == set(range(8))


def test_standardize_matches_tf_image_and_numpy_reference():
    images = _images(4)
    images[3] = 7.0  # a flat image: std floored at 1/sqrt(n), result all zeros
    out = standardize(images).numpy()
    for img, got in zip(images, out):
        np.testing.assert_allclose(got, tf.image.per_image_standardization(img).numpy(), atol=1e-6)
        np.testing.assert_allclose(got, numpy_standardize(img), atol=1e-5)  # float32 sums
    np.testing.assert_allclose(out[:3].mean(axis=(1, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(out[:3].std(axis=(1, 2, 3)), 1, atol=1e-4)
    assert np.all(out[3] == 0)


def test_train_transform_is_crop_flip_then_standardization_per_image_or_batch():
    images = _images(8)
    batch, _ = train_transform(images, np.zeros(8), seed=tf.constant([5, 6]))
    single, _ = train_transform(images[0], 0, seed=tf.constant([5, 6]))
    for img, got in zip(list(images) + [images[0]], list(batch.numpy()) + [single.numpy()]):
        assert _window_of(img, got) is not None


def test_test_transform_is_tl_centre_crop_then_standardization():
    images = _images(3)
    out, target = transforms.test_transform(images, np.arange(3))
    for img, got in zip(images, out.numpy()):
        np.testing.assert_array_equal(central_crop(img).numpy(), tl.prepro.crop(img, 24, 24, is_random=False))
        np.testing.assert_allclose(got, numpy_test_transform(img, 0)[0], atol=1e-5)
    assert list(target) == [0, 1, 2]


def test_numpy_train_transform_draws_all_offsets_and_flips():
    img = _images(1)[0]  # random pixels: every window differs, even standardized
    outs = [numpy_train_transform(img, np.array([3]), seed=[9, k]) for k in range(100)]
    assert all(t.shape == () and t == 3 for _, t in outs)
    windows = [_window_of(img, out) for out, _ in outs]
    assert None not in windows
    assert {t for t, _, _ in windows} >= {0, 8} and {f for _, _, f in windows} == {False, True}
    again = numpy_train_transform(img, 3, seed=[9, 5])[0]
    np.testing.assert_array_equal(again, outs[5][0])  # a seed repeats its draw


def test_book_printed_calls_do_not_do_what_the_comments_say():
    """errata crop-random and samplewise-norm: the listing's tl.prepro calls, as printed."""
    img = _images(1)[0]
    np.random.seed(1)
    crops = [tl.prepro.crop(img, 24, 24, False) for _ in range(5)]
    assert all(np.array_equal(c, img[4:28, 4:28]) for c in crops)  # always the centre
    np.testing.assert_array_equal(tl.prepro.samplewise_norm(img.copy()), img)  # defaults: unchanged
    flagged = tl.prepro.samplewise_norm(img.copy(), samplewise_center=True, samplewise_std_normalization=True)
    np.testing.assert_allclose(flagged.mean(axis=2), 0, atol=1e-4)  # each pixel across its 3 channels
    assert abs(flagged.std() - 1) > 0.05 or not np.allclose(flagged, numpy_standardize(img), atol=1e-3)


# --- the Dataloader -------------------------------------------------------------------------

def test_dataloader_yields_every_sample_once_per_epoch_keeping_the_last_partial_batch():
    loader = Dataloader(_index_dataset(10), batch_size=4, shuffle=True, seed=0)
    assert len(loader) == 3
    epochs = []
    for _ in range(2):
        batches = list(loader)
        assert [int(y.shape[0]) for _, y in batches] == [4, 4, 2]
        assert all(x.shape[1:] == (32, 32, 3) for x, _ in batches)
        order = np.concatenate([y.numpy() for _, y in batches])
        assert sorted(order) == list(range(10))
        epochs.append(order)
    assert not np.array_equal(*epochs)  # reshuffled each epoch
    assert loader.epoch == 2


def test_epochs_continue_one_pipeline_and_a_broken_off_epoch_restarts():
    loader = Dataloader(_index_dataset(10), batch_size=4, shuffle=True, seed=5,
                        batch_transforms=[train_transform])

    def labels(batches):
        return np.concatenate([y.numpy() for _, y in batches]).tolist()

    def images(batches):
        return np.concatenate([x.numpy() for x, _ in batches])

    list(loader)
    assert labels(loader) == labels(loader.as_tf_dataset(1))  # epoch 1, from the running pipeline
    half = iter(loader)
    next(half)  # epoch 2 left after one batch
    assert loader.epoch == 2
    again = list(loader)
    assert labels(again) == labels(loader.as_tf_dataset(2))
    np.testing.assert_array_equal(images(again), images(loader.as_tf_dataset(2)))
    assert loader.epoch == 3


def test_dataloader_drop_last_no_shuffle_and_shuffle_buffer():
    loader = Dataloader(_index_dataset(10), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert np.concatenate([y.numpy() for _, y in loader]).tolist() == list(range(8))
    buffered = Dataloader(_index_dataset(10), batch_size=4, shuffle=True, shuffle_buffer_size=3, seed=0)
    orders = [np.concatenate([y.numpy() for _, y in buffered]).tolist() for _ in range(2)]
    assert all(sorted(order) == list(range(10)) for order in orders) and orders[0] != orders[1]


def _with_global_seed(seed, fn):
    """``fn()`` with TensorFlow's global seed set to ``seed``; the previous one put back."""
    from tensorflow.python.eager import context
    before = context.global_seed()
    tf.random.set_seed(seed)
    try:
        return fn()
    finally:
        tf.random.set_seed(before)


def test_buffered_shuffle_depends_on_the_loaders_seed_and_epoch_only():
    """dlbook's default global seed is 0 (set_seed), under which Dataset.shuffle with a tensor seed
    raised OperatorNotAllowedInGraphError; and a global seed must not change the loader's order."""
    def orders(seed=3, epoch=2, buffer_size=4):
        loader = Dataloader(_index_dataset(30), batch_size=8, shuffle=True, shuffle_buffer_size=buffer_size,
                            seed=seed)
        loader.epoch = epoch
        return [np.concatenate([y.numpy() for _, y in loader]).tolist() for _ in range(2)]

    reference = _with_global_seed(0, orders)
    assert _with_global_seed(5, orders) == reference == _with_global_seed(None, orders)
    assert all(sorted(order) == list(range(30)) for order in reference) and reference[0] != reference[1]
    assert _with_global_seed(0, lambda: orders(epoch=3))[0] == reference[1]
    assert _with_global_seed(0, lambda: orders(seed=4)) != reference
    for order in reference + _with_global_seed(0, lambda: orders(buffer_size=1)):
        # a buffer of k holds the next k indices: position p gives an index below p + k
        assert all(index < position + 4 for position, index in enumerate(order))
    assert _with_global_seed(0, lambda: orders(buffer_size=1)) == [list(range(30))] * 2


def test_buffered_shuffle_with_a_buffer_as_large_as_the_set_is_uniform():
    """Over 500 seeds, each of 5 indices comes first about 100 times (binomial sd 9)."""
    from dlbook.data.dataset import buffered_shuffle
    firsts = tf.data.Dataset.range(500).flat_map(
        lambda seed: buffered_shuffle(5, 5, tf.stack([seed, tf.constant(1, tf.int64)])).take(1))
    counts = np.bincount(list(firsts.as_numpy_iterator()), minlength=5)
    assert counts.sum() == 500 and np.all(np.abs(counts - 100) < 35), counts


def test_seek_gives_the_rest_of_an_epoch_as_the_uninterrupted_run_had_it():
    def make():
        return Dataloader(_index_dataset(20), batch_size=6, shuffle=True, seed=2,
                          batch_transforms=[train_transform])

    uninterrupted = make()
    uninterrupted.epoch = 3
    epoch_3, epoch_4 = _numpy_batches(uninterrupted), _numpy_batches(uninterrupted)
    resumed = make()
    resumed.seek(3, 2)
    assert _same_batches(_numpy_batches(resumed), epoch_3[2:]) and resumed.epoch == 4
    assert _same_batches(_numpy_batches(resumed), epoch_4)   # the next epoch is whole
    resumed.seek(3)
    assert _same_batches(_numpy_batches(resumed), epoch_3)
    resumed.seek(4, len(resumed))
    assert list(resumed) == [] and resumed.epoch == 5
    for bad in (-1, len(resumed) + 1, 1.5):
        with pytest.raises(UsageError, match="seek"):
            resumed.seek(0, bad)


def test_dataloader_is_repeatable_per_seed_and_epoch():
    def epoch_of(seed, epoch):
        loader = Dataloader(_index_dataset(20), batch_size=8, shuffle=True, seed=seed,
                            batch_transforms=[train_transform])
        loader.epoch = epoch
        return [(x.numpy(), y.numpy()) for x, y in loader]

    a, b, c = epoch_of(1, 3), epoch_of(1, 3), epoch_of(1, 4)
    assert all(np.array_equal(p[0], q[0]) and np.array_equal(p[1], q[1]) for p, q in zip(a, b))
    assert not all(np.array_equal(p[1], q[1]) for p, q in zip(a, c))


@pytest.mark.parametrize("where", ["transforms", "batch_transforms"])
def test_tf_transform_runs_in_graph_and_augments_each_image(where):
    data = _index_dataset(12)
    loader = Dataloader(data, batch_size=5, shuffle=True, seed=2, output_types=(np.float32, np.int32),
                        **{where: [train_transform]})
    graph = loader.as_tf_dataset()._as_serialized_graph().numpy()
    assert b"PyFunc" not in graph and b"EagerPyFunc" not in graph
    for x, y in loader:
        assert x.dtype == tf.float32 and y.dtype == tf.int32 and x.shape[1:] == (24, 24, 3)
        for img, got in zip(data.data[y.numpy()], x.numpy()):
            assert _window_of(img, got) is not None


def test_numpy_transform_runs_through_numpy_function_repeatably():
    data = _index_dataset(6)

    def first_batch():
        loader = Dataloader(data, transforms=[numpy_train_transform], batch_size=4, shuffle=True,
                            output_types=(np.float32, np.int32), seed=4)
        assert b"PyFunc" in loader.as_tf_dataset()._as_serialized_graph().numpy()
        return next(iter(loader))

    x, y = first_batch()
    assert x.shape == (4, 24, 24, 3) and y.dtype == tf.int32
    for img, got in zip(data.data[y.numpy()], x.numpy()):
        assert _window_of(img, got) is not None
    np.testing.assert_array_equal(first_batch()[0], x)  # per-image seeds reach the NumPy transform


def test_book_listing_fn_train_runs_unchanged():
    """The listing's _fn_train, with its tl.prepro calls exactly as printed, through the Dataloader."""
    from dlbook.data.transforms import book_fn_train as _fn_train

    data = _index_dataset(5)
    loader = Dataloader(data, transforms=[_fn_train], shuffle=True, batch_size=5,
                        output_types=(np.float32, np.int32))
    x, y = next(iter(loader))
    for img, got in zip(data.data[y.numpy()], x.numpy()):
        assert _window_of(img, got, standardized=False)[:2] == (4, 4)  # the centre, not standardized


def test_python_dataset_and_mixed_stages():
    class Squares(Dataset):
        def __getitem__(self, i):
            return np.full((2,), i, np.float32), np.int64(i)

        def __len__(self):
            return 7

    def double(img, target):  # NumPy
        return img * 2, target

    def plus_one(img, target):  # TF ops, marked in-graph
        return img + 1, target
    plus_one.in_graph = True

    loader = Dataloader(Squares(), transforms=[double, plus_one], batch_size=3)
    x = np.concatenate([x.numpy() for x, _ in loader])
    np.testing.assert_array_equal(x[:, 0], 2 * np.arange(7) + 1)


def test_dataloader_bad_arguments():
    data = _index_dataset(3)
    with pytest.raises(UsageError, match="batch_size"):
        Dataloader(data, batch_size=0)
    for bad in (0, -2, 2.5):
        with pytest.raises(UsageError, match="shuffle_buffer_size"):
            Dataloader(data, shuffle=True, shuffle_buffer_size=bad)
    with pytest.raises(DataError, match="empty"):
        Dataloader(ArrayDataset(np.zeros((0, 2)), np.zeros(0)))
    with pytest.raises(ShapeError, match="targets"):
        ArrayDataset(np.zeros((3, 2)), np.zeros(2))

    def broken(img):
        return img

    with pytest.raises(ShapeError, match="transform broken failed on sample 0"):
        Dataloader(data, transforms=[broken])


# --- the Dataloader in other TensorFlow code -----------------------------------------------

def _same_batches(a, b):
    return len(a) == len(b) and all(np.array_equal(p[0], q[0]) and np.array_equal(p[1], q[1])
                                    for p, q in zip(a, b))


def _numpy_batches(batches):
    return [(x.numpy(), y.numpy()) for x, y in batches]


def test_as_tf_dataset_iterations_are_the_loaders_epochs():
    def make():
        return Dataloader(_index_dataset(10), batch_size=4, shuffle=True, seed=7,
                          batch_transforms=[train_transform], output_types=(np.float32, np.int32))

    book = make()
    epochs = [_numpy_batches(book) for _ in range(3)]  # the book's loop: epochs 0, 1, 2
    loader = make()
    ds = loader.as_tf_dataset()
    assert isinstance(ds, tf.data.Dataset) and int(ds.cardinality()) == len(loader) == 3
    assert _same_batches(_numpy_batches(ds), epochs[0])
    assert _same_batches(_numpy_batches(ds), epochs[1])  # reshuffled and re-augmented, as epoch 1
    assert loader.epoch == 2
    assert _same_batches(_numpy_batches(loader), epochs[2])  # the book's loop carries on at epoch 2
    loader.epoch = 1  # resume
    assert _same_batches(_numpy_batches(ds), epochs[1]) and loader.epoch == 2
    assert _same_batches(_numpy_batches(loader.as_tf_dataset(0)), epochs[0])  # one fixed epoch
    assert loader.epoch == 2


def test_as_tf_dataset_of_a_python_dataset_reshuffles_each_epoch():
    class Squares(Dataset):
        def __init__(self):
            self.calls = []

        def __getitem__(self, i):
            self.calls.append(i)
            return np.full((2,), i * i, np.float32), np.int64(i)

        def __len__(self):
            return 9

    book = Dataloader(Squares(), batch_size=4, shuffle=True, seed=1)
    loader = Dataloader(Squares(), batch_size=4, shuffle=True, seed=1)
    ds = loader.as_tf_dataset()
    orders = []
    for _ in range(2):
        loader.dataset.calls.clear()
        got = _numpy_batches(ds)
        order = np.concatenate([y for _, y in got])
        assert loader.dataset.calls == order.tolist()  # in the epoch's order, one call at a time
        assert _same_batches(got, _numpy_batches(book))
        assert sorted(order) == list(range(9))
        np.testing.assert_array_equal(np.concatenate([x for x, _ in got])[:, 0], order ** 2)
        orders.append(order.tolist())
    assert orders[0] != orders[1]


def _keras_model(n_classes=10):
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((24, 24, 3)), keras.layers.Flatten(), keras.layers.Dense(n_classes)])
    model.compile(optimizer=keras.optimizers.SGD(0.01), metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def test_keras_fit_and_evaluate_take_the_dataloader():
    rng = np.random.default_rng(0)
    data = ArrayDataset(_images(40), rng.integers(0, 10, 40).astype(np.int32))

    def make():
        return Dataloader(data, batch_size=16, shuffle=True, seed=3, batch_transforms=[train_transform],
                          output_types=(np.float32, np.int32))

    train_dl, model = make(), _keras_model()
    with pytest.raises(ValueError, match=r"for Keras or tf.distribute use loader.as_tf_dataset\(\)"):
        model.fit(train_dl, epochs=1, verbose=0)  # the loader itself: Keras's error names the fix
    history = model.fit(train_dl.as_tf_dataset(), epochs=2, shuffle=False, verbose=0)
    assert len(history.history["loss"]) == 2 and train_dl.epoch == 2
    # the oracle: the same model trained batch by batch on the book's loop over the same loader
    book_dl, reference = make(), _keras_model()
    for _ in range(2):
        for X_batch, y_batch in book_dl:
            reference.train_on_batch(X_batch, y_batch)
    for got, want in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(got, want)

    test_dl = Dataloader(data, batch_size=16, batch_transforms=[transforms.test_transform])
    result = model.evaluate(test_dl.as_tf_dataset(), verbose=0, return_dict=True)
    logits = np.concatenate([model(x).numpy() for x, _ in test_dl]).astype(np.float64)
    log_p = logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)
    labels = data.targets
    np.testing.assert_allclose(result["loss"], -log_p[np.arange(40), labels].mean(), rtol=1e-5)
    assert result["accuracy"] == pytest.approx(np.mean(logits.argmax(1) == labels))


DISTRIBUTED = """
import json
import numpy as np
from dlbook import distribute
distribute.setup(cpu_devices=2)   # before TensorFlow initialises its devices
import keras
import tensorflow as tf
from dlbook.data.dataset import ArrayDataset, Dataloader
from dlbook.data.transforms import train_transform

strategy = distribute.get_strategy("mirrored")
rng = np.random.default_rng(0)
data = ArrayDataset(rng.uniform(0, 255, (40, 32, 32, 3)).astype(np.float32), np.arange(40, dtype=np.int32))
make = lambda: Dataloader(data, batch_size=16, shuffle=True, seed=3, batch_transforms=[train_transform],
                          output_types=(np.float32, np.int32))
loader, book = make(), make()
shards = strategy.experimental_distribute_dataset(loader.as_tf_dataset())
report = {"replicas": strategy.num_replicas_in_sync, "equal": [], "sizes": []}
for epoch in range(2):
    for (x, y), (bx, by) in zip(shards, list(book)):
        xs, ys = strategy.experimental_local_results(x), strategy.experimental_local_results(y)
        report["sizes"].append([int(v.shape[0]) for v in ys])
        report["equal"].append(bool(np.array_equal(np.concatenate(xs), bx)
                                    and np.array_equal(np.concatenate(ys), by)))
report["epoch"] = loader.epoch
with strategy.scope():
    model = keras.Sequential([keras.Input((24, 24, 3)), keras.layers.Flatten(), keras.layers.Dense(40)])
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
keras_dl = make()
report["keras_loss"] = model.fit(keras_dl.as_tf_dataset(), epochs=1, shuffle=False, verbose=0).history["loss"]
report["keras_epoch"] = keras_dl.epoch
print(json.dumps(report))
"""


def test_a_dataloader_distributes_over_two_logical_cpus():
    """strategy.experimental_distribute_dataset splits each of the loader's batches over 2 replicas
    (in a subprocess: logical devices are configured before TensorFlow initialises)."""
    import json
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", DISTRIBUTED], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["replicas"] == 2
    assert report["equal"] == [True] * 6  # 2 epochs of 3 batches, the book's loop's batches
    assert report["sizes"] == [[8, 8], [8, 8], [4, 4]] * 2
    assert report["epoch"] == 2
    assert len(report["keras_loss"]) == 1 and np.isfinite(report["keras_loss"][0])
    # Keras under a strategy draws one batch to build the model first: that iteration is epoch 0
    assert report["keras_epoch"] == 2


# --- the datasets ---------------------------------------------------------------------------

def _write_cifar(root, n_train=20, n_test=10):
    directory = root / "cifar10" / "cifar-10-batches-py"
    rng = np.random.default_rng(0)
    for name, n in (("data_batch_1", n_train), ("test_batch", n_test)):
        write_cifar10_pickle(directory / name, {"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                                                "labels": [int(v) for v in rng.integers(0, 10, n)]})
    write_cifar10_pickle(directory / "batches.meta", {"label_names": [f"c{i}" for i in range(10)]})
    return directory


def test_cifar10_dataset_with_the_book_call_shapes(tmp_path):
    _write_cifar(tmp_path)
    with pytest.warns(UserWarning, match="1 of 5 training batches"):
        train_ds = CIFAR10(train_or_test='train', shape=(-1, 32, 32, 3), path=tmp_path)
    test_ds = CIFAR10(train_or_test='test', shape=(-1, 32, 32, 3), path=tmp_path)
    assert (len(train_ds), len(test_ds)) == (20, 10)
    img, target = train_ds[0]
    assert img.shape == (32, 32, 3) and img.dtype == np.float32 and img.max() <= 255
    assert target.dtype == np.int32
    with pytest.raises(UsageError, match="'train' or 'test'"):
        CIFAR10(train_or_test='validation', path=tmp_path)


@pytest.mark.parametrize("damage", ["truncated", "corrupt"])
def test_cifar10_bad_batch_file_names_the_file(tmp_path, damage):
    directory = _write_cifar(tmp_path)
    batch = directory / "data_batch_1"
    raw = batch.read_bytes()
    batch.write_bytes(raw[:len(raw) // 2] if damage == "truncated" else b"\x00garbage" + raw[8:])
    with pytest.raises(DataError, match="data_batch_1"):
        CIFAR10(train_or_test='train', path=tmp_path)


def test_mnist_dataset_splits():
    if not (REPO_TINY_DIR / "mnist").is_dir():
        pytest.skip("tiny MNIST not generated yet (scripts/make_tiny_data.py)")
    train, val, test = (MNIST(split, shape=(-1, 28, 28, 1), path=REPO_TINY_DIR)
                        for split in ("train", "val", "test"))
    assert train[0][0].shape == (28, 28, 1) and len(train) == 5 * len(val) and len(test) > 0
    x, y = next(iter(Dataloader(val, batch_size=16)))
    assert x.shape == (16, 28, 28, 1) and y.dtype == tf.int32


def test_real_cifar10_test_set_through_the_loader(shared_data):
    """The real test batch (10,000 images, 1,000 per class) through the book's call shapes."""
    test_ds = CIFAR10(train_or_test='test', shape=(-1, 32, 32, 3), path=shared_data)
    assert len(test_ds) == 10_000 and np.bincount(test_ds.targets).tolist() == [1000] * 10
    test_dl = Dataloader(test_ds, batch_transforms=[transforms.test_transform], batch_size=4096)
    batches = list(test_dl)
    assert [int(y.shape[0]) for _, y in batches] == [4096, 4096, 1808]
    x = batches[-1][0].numpy()
    assert x.shape[1:] == (24, 24, 3)
    np.testing.assert_allclose(x.mean(axis=(1, 2, 3)), 0, atol=1e-4)
