"""``dlbook run 1.10.5 --recipe ...``: each recipe option reaches the run (the weight penalty in the
step, the schedule's learning rate, dropout, early stopping with the best weights restored), the
run resumes exactly with all of them, and bad values are one clear line. Tiny CIFAR-format data."""
import json
import math

import h5py
import numpy as np
import pytest

from chapters.ch01 import s1_10_5_cifar10_cnn as chapter
from test_cifar10_cnn import _write_cifar  # 40 training, 8 test images
from step_wrapping import pressing_ctrl_c
from dlbook import recipes, train
from dlbook.files.checkpoints import file_entries
from dlbook.cli import guarded
from dlbook.errors import UsageError
from dlbook.models import get_model_batchnorm
import tensorflow as tf

pytestmark = pytest.mark.filterwarnings("ignore:CIFAR-10.*training batches:UserWarning")


def _run(path):
    """(run.json, the model's weights in file order, the checkpoint's weights) of a run directory."""
    meta = json.loads((path / "run.json").read_text())
    with h5py.File(path / "model.h5", "r") as f:
        model = [w[()] for _, ws in file_entries(f) for w in ws]
    return meta, model


def _cosine(step, peak, warmup, total):
    """Linear warm-up 0 -> peak over `warmup` steps, then half a cosine to 0 at `total` (written out)."""
    if step < warmup:
        return peak * step / warmup
    return peak * 0.5 * (1 + math.cos(math.pi * (step - warmup) / (total - warmup)))


def test_tuned_recipe_trains_on_its_schedule(tmp_path, capsys):
    """--recipe tuned: SGD on a warm-up + cosine schedule; the learning rate recorded after each
    epoch is the schedule at that step (40 images, batch 16: 3 steps an epoch)."""
    args = ["--data-dir", str(_write_cifar(tmp_path / "data")), "--batch-size", "16", "--epochs", "4",
            "--recipe", "tuned", "--warmup-epochs", "1", "--output-dir", str(tmp_path / "run")]
    assert chapter.main(args) == 0
    assert "recipe tuned: sgd 0.05 (cosine, warm-up 1 epochs), weight decay 0.001" in capsys.readouterr().out
    meta, _ = _run(tmp_path / "run")
    assert meta["options"]["optimizer"] == "sgd" and meta["options"]["weight_decay"] == 1e-3
    expected = [_cosine(3 * (epoch + 1), 0.05, 3, 12) for epoch in range(4)]
    np.testing.assert_allclose(meta["history"]["lr"], expected, rtol=1e-6, atol=1e-9)
    assert meta["history"]["lr"][-1] == pytest.approx(0.0, abs=1e-9)


def test_fast_recipe_is_the_tuned_one_in_20_epochs_at_the_machines_precision(tmp_path, capsys, monkeypatch):
    """--recipe fast: the tuned techniques, a 1-epoch warm-up, 20 epochs unless given, and
    --precision auto unless given (what auto picks is tested in test_precision)."""
    assert recipes.FAST == recipes.dataclasses.replace(recipes.TUNED, epochs=20, warmup_epochs=1.0)
    monkeypatch.setattr(chapter.precision, "resolve", lambda name: ("float32", f"asked {name}"))
    args = ["--data-dir", str(_write_cifar(tmp_path / "data")), "--batch-size", "16", "--epochs", "2",
            "--recipe", "fast", "--output-dir", str(tmp_path / "run")]
    assert chapter.main(args) == 0
    out = capsys.readouterr().out
    assert "recipe fast: sgd 0.05 (cosine, warm-up 1 epochs), weight decay 0.001" in out
    assert "precision: float32 (asked auto)" in out
    assert chapter.main(args[:-2] + ["--precision", "float32", "--output-dir", str(tmp_path / "b")]) == 0
    assert "precision: float32 (asked float32)" in capsys.readouterr().out


