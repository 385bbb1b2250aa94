"""MNIST / CIFAR-10 loaders: TensorLayer's return values, data-dir resolution, the tiny-subset
fallback, and one clear DataError for every kind of bad file."""
import gzip
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from dlbook.compat import tl
from dlbook.data import load_cifar10_dataset, load_mnist_dataset, resolve_data_dir
from dlbook.data import paths
from dlbook.data.cifar10 import load_cifar10_label_names, read_cifar10_batch, write_cifar10_pickle
from dlbook.data.mnist import IDX_IMAGES_MAGIC, read_idx, write_idx_gz
from dlbook.data.locate import find_dataset
from dlbook.data import locate
from dlbook.data.paths import REPO_TINY_DIR
from dlbook.errors import DataError, ShapeError

TINY_MNIST = REPO_TINY_DIR / "mnist"
TINY_CIFAR = REPO_TINY_DIR / "cifar10" / "cifar-10-batches-py"


def _tl_cifar_dir(tmp_path, batches_dir):
    """A data dir TensorLayer's CIFAR loader reads offline: batches + a placeholder archive
    (TL downloads unless cifar-10-python.tar.gz exists, and never reads it when it does)."""
    target = tmp_path / "cifar10" / "cifar-10-batches-py"
    shutil.copytree(batches_dir, target)
    (tmp_path / "cifar10" / "cifar-10-python.tar.gz").touch()
    return tmp_path


@pytest.fixture
def mnist_copy(tmp_path):
    """A writable copy of the tiny MNIST under tmp_path/mnist; returns tmp_path."""
    shutil.copytree(TINY_MNIST, tmp_path / "mnist")
    return tmp_path


# ---------------------------------------------------------------- data directory
def test_resolve_data_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv("DLBOOK_DATA_DIR", raising=False)
    assert resolve_data_dir() == resolve_data_dir(None) == Path("data")
    monkeypatch.setenv("DLBOOK_DATA_DIR", str(tmp_path / "env"))
    assert resolve_data_dir() == tmp_path / "env"
    assert resolve_data_dir(tmp_path / "arg") == tmp_path / "arg"


# ---------------------------------------------------------------- MNIST
def test_mnist_tiny_shapes_dtypes_and_split():
    X_train, y_train, X_val, y_val, X_test, y_test = load_mnist_dataset(path=REPO_TINY_DIR)
    assert X_train.shape == (2500, 784) and X_val.shape == (500, 784) and X_test.shape == (600, 784)
    assert X_train.dtype == X_val.dtype == X_test.dtype == np.float32
    assert y_train.dtype == y_val.dtype == y_test.dtype == np.int32
    assert X_train.min() == 0.0 and X_train.max() == 1.0  # /255: the brightest pixel is exactly 1
    assert set(np.unique(y_train)) == set(np.unique(y_test)) == set(range(10))
    images = read_idx(TINY_MNIST / "train-images-idx3-ubyte.gz", IDX_IMAGES_MAGIC)
    # the validation set is the LAST sixth of the training file, as TensorLayer's last 10,000 of 60,000
    np.testing.assert_array_equal(np.rint(X_val * 255).astype(np.uint8), images[-500:].reshape(500, 784))


def test_mnist_validation_size_and_shape_options():
    X_train, y_train, X_val, y_val, _, _ = load_mnist_dataset((-1, 28, 28, 1), REPO_TINY_DIR, validation_size=0)
    assert X_train.shape == (3000, 28, 28, 1) and X_val.shape == (0, 28, 28, 1) and y_val.shape == (0,)
    X_train, _, X_val, _, _, _ = load_mnist_dataset(path=REPO_TINY_DIR, validation_size=100)
    assert len(X_train) == 2900 and len(X_val) == 100
    with pytest.raises(ShapeError, match="validation_size=3000"):
        load_mnist_dataset(path=REPO_TINY_DIR, validation_size=3000)
    with pytest.raises(ShapeError, match=r"shape=\(-1, 30\)"):
        load_mnist_dataset((-1, 30), REPO_TINY_DIR)


