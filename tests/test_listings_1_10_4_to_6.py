"""The 1.10.4-1.10.6 modules read like their listings (the printed lines, in the printed order,
each changed line marked `# errata:`), the listings' own code is right, and the rules of a
training run live in one place (dlbook.session), which nothing in the package bypasses."""
import re
from pathlib import Path

import numpy as np
import pytest

from dlbook.compat import tl
import tensorflow as tf

from chapters.ch01 import s1_10_4_mnist_mlp as mlp_section
from dlbook.metrics import accuracy

ROOT = Path(__file__).resolve().parents[1]


def _source(module):
    return Path(module.__file__).read_text()


def _assert_in_order(source, printed):
    """Each fragment of ``printed`` is in ``source``, after the previous one; a fragment ending
    in ``#errata`` must sit on a line marked ``# errata: <id>`` (a printed line fixed in place)."""
    position = 0
    for fragment in printed:
        fixed = fragment.endswith("#errata")
        fragment = fragment.removesuffix("#errata")
        index = source.find(fragment, position)
        assert index >= 0, f"not found (in this order): {fragment!r}"
        line = source[source.rfind("\n", 0, index) + 1:source.find("\n", index)]
        assert ("# errata: " in line) == fixed, line
        position = index + len(fragment)


def test_1_10_4_has_the_listing_in_order():
    _assert_in_order(_source(mlp_section), [
        "X_train, y_train, X_val, y_val, X_test, y_test = load_mnist_dataset(shape=(-1, 784)#errata",
        "ni = tl.layers.Input(",
        "nn = tl.layers.Dropout(keep=0.8)(ni)",
        "nn = tl.layers.Dense(n_units=800, act=tf.nn.relu)(nn)",
        "nn = tl.layers.Dropout(keep=0.5)(nn)",
        "nn = tl.layers.Dense(n_units=800, act=tf.nn.relu)(nn)",
        "nn = tl.layers.Dropout(keep=0.5)(nn)",
        "nn = tl.layers.Dense(n_units=10, act=None)(nn)",
        "network = tl.models.Model(inputs=ni, outputs=nn, name=None)#errata",
        "def acc(_logits, y_batch):",
        "return tf.reduce_mean(\n        tf.cast(\n            tf.equal(\n                tf.argmax(_logits, 1),\n"
        "                tf.convert_to_tensor(y_batch, tf.int64)),\n            tf.float32),\n"
        "        name='accuracy'\n    )",
        "fit(#errata", "network,", "train_op=train_op,", "cost=tl.cost.cross_entropy,",
        "X_train=X_train, y_train=y_train,", "acc=acc,", "batch_size=args.batch_size,",
        "n_epoch=args.epochs,", "X_val=X_val, y_val=y_val, eval_train=True,",
        "test(#errata", "network,", "acc=acc,", "X_test=X_test, y_test=y_test,", "batch_size=None,",
        "cost=tl.cost.cross_entropy",
        "run.save_weights(network, 'model.h5')#errata",
    ])
    parser_defaults = mlp_section.parse_args([])
    assert (parser_defaults.batch_size, parser_defaults.epochs, parser_defaults.learning_rate) == (256, 20, 0.0001)


def test_mlp_as_printed_cannot_be_built_twice_ours_can():
    def printed():
        ni = tl.layers.Input([None, 784])
        return tl.models.Model(inputs=ni, outputs=tl.layers.Dense(n_units=10)(ni), name="mlp")

    printed()
    with pytest.raises(ValueError, match="Model name 'mlp' has already been used"):  # errata: mlp-model-name
        printed()
    first, second = mlp_section.get_model([None, 784]), mlp_section.get_model([None, 784])
    assert first.name != second.name
    assert [layer.name for layer in first.all_layers][1:] != []  # layers as printed
    assert sum(int(np.prod(w.shape)) for w in first.trainable_weights) == 1_276_810