def test_book_recipe_is_the_listings_constant_adam(tmp_path):
    args = ["--data-dir", str(_write_cifar(tmp_path / "data")), "--batch-size", "16", "--epochs", "2",
            "--output-dir", str(tmp_path / "run")]
    assert chapter.main(args) == 0
    meta, _ = _run(tmp_path / "run")
    assert meta["options"]["optimizer"] == "adam" and meta["history"]["lr"] == pytest.approx([1e-4, 1e-4])
    assert meta["options"]["weight_decay"] == 0 and "val_acc" not in meta["history"]


def test_the_step_differentiates_the_weight_penalty():
    """One SGD step with weight decay lambda moves each kernel by an extra -lr * 2 * lambda * w
    (the gradient of lambda * sum w^2), biases and BatchNorm parameters by nothing extra."""
    lr, lam = 0.1, 0.01
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(8, 24, 24, 3)).astype(np.float32), rng.integers(0, 10, 8).astype(np.int32)
    nets = [get_model_batchnorm([None, 24, 24, 3]) for _ in range(2)]
    for w, v in zip(nets[1].all_weights, nets[0].all_weights):
        w.assign(v)
    start = [w.numpy().copy() for w in nets[0].trainable_weights]
    for net, decay in zip(nets, (0.0, lam)):
        recipe = recipes.Recipe(optimizer="sgd", momentum=0.0, learning_rate=lr, weight_decay=decay)
        optimizer = tf.optimizers.SGD(lr)
        train_step = train.train_step(net, optimizer, chapter.tl.cost.cross_entropy,
                                      penalty=recipes.weight_penalty(recipe, net))
        train_step(X, y, train.position(0, 0, 0))
    for w0, plain, decayed in zip(start, nets[0].trainable_weights, nets[1].trainable_weights):
        extra = -lr * 2 * lam * w0 if w0.ndim >= 2 else np.zeros_like(w0)
        np.testing.assert_allclose(decayed.numpy() - plain.numpy(), extra, atol=2e-6)
    assert any(w0.ndim >= 2 and np.abs(w0).max() > 0 for w0 in start)


def test_early_stopping_restores_the_best_epoch(tmp_path, capsys):
    """Patience 1 on 32 training + 8 validation images: the run stops after the first epoch with
    no better validation accuracy, and model.h5 holds the weights of the best one."""
    args = ["--data-dir", str(_write_cifar(tmp_path / "data")), "--batch-size", "16", "--epochs", "8",
            "--early-stopping", "1", "--validation-images", "8", "--learning-rate", "0.01", "--seed", "2",
            "--output-dir", str(tmp_path / "run")]
    assert chapter.main(args) == 0
    out = capsys.readouterr().out
    assert "32 training and 8 test images" in out
    meta, model = _run(tmp_path / "run")
    val = meta["history"]["val_acc"]
    best = int(np.argmax(val)) + 1  # the first epoch with the highest accuracy
    assert meta["state"]["restored"]["epoch"] == best and f"restored the weights of epoch {best}" in out
    if len(val) < 8:  # it stopped: one epoch after the best without a better one
        assert len(val) == best + 1
    with h5py.File(tmp_path / "run" / train.hooks.BEST_WEIGHTS_NAME, "r") as f:
        best_weights = [w[()] for _, ws in file_entries(f) for w in ws]
    net = get_model_batchnorm([None, 24, 24, 3])
    assert len(best_weights) == len(net.all_weights) == len(model)
    for saved, kept in zip(model, best_weights):  # same order: the model's all_weights
        np.testing.assert_array_equal(saved, kept)


