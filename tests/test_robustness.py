"""The catalogue of bad inputs (docs/robustness.md): each one gives a one-line message naming the
thing and the fix, and no traceback unless --debug is given.

Most cases run the real command in-process through ``dlbook.cli.main`` (the same code path as the
``dlbook`` console script, without paying a TensorFlow import per case); the --debug cases also
run as real subprocesses. Every bad file is made in tmp_path from a copy of the shipped tiny data.
"""
import gzip
import io
import json
import pickle
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from dlbook.compat import tl
import tensorflow as tf

from dlbook import session
from dlbook.files.checkpoints import load_checkpoint, load_weights, save_weights
from dlbook.cli import main as dlbook
from dlbook.data import load_cifar10_dataset, load_mnist_dataset
from dlbook.data.mnist import write_idx_gz
from dlbook.data.paths import REPO_TINY_DIR
from dlbook.errors import CheckpointError, DataError, ShapeError, UsageError
from dlbook.metrics import accuracy
from dlbook.models import get_mlp_model, get_model_batchnorm
from dlbook.train import fit, predict

TINY_MNIST = REPO_TINY_DIR / "mnist"
TINY_CIFAR = REPO_TINY_DIR / "cifar10" / "cifar-10-batches-py"
MNIST_IMAGES = "train-images-idx3-ubyte.gz"
MNIST_FIX = "dlbook download mnist"
CIFAR_FIX = "dlbook download cifar10"


def run(capsys, *argv):
    """``dlbook *argv`` in-process: (exit code, stdout, stderr)."""
    code = dlbook(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(err, *needles):
    """stderr is exactly one 'dlbook: error: ...' line, no traceback, containing every needle."""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dlbook: error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def _idx(magic, dims, payload=b""):
    return magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims) + payload


# ---------------------------------------------------------------- bad MNIST files, `dlbook run 1.10.4`
def _mnist_empty(d):
    (d / MNIST_IMAGES).write_bytes(b"")