def test_printed_acc_equals_the_fraction_of_right_answers():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(50, 10)).astype(np.float32)
    labels = rng.integers(0, 10, 50)
    oracle = np.mean(np.argmax(logits, 1) == labels)  # the book's NumPy acc, written out
    for y in (labels.astype(np.int32), labels.astype(np.int64), tf.constant(labels, tf.int64)):
        assert float(mlp_section.acc(tf.constant(logits), y)) == pytest.approx(oracle, abs=1e-7)
    assert float(mlp_section.acc(logits, labels)) == pytest.approx(float(accuracy(logits, labels)), abs=1e-7)


def test_1_10_5_has_the_listing_in_order():
    from chapters.ch01 import s1_10_5_cifar10_cnn as section
    _assert_in_order(_source(section), [
        "def _fn_train(img, target",
        "# 1. randomly crop a 24 x 24 piece of the image",
        "img = img[top:top + 24, left:left + 24]#errata",
        "# 2. randomly flip the image left to right",
        "img = img[:, ::-1] if rng.uniform() < 0.5 else img",
        "# 3. normalize",
        "img = (img - img.mean()) / max(float(img.std()), 1 / np.sqrt(img.size))#errata",
        "target = np.reshape(target, ())",
        "return img",
        "train_ds = CIFAR10(train_or_test='train', shape=(-1, 32, 32, 3)#errata",
        "train_dl = Dataloader(train_ds, transforms=[_fn_train], shuffle=True,\n"
        "                              batch_size=batch_size, output_types=(np.float32, np.int32)",
        "test_ds = CIFAR10(train_or_test='test', shape=(-1, 32, 32, 3)",
        "test_dl = Dataloader(test_ds, batch_size=batch_size, batch_transforms=[test_transform])#errata",
        "net = get_model_batchnorm([None, 24, 24, 3])",
        "for X_batch, y_batch in run.remaining(train_dl):",
    ])


def test_1_10_6_shows_the_seq2seq_call():
    from chapters.ch01 import s1_10_6_chatbot as section
    assert "model_ = get_seq2seq_model(" in _source(section)
    _assert_in_order((ROOT / "dlbook" / "models" / "seq2seq.py").read_text(), [
        "tl.models.Seq2seq(", "decoder_seq_length=decoder_seq_length,", "cell_enc=tf.keras.layers.GRUCell,",
        "cell_dec=tf.keras.layers.GRUCell,", "n_layer=n_layer,", "n_units=n_units,",
        "embedding_layer=tl.layers.Embedding(vocabulary_size=vocabulary_size, embedding_size=embedding_size),",
    ])


def _python_files(*folders):
    return [path for folder in folders for path in (ROOT / folder).rglob("*.py")]


def test_nothing_in_the_package_or_the_chapters_imports_the_cli():
    for path in _python_files("dlbook", "chapters"):
        if path.name in ("cli.py", "__main__.py") and path.parent.name == "dlbook":
            continue
        assert not re.search(r"^\s*(from dlbook\.cli import|from dlbook import cli|import dlbook\.cli)",
                             path.read_text(), re.M), path


def test_no_private_name_is_imported_across_modules():
    for path in _python_files("dlbook", "chapters"):
        for line in re.findall(r"^\s*from dlbook[\w.]* import .*$", path.read_text(), re.M):
            names = [n.strip().split(" as ")[0] for n in line.split(" import ", 1)[1].strip("()").split(",")]
            assert not any(n.startswith("_") and not n.startswith("__") for n in names), (path, line)


def test_one_copy_of_the_run_rules():
    """Signals, checkpoints and the NaN guard are handled in dlbook.session only; the trainers
    (fit, 1.10.5, 1.10.6) call it."""
    owners = {"signal.signal(": {"signals.py"}, "save_checkpoint(": {"checkpoints.py"},
              "load_checkpoint(": {"checkpoints.py", "__init__.py"}, "isfinite(": {"__init__.py"}}
    trainers = [ROOT / "dlbook" / "utils.py", *(ROOT / "chapters" / "ch01").glob("s1_10_[456]_*.py")]
    for path in trainers + list((ROOT / "dlbook" / "session").glob("*.py")):
        text = path.read_text()
        for call, allowed in owners.items():
            if call in text:
                assert path.name in allowed and (path.parent.name == "session" or path.name == "checkpoints.py"), \
                    (path, call)
    for path in trainers:
        assert "session" in path.read_text(), path