def test_everything_on_resumes_bit_exactly_after_ctrl_c(tmp_path, capsys, monkeypatch):
    """The tuned recipe with dropout and early stopping: Ctrl-C in epoch 2, then --resume, gives
    the run of 3 epochs in one go bit for bit (weights, schedule, dropout masks, the early
    stopping's counters and best weights)."""
    common = ["--data-dir", str(_write_cifar(tmp_path / "data")), "--batch-size", "16", "--seed", "1",
              "--epochs", "3", "--recipe", "tuned", "--warmup-epochs", "1", "--dense-keep", "0.5",
              "--early-stopping", "3", "--validation-images", "8"]
    assert chapter.main(common + ["--output-dir", str(tmp_path / "a")]) == 0
    with pressing_ctrl_c(monkeypatch, at_call=3), pytest.raises(KeyboardInterrupt):  # 2 steps an epoch:
        chapter.main(common + ["--output-dir", str(tmp_path / "b")])              # epoch 2, step 1
    assert "1 step(s) into epoch 2" in capsys.readouterr().out
    assert chapter.main(common + ["--resume", "--output-dir", str(tmp_path / "b")]) == 0
    (meta_a, model_a), (meta_b, model_b) = _run(tmp_path / "a"), _run(tmp_path / "b")
    for k, (wa, wb) in enumerate(zip(model_a, model_b)):
        np.testing.assert_array_equal(wa, wb, err_msg=f"weight #{k}")
    for key in ("loss", "acc", "test_acc", "val_acc", "lr"):
        assert meta_a["history"][key] == meta_b["history"][key], key
    assert meta_a["state"] == meta_b["state"]


def test_resume_refuses_another_recipe_naming_the_option(tmp_path, capsys):
    common = ["--data-dir", str(_write_cifar(tmp_path / "data")), "--batch-size", "16", "--epochs", "2",
              "--recipe", "tuned", "--warmup-epochs", "1", "--output-dir", str(tmp_path / "run")]
    assert chapter.main(common) == 0
    with pytest.raises(UsageError, match=r"weight_decay: saved 0\.001, now 0\.0"):
        chapter.main(common + ["--resume", "--weight-decay", "0"])
    with pytest.raises(UsageError, match=r"epochs: saved 2, now 3"):  # the cosine schedule's length
        chapter.main(common[:-2] + ["--output-dir", str(tmp_path / "run"), "--resume", "--epochs", "3"])


@pytest.mark.parametrize("bad, named", [
    (["--dense-keep", "1.5"], "--dense-keep"), (["--dense-keep", "0"], "--dense-keep"),
    (["--weight-decay", "-1"], "--weight-decay"), (["--weight-decay", "nan"], "--weight-decay"),
    (["--recipe", "fastest"], "--recipe"), (["--batch-norm", "maybe"], "--batch-norm"),
    (["--early-stopping", "-2"], "--early-stopping"), (["--learning-rate", "inf"], "--learning-rate"),
    (["--recipe", "tuned", "--epochs", "2"], "warmup_epochs"),
    (["--early-stopping", "2", "--validation-images", "40"], "--validation-images"),
])
def test_bad_recipe_option_is_one_line(tmp_path, capsys, bad, named):
    args = ["--data-dir", str(_write_cifar(tmp_path / "data")), "--batch-size", "16", "--epochs", "2",
            "--output-dir", str(tmp_path / "run")] + bad
    assert guarded(chapter.main, args) != 0
    err = capsys.readouterr().err.strip()
    assert named in err and "Traceback" not in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "run" / "run.json").exists()


def test_early_stopping_on_the_tiny_subset_holds_out_a_tenth(tmp_path, monkeypatch, capsys):
    """No data and no --validation-images: the tiny subset's 500 images keep 450 for training and
    hold out 50 (the recipe's 2,000 would be more than all of them)."""
    monkeypatch.chdir(tmp_path)  # no data/ here: the tiny subset
    assert chapter.main(["--early-stopping", "1", "--epochs", "1", "--batch-size", "150",
                         "--output-dir", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert "tiny subset" in out and "450 training and" in out
    assert json.loads((tmp_path / "run" / "run.json").read_text())["history"]["val_acc"]