def test_mnist_matches_tensorlayer_on_tiny(tmp_path):
    """TL's own loader, offline on the tiny files: same pixels (with /256) and labels, same order.
    (On 3,000 rows TL's fixed 10,000-row validation split leaves NO training rows: compare joined.)"""
    shutil.copytree(TINY_MNIST, tmp_path / "mnist")
    tl_out = tl.files.load_mnist_dataset(shape=(-1, 28, 28, 1), path=str(tmp_path))
    assert len(tl_out[0]) == 0 and len(tl_out[2]) == 3000  # errata: mnist-validation-split
    ours = load_mnist_dataset((-1, 28, 28, 1), tmp_path, pixel_divisor=256)
    for a, b in zip(ours, tl_out):
        assert a.dtype == b.dtype
    np.testing.assert_array_equal(np.concatenate([ours[0], ours[2]]), tl_out[2])
    np.testing.assert_array_equal(np.concatenate([ours[1], ours[3]]), tl_out[3])
    np.testing.assert_array_equal(ours[4], tl_out[4])
    np.testing.assert_array_equal(ours[5], tl_out[5])


@pytest.mark.realdata
def test_mnist_matches_tensorlayer_on_real_data(shared_data):
    """Real MNIST: with pixel_divisor=256 every array equals TensorLayer's, bit for bit."""
    tl_out = tl.files.load_mnist_dataset(shape=(-1, 784), path=str(shared_data))
    ours = load_mnist_dataset((-1, 784), shared_data, pixel_divisor=256)
    assert [len(a) for a in ours] == [50000, 50000, 10000, 10000, 10000, 10000]
    for a, b in zip(ours, tl_out):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


def test_mnist_reads_unpacked_idx_files(mnist_copy):
    for gz in (mnist_copy / "mnist").glob("*.gz"):
        gz.with_suffix("").write_bytes(gzip.decompress(gz.read_bytes()))
        gz.unlink()
    unpacked = load_mnist_dataset(path=mnist_copy)
    packed = load_mnist_dataset(path=REPO_TINY_DIR)
    for a, b in zip(unpacked, packed):
        np.testing.assert_array_equal(a, b)


def _idx(magic, dims, payload):
    return magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims) + payload


BAD_MNIST = {
    "empty": (b"", "empty or truncated"),
    "not gzip": (b"this is not gzip data at all", "not a readable gzip file"),
    "truncated gzip": (None, "not a readable gzip file"),
    "bad magic": (_idx(2049, (3,), b"\x00\x01\x02"), "magic number 2049, expected 2051"),
    "short data": (_idx(2051, (10, 28, 28), bytes(784 * 9)), "truncated"),
    "extra data": (_idx(2051, (1, 28, 28), bytes(784 + 5)), "corrupt"),
}


