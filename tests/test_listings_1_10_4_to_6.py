"""The 1.10.4-1.10.6 listings' own code is right, the options behind their `# book:` lines keep
the printed values, and the rules of a training run live in one place (dlbook.session), which
nothing in the package bypasses. (That the modules show the printed lines in order is checked
for every listing by tests/test_book_fidelity.py.)"""
import re
from pathlib import Path

import numpy as np
import pytest

from dlbook.compat import tl
import tensorflow as tf

from chapters.ch01 import s1_10_4_mnist_mlp as mlp_section
from dlbook.metrics import accuracy

ROOT = Path(__file__).resolve().parents[1]


def test_mlp_as_printed_cannot_be_built_twice_ours_can():
    def printed():
        ni = tl.layers.Input([None, 784])
        return tl.models.Model(inputs=ni, outputs=tl.layers.Dense(n_units=10)(ni), name="mlp")

    printed()
    with pytest.raises(ValueError, match="Model name 'mlp' has already been used"):  # errata: mlp-model-name
        printed()
    first, second = mlp_section.get_model(), mlp_section.get_model()
    assert first.name != second.name
    layers = first.all_layers[1:]   # as printed: Dropout(0.8), Dense(800), Dropout(0.5), Dense(800), Dropout(0.5), Dense(10)
    assert [type(layer).__name__ for layer in layers] == ["Dropout", "Dense"] * 3
    assert [layer.keep for layer in layers[::2]] == [0.8, 0.5, 0.5]
    assert [(layer.n_units, layer.act) for layer in layers[1::2]] == [(800, tf.nn.relu), (800, tf.nn.relu), (10, None)]
    assert sum(int(np.prod(w.shape)) for w in first.trainable_weights) == 1_276_810


def test_printed_acc_equals_the_fraction_of_right_answers():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(50, 10)).astype(np.float32)
    labels = rng.integers(0, 10, 50)
    oracle = np.mean(np.argmax(logits, 1) == labels)  # the fraction of right answers, in NumPy
    for y in (labels.astype(np.int32), labels.astype(np.int64), tf.constant(labels, tf.int64)):
        assert float(mlp_section.acc(tf.constant(logits), y)) == pytest.approx(oracle, abs=1e-7)
    assert float(mlp_section.acc(logits, labels)) == pytest.approx(float(accuracy(logits, labels)), abs=1e-7)


def test_1_10_6_command_line_defaults_are_the_model_functions():
    """The Seq2seq call's `# book: n_layer=3,` / `n_units=256,` lines take get_seq2seq_model's
    defaults; `dlbook run 1.10.6` passes its options, whose defaults must be the same."""
    import inspect

    from chapters.ch01 import s1_10_6_chatbot as section
    from dlbook.models.seq2seq import get_seq2seq_model
    defaults = section.build_parser().parse_args([])
    parameters = inspect.signature(get_seq2seq_model).parameters
    assert (defaults.n_layer, defaults.n_units) == (parameters["n_layer"].default, parameters["n_units"].default) == (3, 256)
    assert (defaults.decoder_seq_length, defaults.embedding_size) == (
        parameters["decoder_seq_length"].default, parameters["emb_dim"].default)


def _python_files(*folders):
    return [path for folder in folders for path in (ROOT / folder).rglob("*.py")]


def test_nothing_in_the_package_or_the_chapters_imports_the_cli():
    for path in _python_files("dlbook", "chapters"):
        if path.parent.name == "cli" or (path.name == "__main__.py" and path.parent.name == "dlbook"):
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
    trainers = [ROOT / "dlbook" / "train" / "loop.py", *(ROOT / "chapters" / "ch01").glob("s1_10_[456]_*.py")]
    library = list((ROOT / "dlbook" / "train").glob("*.py")) + list((ROOT / "dlbook" / "session").glob("*.py"))
    for path in trainers + library:
        text = path.read_text()
        for call, allowed in owners.items():
            if call in text:
                assert path.name in allowed and (path.parent.name == "session" or path.name == "checkpoints.py"), \
                    (path, call)
    for path in trainers:
        assert "session" in path.read_text(), path


def test_one_train_step_in_the_library():
    """``tf.GradientTape`` and ``apply_gradients`` appear in one module of dlbook and in no training
    section (1.10.4-1.10.6 use that module; 1.10.1-1.10.3 print their own, 1.4 and 1.6 check
    NumPy maths against TensorFlow's gradients)."""
    def uses(path):
        return bool(re.search(r"GradientTape\(|\.apply_gradients\(", path.read_text()))
    assert [p.relative_to(ROOT).as_posix() for p in _python_files("dlbook") if uses(p)] == ["dlbook/train/step.py"]
    assert not [p for p in (ROOT / "chapters" / "ch01").glob("s1_10_[456]_*.py") if uses(p)]