def _mnist_truncated_gzip(d):
    raw = (d / MNIST_IMAGES).read_bytes()
    (d / MNIST_IMAGES).write_bytes(raw[: len(raw) // 2])


def _mnist_not_gzip(d):
    (d / MNIST_IMAGES).write_bytes(b"<html>404 Not Found</html>")


def _mnist_bad_magic(d):  # the labels file saved under the images' name
    shutil.copy(d / "train-labels-idx1-ubyte.gz", d / MNIST_IMAGES)


def _mnist_short_data(d):
    (d / MNIST_IMAGES).write_bytes(gzip.compress(_idx(2051, (10, 28, 28), bytes(784 * 9))))


def _mnist_count_mismatch(d):
    write_idx_gz(d / "t10k-labels-idx1-ubyte.gz", np.zeros(599, np.uint8))


def _mnist_label_out_of_range(d):
    write_idx_gz(d / "t10k-labels-idx1-ubyte.gz", np.full(600, 12, np.uint8))


BAD_MNIST = {  # case: (how the file is spoiled, what the message must say)
    "empty file": (_mnist_empty, [MNIST_IMAGES, "empty or truncated (0 bytes)", MNIST_FIX]),
    "truncated gzip": (_mnist_truncated_gzip, [MNIST_IMAGES, "not a readable gzip file", MNIST_FIX]),
    "not gzip": (_mnist_not_gzip, [MNIST_IMAGES, "not a readable gzip file", MNIST_FIX]),
    "bad magic number": (_mnist_bad_magic, [MNIST_IMAGES, "magic number 2049, expected 2051", MNIST_FIX]),
    "truncated data": (_mnist_short_data, [MNIST_IMAGES, "header (10, 28, 28) says 7840", "truncated",
                                           MNIST_FIX]),
    "image/label count mismatch": (_mnist_count_mismatch, ["600 images but", "t10k-labels-idx1-ubyte.gz has 599",
                                                           "replace both files with a matching pair"]),
    "label out of range": (_mnist_label_out_of_range, ["t10k-labels-idx1-ubyte.gz has label 12 (> 9), "
                                                       "expected labels 0..9", MNIST_FIX]),
}


@pytest.mark.parametrize("case", BAD_MNIST)
def test_bad_mnist_file(tmp_path, capsys, case):
    shutil.copytree(TINY_MNIST, tmp_path / "data" / "mnist")
    spoil, needles = BAD_MNIST[case]
    spoil(tmp_path / "data" / "mnist")
    code, _, err = run(capsys, "run", "1.10.4", "--data-dir", str(tmp_path / "data"),
                       "--output-dir", str(tmp_path / "out"), "--epochs", "1")
    assert code == 1
    assert_one_line_error(err, *needles)
    assert not (tmp_path / "out").exists()  # stopped before anything was written


def test_missing_mnist_names_the_files_and_the_fix(tmp_path):
    # The CLI falls back to the tiny subset when the real files are absent (and says so:
    # tests/test_data_loaders.py); the loader called directly names what is missing.
    with pytest.raises(DataError) as info:
        load_mnist_dataset(path=tmp_path)
    message = str(info.value)
    for needle in ("MNIST files not found", MNIST_IMAGES, "t10k-labels-idx1-ubyte.gz",
                   f"{MNIST_FIX} --data-dir", "$DLBOOK_DATA_DIR"):
        assert needle in message
    assert "\n" not in message


# ---------------------------------------------------------------- bad CIFAR-10 files, `dlbook run 1.10.5`
BAD_CIFAR = {  # case: (file, content or None for "the first 5,000 bytes", what the message must say)
    "empty file": ("test_batch", b"", ["test_batch is empty or truncated", CIFAR_FIX]),
    "not a pickle": ("test_batch", b"\x00\xffGIF89a", ["test_batch is not a readable pickle", CIFAR_FIX]),
    "truncated pickle": ("test_batch", None, ["test_batch is not a readable pickle", "truncated", CIFAR_FIX]),
    "pickle of a list": ("test_batch", pickle.dumps([1, 2, 3]), ["holds a list, not a dict", CIFAR_FIX]),
    "wrong image size": ("test_batch", pickle.dumps({"data": np.zeros((2, 100), np.uint8), "labels": [0, 1]}),
                         ["has data uint8[2, 100], expected uint8[n, 3072]", CIFAR_FIX]),
    "image/label count mismatch": ("test_batch",
                                   pickle.dumps({"data": np.zeros((2, 3072), np.uint8), "labels": [0]}),
                                   ["test_batch has 2 images but 1 labels", CIFAR_FIX]),
    "label out of range": ("test_batch", pickle.dumps({"data": np.zeros((1, 3072), np.uint8), "labels": [12]}),
                           ["test_batch has labels outside 0..9 (found 12..12)", CIFAR_FIX]),
    "bad training batch": ("data_batch_2", b"garbage", ["data_batch_2 is not a readable pickle", CIFAR_FIX]),
}


@pytest.mark.parametrize("case", BAD_CIFAR)
def test_bad_cifar10_file(tmp_path, capsys, case):
    directory = tmp_path / "data" / "cifar10" / "cifar-10-batches-py"
    shutil.copytree(TINY_CIFAR, directory)
    name, content, needles = BAD_CIFAR[case]
    if content is None:
        content = (directory / name).read_bytes()[:5000]
    (directory / name).write_bytes(content)
    code, _, err = run(capsys, "run", "1.10.5", "--data-dir", str(tmp_path / "data"),
                       "--output-dir", str(tmp_path / "out"), "--epochs", "1")
    assert code == 1
    assert_one_line_error(err, *needles)


def test_missing_cifar10_names_the_files_and_the_fix(tmp_path):
    with pytest.raises(DataError) as info:
        load_cifar10_dataset(path=tmp_path)
    message = str(info.value)
    for needle in ("CIFAR-10 files not found", "data_batch_1", "test_batch", f"{CIFAR_FIX} --data-dir"):
        assert needle in message


# ---------------------------------------------------------------- arrays given to fit / test / predict
@pytest.fixture(scope="module")
def mlp_and_data():
    """The book's MLP and 64 tiny MNIST rows."""
    X, y, *_ = load_mnist_dataset(path=REPO_TINY_DIR)
    return get_mlp_model([None, 784]), X[:64], y[:64]


def _fit(model, X, y, **kw):
    options = {"batch_size": 32, "n_epoch": 1, **kw}
    return fit(model, train_op=tf.optimizers.Adam(1e-4), cost=tl.cost.cross_entropy, X_train=X, y_train=y,
               acc=accuracy, verbose=0, **options)


def test_wrong_image_shape_into_the_mlp_says_which_shape_is_expected(mlp_and_data):
    model, X, y = mlp_and_data
    for images in (X.reshape(-1, 28, 28), X.reshape(-1, 28, 28, 1)):
        with pytest.raises(ShapeError, match=r"X_train has shape \(64, 28, 28.*expects \(None, 784\).*reshape"):
            _fit(model, images, y)
    with pytest.raises(ShapeError, match=r"X has shape \(64, 28, 28\).*expects \(None, 784\)"):
        predict(model, X.reshape(-1, 28, 28))


def test_float64_images_are_cast_to_float32_with_one_warning(mlp_and_data):
    model, X, _ = mlp_and_data
    with pytest.warns(UserWarning, match="X is float64: cast to float32") as record:
        logits = predict(model, X.astype(np.float64))
    assert len([w for w in record if "float64" in str(w.message)]) == 1
    assert logits.dtype == np.float32
    np.testing.assert_array_equal(logits, predict(model, X))  # the cast is exact: X came from float32


def test_integer_images_are_refused_or_converted(mlp_and_data):
    model, X, y = mlp_and_data
    pixels = np.rint(X * 255).astype(np.uint8)  # raw MNIST bytes, not yet divided by 255
    try:
        history = _fit(model, pixels, y)
    except ShapeError as exc:  # either answer is fine; a raw TensorFlow error is not
        assert "X_train" in str(exc) and "uint8" in str(exc)
    else:
        assert np.isfinite(history["loss"][0])


def test_string_images_are_refused_naming_the_array(mlp_and_data):
    model, _, y = mlp_and_data
    with pytest.raises(ShapeError, match=r"X_train \(shape \(4, 784\), dtype <U1\) does not fit the model"):
        _fit(model, np.full((4, 784), "a"), y[:4])


@pytest.mark.parametrize("bad_label", [10, -1])
def test_labels_out_of_range(mlp_and_data, bad_label):
    model, X, y = mlp_and_data
    labels = y.copy()
    labels[5] = bad_label
    with pytest.raises(DataError, match=rf"y_train has labels from {min(bad_label, 0)} to {max(bad_label, 9)}, "
                                        r"but the model outputs 10 classes: labels must be integers 0..9"):
        _fit(model, X, labels)


def test_float_labels_are_refused_or_converted(mlp_and_data):
    model, X, y = mlp_and_data
    try:
        history = _fit(model, X, y.astype(np.float32))
    except (ShapeError, DataError) as exc:  # either answer is fine; a raw TensorFlow error is not
        assert "y_train" in str(exc)
    else:
        assert np.isfinite(history["loss"][0])


def test_x_and_y_of_different_lengths(mlp_and_data):
    model, X, y = mlp_and_data
    with pytest.raises(ShapeError, match="X_train has 64 examples but y_train has 50: give one label per example"):
        _fit(model, X, y[:50])


def test_empty_training_set(mlp_and_data):
    model, X, y = mlp_and_data
    with pytest.raises(DataError, match=r"X_train is empty \(shape \(0, 784\)\): give at least one example"):
        _fit(model, X[:0], y[:0])


def test_batch_size_and_epochs_must_be_positive_in_the_api(mlp_and_data):
    model, X, y = mlp_and_data
    for option, value in (("batch_size", 0), ("batch_size", -1), ("n_epoch", 0)):
        with pytest.raises(UsageError, match=f"{option} must be a positive integer, got {value}"):
            _fit(model, X, y, **{option: value})


# ---------------------------------------------------------------- weights and checkpoints
@pytest.fixture(scope="module")
def weights_files(tmp_path_factory):
    """model.h5 files of the MLP (1.10.4) and of the BatchNorm CNN (1.10.5), and the models."""
    directory = tmp_path_factory.mktemp("weights")
    mlp, cnn = get_mlp_model([None, 784]), get_model_batchnorm([None, 24, 24, 3])
    save_weights(mlp, directory / "mlp.h5")
    save_weights(cnn, directory / "cnn.h5")
    return directory, mlp, cnn


def test_weights_of_another_dlbook_model_are_refused_and_nothing_is_assigned(weights_files):
    directory, mlp, cnn = weights_files
    before = [w.numpy().copy() for w in mlp.all_weights]
    with pytest.raises(CheckpointError) as info:
        load_weights(mlp, directory / "cnn.h5")  # the CNN's weights into the MLP
    message = str(info.value)
    assert "cnn.h5 was saved from another architecture" in message
    assert "the model's dense_" in message and "(784, 800)" in message and "(5, 5, 3, 64)" in message
    assert all(np.array_equal(a, w.numpy()) for a, w in zip(before, mlp.all_weights))
    with pytest.raises(CheckpointError, match=r"mlp.h5 was saved from another architecture .*conv2d_"):
        load_weights(cnn, directory / "mlp.h5")


def test_weights_of_another_architecture_same_family(weights_files, tmp_path):
    directory, mlp, _ = weights_files
    save_weights(get_mlp_model([None, 784], n_units=32), tmp_path / "narrow.h5")
    with pytest.raises(CheckpointError, match=r"narrow.h5 was saved from another architecture .*"
                                              r"\(784, 800\).*\(784, 32\)"):
        load_weights(mlp, tmp_path / "narrow.h5")


@pytest.mark.parametrize("case", ["not HDF5", "truncated", "missing"])
def test_unreadable_weights_file(weights_files, tmp_path, case):
    directory, mlp, _ = weights_files
    path = tmp_path / "model.h5"
    if case == "not HDF5":
        path.write_text("these are not weights")
    elif case == "truncated":
        raw = (directory / "mlp.h5").read_bytes()
        path.write_bytes(raw[: len(raw) // 2])
    expected = "weights file not found" if case == "missing" else "as HDF5 (truncated or not a weights file)"
    with pytest.raises(CheckpointError, match=re.escape(expected)) as info:
        load_weights(mlp, path)
    assert str(path) in str(info.value)


CNN_OPTIONS = {"program": "dlbook run 1.10.5", "seed": 0, "batch_size": 32, "learning_rate": 0.0001,
               "augment": "tf", "strategy": "default"}  # what `dlbook run 1.10.5` records on the tiny data


def _saved_run(directory, model, **options):
    """A run directory holding one snapshot of ``model`` (and a new Adam), as a trainer leaves it."""
    run = session.open(directory, options=options, command="dlbook run ...")
    run.restore(model, tf.optimizers.Adam(1e-4))
    run.save()
    return directory


def test_resume_1_10_5_from_the_run_of_another_section_or_model(weights_files, tmp_path, capsys):
    _, mlp, _ = weights_files
    _saved_run(tmp_path / "a", mlp, **{**CNN_OPTIONS, "program": "dlbook run 1.10.4"})
    code, _, err = run(capsys, "run", "1.10.5", "--output-dir", str(tmp_path / "a"), "--resume", "--epochs", "1")
    assert code == 2
    assert_one_line_error(err, f"cannot --resume from {tmp_path / 'a'}: it was trained with other options",
                          "program: saved 'dlbook run 1.10.4', now 'dlbook run 1.10.5'")
    # the same options, but the MLP's weights and optimizer: refused before anything is assigned
    _saved_run(tmp_path / "b", mlp, **CNN_OPTIONS)
    code, _, err = run(capsys, "run", "1.10.5", "--output-dir", str(tmp_path / "b"), "--resume", "--epochs", "1")
    assert code == 1
    assert_one_line_error(err, "checkpoint.h5 holds the state of an optimizer",
                          "Resume with the same optimizer and model, or use another checkpoint directory")


def test_a_weights_file_or_a_truncated_file_as_checkpoint(weights_files, tmp_path, capsys):
    directory, _, cnn = weights_files
    out = _saved_run(tmp_path / "out", get_model_batchnorm([None, 24, 24, 3]), **CNN_OPTIONS)
    checkpoint = (out / "checkpoint.h5").resolve()  # the file inside the snapshot in force
    shutil.copy(directory / "cnn.h5", checkpoint)  # a model.h5 where the checkpoint should be
    with pytest.raises(CheckpointError, match="checkpoint.h5 is not a dlbook training checkpoint"):
        load_checkpoint(out, cnn, tf.optimizers.Adam(1e-4))
    checkpoint.write_bytes(checkpoint.read_bytes()[:1000])
    code, _, err = run(capsys, "run", "1.10.5", "--output-dir", str(out), "--resume", "--epochs", "1")
    assert code == 1
    assert_one_line_error(err, "cannot read", "checkpoint.h5 as HDF5 (truncated or not a weights file)")


# ---------------------------------------------------------------- the chatbot
CHATBOT_OPTIONS = ["--n-layer", "1", "--n-units", "8", "--emb-dim", "8", "--max-pairs", "8", "--sample-every", "0",
                   "--query-len", "5", "--decoder-seq-length", "5", "--epochs", "1"]


@pytest.fixture(scope="module")
def chatbot_dir(tmp_path_factory):
    """A (tiny, barely trained) chatbot folder written by `dlbook run 1.10.6` into a new directory."""
    directory = tmp_path_factory.mktemp("bot") / "not" / "yet"
    assert dlbook(["run", "1.10.6", "--output-dir", str(directory)] + CHATBOT_OPTIONS) == 0
    return directory


def test_empty_chatbot_query(chatbot_dir, capsys, monkeypatch):
    code, out, err = run(capsys, "chat", "--checkpoint", str(chatbot_dir), "--query", " ?! ")
    assert code == 2 and out == ""
    assert_one_line_error(err, "empty query: type a few words (punctuation alone is ignored)")
    # In a conversation an empty line is answered with the same hint, and the chat goes on.
    monkeypatch.setattr(sys, "stdin", io.StringIO("\nhello\n"))
    code, out, err = run(capsys, "chat", "--checkpoint", str(chatbot_dir), "--mode", "greedy")
    assert code == 0 and err == ""
    assert "(empty query: type a few words" in out and out.rstrip().splitlines()[-1].startswith("> ")


def test_chat_with_a_folder_that_holds_no_chatbot(tmp_path, capsys):
    code, _, err = run(capsys, "chat", "--checkpoint", str(tmp_path))
    assert code == 1
    assert_one_line_error(err, f"no trained chatbot in {tmp_path}: config.json not found",
                          f"train one with `dlbook run 1.10.6 --output-dir {tmp_path}`")


def test_chat_with_the_weights_file_instead_of_the_folder(chatbot_dir, tmp_path, capsys):
    bot = tmp_path / "run"
    shutil.copytree(chatbot_dir, bot)
    code, _, err = run(capsys, "chat", "--checkpoint", str(bot / "model.h5"), "--query", "hi")
    assert code == 1
    assert_one_line_error(err, f"{bot / 'model.h5'} is a file, not a chatbot folder",
                          f"the folder that holds it, {bot}, has one")
    assert "--output-dir" not in err


def test_chat_with_a_config_field_of_the_wrong_kind(chatbot_dir, tmp_path, capsys):
    bot = tmp_path / "bot"
    shutil.copytree(chatbot_dir, bot)
    config = json.loads((bot / "config.json").read_text())
    (bot / "config.json").write_text(json.dumps({**config, "n_units": "8"}))
    code, _, err = run(capsys, "chat", "--checkpoint", str(bot), "--query", "hi")
    assert code == 1
    assert_one_line_error(err, f"{bot / 'config.json'}: field 'n_units' must be an integer from 1 to 65,536, "
                               f'found "8" (str)')


def test_chat_with_a_bad_vocabulary(chatbot_dir, tmp_path, capsys):
    bot = tmp_path / "bot"
    shutil.copytree(chatbot_dir, bot)
    vocab = json.loads((bot / "vocab.json").read_text())
    (bot / "vocab.json").write_text(json.dumps({**vocab, "idx2w": vocab["idx2w"][:-1] + [None]}))
    code, _, err = run(capsys, "chat", "--checkpoint", str(bot), "--query", "hi")
    assert code == 1
    assert_one_line_error(err, f"vocabulary file {bot / 'vocab.json'}: field 'idx2w' must hold non-empty strings, "
                               f"found None (NoneType) at index {len(vocab['idx2w']) - 1}")


def test_chat_with_the_weights_of_another_model(chatbot_dir, weights_files, tmp_path, capsys):
    directory, _, _ = weights_files
    bot = tmp_path / "bot"
    shutil.copytree(chatbot_dir, bot)
    shutil.copy(directory / "mlp.h5", bot / "model.h5")  # the MLP's weights in the chatbot's folder
    code, _, err = run(capsys, "chat", "--checkpoint", str(bot), "--query", "hi")
    assert code == 1
    assert_one_line_error(err, "model.h5 was saved from another architecture", "(784, 800)")


def test_chat_with_a_corrupt_config(chatbot_dir, tmp_path, capsys):
    bot = tmp_path / "bot"
    shutil.copytree(chatbot_dir, bot)
    (bot / "config.json").write_text("{not json")
    code, _, err = run(capsys, "chat", "--checkpoint", str(bot), "--query", "hi")
    assert code == 1
    assert_one_line_error(err, f"{bot / 'config.json'} is not valid JSON")


def test_chatbot_corpus_without_tabs(tmp_path, capsys):
    corpus = tmp_path / "pairs.tsv"
    corpus.write_text("hello there\nhow are you\n")
    code, _, err = run(capsys, "run", "1.10.6", "--corpus", str(corpus), "--output-dir", str(tmp_path / "out"))
    assert code == 1
    assert_one_line_error(err, f"{corpus}:1: expected 'query<TAB>reply', got 'hello there'")


def test_chatbot_corpus_that_is_not_utf8(tmp_path, capsys):
    corpus = tmp_path / "pairs.tsv"
    corpus.write_bytes("caf\xe9\tbonjour\n".encode("latin-1"))  # Latin-1, not UTF-8
    code, _, err = run(capsys, "run", "1.10.6", "--corpus", str(corpus), "--output-dir", str(tmp_path / "out"))
    assert code == 1
    assert_one_line_error(err, str(corpus), "UTF-8")


def test_resume_the_chatbot_with_other_options(chatbot_dir, tmp_path, capsys):
    bot = tmp_path / "bot"
    shutil.copytree(chatbot_dir, bot)
    code, _, err = run(capsys, "run", "1.10.6", "--output-dir", str(bot), "--resume", *CHATBOT_OPTIONS,
                       "--n-units", "16")
    assert code == 2
    assert_one_line_error(err, f"cannot --resume from {bot}: it was trained with other options",
                          "n_units: saved 8, now 16", "Give the same options, or --overwrite to start "
                          "afresh, or another --output-dir")


# ---------------------------------------------------------------- output directories
def test_output_dir_under_a_regular_file(tmp_path, capsys):
    # As root, chmod cannot make a directory unwritable; a path below a regular file cannot be
    # created by anyone, so it stands for a read-only or impossible output directory. All three
    # trainers refuse it before loading data or training (dlbook.session).
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    for argv in (["run", "1.10.4", "--epochs", "1"], ["run", "1.10.5", "--epochs", "1"],
                 ["run", "1.10.6", *CHATBOT_OPTIONS]):
        code, out, err = run(capsys, *argv, "--output-dir", str(blocker / "sub"))
        assert code == 2 and "Epoch" not in out, argv
        assert_one_line_error(err, f"cannot create --output-dir {blocker / 'sub'}: Not a directory "
                                   f"({blocker} is a file)")
    code, _, err = run(capsys, "figures", "--out", str(blocker / "sub"), "--only", "fig1_08_activations")
    assert code == 2
    assert_one_line_error(err, f"cannot create --out {blocker / 'sub'}: Not a directory")


def test_missing_output_dir_is_created(chatbot_dir):
    assert {p.name for p in chatbot_dir.iterdir()} >= {"model.h5", "checkpoint.h5", "config.json", "vocab.json"}


# ---------------------------------------------------------------- options
BAD_OPTIONS = {
    "batch size 0": (["run", "1.10.4", "--batch-size", "0"],
                     ["argument --batch-size: must be a positive integer (>= 1), got 0",
                      "see 'dlbook run 1.10.4 --help'"]),
    "negative batch size": (["run", "1.10.5", "--batch-size", "-5"],
                            ["argument --batch-size: must be a positive integer (>= 1), got -5"]),
    "zero epochs": (["run", "1.10.6", "--epochs", "0"],
                    ["argument --epochs: must be a positive integer (>= 1), got 0"]),
    "non-numeric batch size": (["run", "1.10.4", "--batch-size", "ten"],
                               ["argument --batch-size: expected a positive integer, got 'ten'"]),
    "learning rate not > 0": (["run", "1.10.4", "--learning-rate", "nan"], ["argument --learning-rate: must be > 0"]),
    "unknown section": (["run", "1.11"], ["unknown section '1.11'; known sections: 1.2,", "see 'dlbook list'"]),
    "unknown option": (["run", "1.10.4", "--frobnicate"],
                       ["dlbook run 1.10.4: unrecognized arguments: --frobnicate", "see 'dlbook run 1.10.4 --help'"]),
    "unknown command": (["frobnicate"], ["unknown command 'frobnicate'", "see 'dlbook --help'"]),
    "chat without --checkpoint": (["chat"], ["the following arguments are required: --checkpoint",
                                             "see 'dlbook chat --help'"]),
    "unknown chatbot corpus": (["run", "1.10.6", "--corpus", "no_such_file.tsv"],
                               ["--corpus 'no_such_file.tsv' is neither 'chatterbot' nor an existing TSV file"]),
    "resume and overwrite": (["run", "1.10.5", "--resume", "--overwrite"],
                             ["argument --overwrite: not allowed with argument --resume"]),
    **{f"seed {seed} in {where}": ([*where.split(), "--seed", seed, *(["--checkpoint", "x"] if where == "chat" else [])],
                                   [f"argument --seed: must be an integer from 0 to 4294967295, got {seed}"])
       for seed in ("-1", "4294967296") for where in ("run 1.10.4", "run 1.10.5", "run 1.10.6", "chat")},
    **{f"seed -1 in run {section}": (["run", section, "--seed", "-1"],
                                     ["argument --seed: must be an integer from 0 to 4294967295, got -1"])
       for section in ("1.2", "1.3", "1.6", "1.7", "1.8", "1.9", "1.10.1", "1.10.2", "1.10.3")},
    "leaky slope nan": (["run", "1.4", "--alpha", "nan"], ["argument --alpha: must be a finite number, got nan"]),
    "leaky slope not a number": (["run", "1.4", "--alpha", "steep"], ["argument --alpha: expected a number, got 'steep'"]),
    "negative sample interval": (["run", "1.10.6", "--sample-every", "-1"],
                                 ["argument --sample-every: must be an integer >= 0, got -1"]),
    "negative weight decay": (["run", "1.10.5", "--weight-decay", "-0.1"],
                              ["argument --weight-decay: must be a number >= 0, got -0.1"]),
    "dropout keep above 1": (["run", "1.10.5", "--dense-keep", "2"],
                             ["argument --dense-keep: must be a keep probability in (0, 1], got 2.0"]),
    "seed not a number": (["run", "1.10.4", "--seed", "0x1"],
                          ["argument --seed: expected an integer from 0 to 4294967295, got '0x1'"]),
}


@pytest.mark.parametrize("case", BAD_OPTIONS)
def test_bad_option(capsys, case):
    argv, needles = BAD_OPTIONS[case]
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert_one_line_error(err, *needles)


# ---------------------------------------------------------------- a run directory is never clobbered
def test_1_10_4_keeps_the_saved_run_when_a_new_one_fails(tmp_path, capsys):
    """A new run that diverges (--learning-rate 1e30) must leave the saved run as it was: the old
    1.10.4 deleted its checkpoint first, then said it was "left as it was"."""
    out = tmp_path / "out"
    assert dlbook(["run", "1.10.4", "--epochs", "1", "--output-dir", str(out)]) == 0
    before = {name: (out / name).read_bytes() for name in ("model.h5", "checkpoint.h5", "run.json")}
    capsys.readouterr()
    code, _, err = run(capsys, "run", "1.10.4", "--epochs", "1", "--output-dir", str(out))
    assert code == 2
    assert_one_line_error(err, f"{out} already holds a run of `dlbook run 1.10.4`, 1 epoch(s) done: add "
                               f"--resume to continue it, or --overwrite to start a new one")
    code, _, err = run(capsys, "run", "1.10.4", "--epochs", "1", "--overwrite", "--learning-rate", "1e30",
                       "--output-dir", str(out))
    assert code == 1
    assert_one_line_error(err, "the loss became", "at epoch 1, step", "of 10: training diverged",
                          f"the run already in {out} was left as it was")
    assert {name: (out / name).read_bytes() for name in before} == before
    load_weights(get_mlp_model([None, 784]), out / "model.h5")


def test_1_10_5_refuses_to_clobber_a_run_and_to_resume_it_with_another_batch_size(tmp_path, capsys):
    out = _saved_run(tmp_path / "out", get_model_batchnorm([None, 24, 24, 3]), **CNN_OPTIONS)
    before = (out / "checkpoint.h5").read_bytes()
    code, _, err = run(capsys, "run", "1.10.5", "--epochs", "1", "--output-dir", str(out))
    assert code == 2
    assert_one_line_error(err, f"{out} already holds a run of `dlbook run 1.10.5`", "--resume", "--overwrite")
    # the batch size fixes which images a resumed epoch skips: a different one is refused, named
    code, _, err = run(capsys, "run", "1.10.5", "--epochs", "1", "--resume", "--batch-size", "16",
                       "--output-dir", str(out))
    assert code == 2
    assert_one_line_error(err, f"cannot --resume from {out}: it was trained with other options "
                               "(batch_size: saved 32, now 16)")
    assert (out / "checkpoint.h5").read_bytes() == before


# ---------------------------------------------------------------- --debug
def test_debug_shows_the_traceback_and_only_then(tmp_path, capsys):
    shutil.copytree(TINY_MNIST, tmp_path / "mnist")
    _mnist_bad_magic(tmp_path / "mnist")
    argv = ["run", "1.10.4", "--data-dir", str(tmp_path), "--output-dir", str(tmp_path / "out")]
    code, _, err = run(capsys, *argv)
    assert code == 1 and "Traceback" not in err
    for debug_argv in (["--debug"] + argv, argv + ["--debug"]):
        with pytest.raises(DataError, match="magic number 2049"):
            dlbook(debug_argv)
    # The same as real processes (the console script's path: no TensorFlow import for these).
    plain = subprocess.run([sys.executable, "-m", "dlbook", "run", "1.11"], capture_output=True, text=True)
    debug = subprocess.run([sys.executable, "-m", "dlbook", "--debug", "run", "1.11"], capture_output=True, text=True)
    assert plain.returncode == 2 and "Traceback" not in plain.stderr and "unknown section '1.11'" in plain.stderr
    assert debug.returncode == 1 and "Traceback (most recent call last)" in debug.stderr
    assert "dlbook.errors.UsageError: unknown section '1.11'" in debug.stderr