@pytest.mark.parametrize("case", BAD_MNIST)
def test_mnist_bad_image_file_is_named(mnist_copy, case):
    target = mnist_copy / "mnist" / "train-images-idx3-ubyte.gz"
    content, expected = BAD_MNIST[case]
    if content is None:  # the first half of a real gzip file
        content = target.read_bytes()[: target.stat().st_size // 2]
    elif case not in ("empty", "not gzip"):
        content = gzip.compress(content)
    target.write_bytes(content)
    with pytest.raises(DataError, match=expected) as info:
        load_mnist_dataset(path=mnist_copy)
    assert "train-images-idx3-ubyte.gz" in str(info.value)


def test_mnist_count_mismatch_and_bad_labels(mnist_copy):
    labels = mnist_copy / "mnist" / "t10k-labels-idx1-ubyte.gz"
    write_idx_gz(labels, np.zeros(599, np.uint8))
    with pytest.raises(DataError, match="600 images but .*t10k-labels-idx1-ubyte.gz has 599 labels"):
        load_mnist_dataset(path=mnist_copy)
    write_idx_gz(labels, np.full(600, 10, np.uint8))
    with pytest.raises(DataError, match="label 10"):
        load_mnist_dataset(path=mnist_copy)


def test_mnist_missing_files_error_names_files_and_fix(tmp_path):
    (tmp_path / "mnist").mkdir()
    write_idx_gz(tmp_path / "mnist" / "train-labels-idx1-ubyte.gz", np.zeros(3, np.uint8))
    with pytest.raises(DataError) as info:
        load_mnist_dataset(path=tmp_path)
    message = str(info.value)
    assert "train-images-idx3-ubyte.gz" in message and "t10k-labels-idx1-ubyte.gz" in message
    assert "train-labels-idx1-ubyte.gz," not in message  # present: not listed as missing
    assert "dlbook download mnist --data-dir" in message and "\n" not in message


# ---------------------------------------------------------------- CIFAR-10
def test_cifar_tiny_shapes_dtypes_and_names():
    X_train, y_train, X_test, y_test = load_cifar10_dataset(path=REPO_TINY_DIR)
    assert X_train.shape == (500, 32, 32, 3) and X_test.shape == (200, 32, 32, 3)
    assert X_train.dtype == X_test.dtype == np.float32 and y_train.dtype == y_test.dtype == np.int32
    assert X_train.min() >= 0 and X_train.max() <= 255 and X_train.max() > 1  # 0..255, not scaled
    assert np.bincount(y_test).tolist() == [20] * 10
    assert load_cifar10_label_names(REPO_TINY_DIR) == ["airplane", "automobile", "bird", "cat", "deer",
                                                       "dog", "frog", "horse", "ship", "truck"]


def test_cifar_layout_is_height_width_rgb(tmp_path):
    """Independent oracle: pixel (row, col) of channel c is data[c * 1024 + row * 32 + col]."""
    rng = np.random.default_rng(0)
    data = rng.integers(0, 256, size=(3, 3072), dtype=np.uint8)
    directory = tmp_path / "cifar10" / "cifar-10-batches-py"
    for name in ("data_batch_1", "test_batch"):
        write_cifar10_pickle(directory / name, {"data": data, "labels": [0, 1, 2]})
    with pytest.warns(UserWarning, match="1 of 5 training batches"):
        X_hwc, _, _, _ = load_cifar10_dataset((-1, 32, 32, 3), tmp_path)
        X_chw, _, _, _ = load_cifar10_dataset((-1, 3, 32, 32), tmp_path)
    for n, row, col, c in [(0, 0, 0, 0), (1, 5, 17, 1), (2, 31, 2, 2), (2, 3, 30, 0)]:
        assert X_hwc[n, row, col, c] == X_chw[n, c, row, col] == data[n, c * 1024 + row * 32 + col]
    assert X_hwc.flags.c_contiguous


@pytest.mark.parametrize("shape", [(-1, 32, 32, 3), (-1, 3, 32, 32), (-1, 3072)])
def test_cifar_matches_tensorlayer_on_tiny(tmp_path, shape):
    tl_out = tl.files.load_cifar10_dataset(shape=shape, path=str(_tl_cifar_dir(tmp_path, TINY_CIFAR)))
    ours = load_cifar10_dataset(shape, REPO_TINY_DIR)
    for a, b in zip(ours, tl_out):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)


@pytest.mark.realdata
def test_cifar_reads_real_batches_and_matches_tensorlayer(shared_data, tmp_path):
    """The shared batches are Python 3 re-pickles (bytes keys) that TL cannot read: our loader
    reads them; re-written in the official format, TL and ours agree on the real pixels."""
    real = shared_data / "cifar10" / "cifar-10-batches-py"
    data, labels = read_cifar10_batch(real / "data_batch_1")
    assert data.shape == (10000, 3072) and labels.shape == (10000,)
    assert load_cifar10_label_names(shared_data)[0] == "airplane"
    official = tmp_path / "official"
    for i in range(1, 6):
        rows = slice(200 * i, 200 * i + 200)
        write_cifar10_pickle(official / f"data_batch_{i}", {"data": data[rows], "labels": labels[rows].tolist()})
    test_data, test_labels = read_cifar10_batch(real / "test_batch")
    write_cifar10_pickle(official / "test_batch", {"data": test_data[:300], "labels": test_labels[:300].tolist()})
    tl_out = tl.files.load_cifar10_dataset(shape=(-1, 32, 32, 3), path=str(_tl_cifar_dir(tmp_path / "tl", official)))
    ours = load_cifar10_dataset((-1, 32, 32, 3), tmp_path / "tl")
    for a, b in zip(ours, tl_out):
        np.testing.assert_array_equal(a, b)


def _garbage_pickle():
    return pickle.dumps([1, 2, 3], protocol=2)


BAD_CIFAR = {
    "empty": (b"", "empty or truncated"),
    "garbage": (b"\x00\xffnot a pickle", "not a readable pickle"),
    "truncated": (None, "empty or truncated|not a readable pickle"),
    "not a dict": (_garbage_pickle(), "holds a list"),
    "no data key": (pickle.dumps({b"labels": [1]}), "not a CIFAR-10 batch"),
    "wrong width": (pickle.dumps({"data": np.zeros((2, 100), np.uint8), "labels": [0, 1]}), "expected uint8"),
    "count mismatch": (pickle.dumps({"data": np.zeros((2, 3072), np.uint8), "labels": [0]}),
                       "2 images but 1 labels"),
    "bad label": (pickle.dumps({"data": np.zeros((1, 3072), np.uint8), "labels": [12]}), "outside 0..9"),
}


@pytest.mark.parametrize("case", BAD_CIFAR)
def test_cifar_bad_batch_is_named(tmp_path, case):
    directory = tmp_path / "cifar10" / "cifar-10-batches-py"
    shutil.copytree(TINY_CIFAR, directory)
    content, expected = BAD_CIFAR[case]
    if content is None:
        content = (directory / "test_batch").read_bytes()[:5000]
    (directory / "test_batch").write_bytes(content)
    with pytest.raises(DataError, match=expected) as info:
        load_cifar10_dataset(path=tmp_path)
    assert "test_batch" in str(info.value)


def test_cifar_missing_batches(tmp_path):
    directory = tmp_path / "cifar10" / "cifar-10-batches-py"
    directory.mkdir(parents=True)
    shutil.copy(TINY_CIFAR / "test_batch", directory)
    with pytest.raises(DataError, match="data_batch_1 .*cifar10 --data-dir"):
        load_cifar10_dataset(path=tmp_path)
    shutil.copy(TINY_CIFAR / "data_batch_3", directory)
    with pytest.warns(UserWarning, match=r"1 of 5 training batches .*data_batch_1, data_batch_2, data_batch_4"):
        X_train, y_train, _, _ = load_cifar10_dataset(path=tmp_path)
    assert len(X_train) == len(y_train) == 100
    with pytest.raises(DataError, match="batches.meta"):
        load_cifar10_label_names(tmp_path)


# ---------------------------------------------------------------- find_dataset
@pytest.mark.parametrize("name, count", [("mnist", "3,000"), ("cifar10", "500")])
def test_find_dataset_falls_back_to_tiny_and_says_so(tmp_path, capsys, name, count):
    location = find_dataset(name, tmp_path / "empty")
    message = capsys.readouterr().out.strip()
    assert location.tiny and location.path == REPO_TINY_DIR and message == location.message
    assert "not found in" in message and f"({count} training images)" in message
    assert f"dlbook download {name} --data-dir" in message


def test_find_dataset_prefers_real_data_and_errors_without_any(mnist_copy, monkeypatch, tmp_path):
    location = find_dataset("mnist", mnist_copy, announce=False)
    assert not location.tiny and location.path == mnist_copy
    monkeypatch.setattr(paths, "REPO_TINY_DIR", tmp_path / "no-tiny-here")
    with pytest.raises(DataError, match="MNIST files not found"):
        find_dataset("mnist", tmp_path / "empty", announce=False)
    with pytest.raises(DataError, match="unknown dataset 'svhn'"):
        find_dataset("svhn", tmp_path)


def test_loaders_without_a_path_fall_back_to_the_tiny_data_and_say_so(tmp_path, monkeypatch, capsys):
    """As `dlbook run` does: no file of the dataset in the default data directory -> the tiny
    subset, and one line saying so (a given path, or some real files, keep their errors)."""
    from dlbook.data import CIFAR10, MNIST
    monkeypatch.setenv("DLBOOK_DATA_DIR", str(tmp_path))
    X_train, *_ = load_mnist_dataset()
    assert len(X_train) == 2500 and "Real MNIST not found" in capsys.readouterr().out
    assert len(MNIST("train")) == 2500
    X_train, _, X_test, _ = load_cifar10_dataset()
    assert (len(X_train), len(X_test)) == (500, 200)
    assert "using the tiny subset" in capsys.readouterr().out
    assert len(CIFAR10("test")) == 200
    with pytest.raises(DataError):
        load_mnist_dataset(path=tmp_path)                     # a path given: no stand-in
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / "train-images-idx3-ubyte.gz").write_bytes(b"")   # part of the real data
    with pytest.raises(DataError):
        load_mnist_dataset()
