"""The 1.10.5 BatchNorm CNN (dlbook.models.cnn) and its training script
(chapters/ch01/s1_10_5_cifar10_cnn.py) on the tiny CIFAR-format data in data/tiny."""
import json

import h5py
import numpy as np
import pytest

from chapters.ch01 import s1_10_5_cifar10_cnn as chapter
from dlbook import train
from dlbook.compat import tl
from dlbook.files.checkpoints import file_entries
from dlbook.cli import guarded
from dlbook.data import Dataloader
from dlbook.data.cifar10 import write_cifar10_pickle
from dlbook.data.dataset import ArrayDataset
from dlbook.data.paths import REPO_TINY_DIR
from dlbook.errors import DlbookError
from dlbook.metrics import accuracy
from dlbook.models import get_model_batchnorm
from dlbook.models.cnn import TRAINABLE_PARAMS_24x24
from event_files import read_scalars
from step_wrapping import diverging, pressing_ctrl_c  # noqa: F401  (pressing_ctrl_c: also for the recipes' tests)
import tensorflow as tf

# fewer than 5 CIFAR-10 training batches is expected here (tiny files, ../shared/data)
pytestmark = pytest.mark.filterwarnings("ignore:CIFAR-10.*training batches:UserWarning")

tiny_cifar = pytest.mark.skipif(not (REPO_TINY_DIR / "cifar10").is_dir(),
                                reason="tiny CIFAR-10 not generated (python scripts/make_tiny_data.py)")


def _n_params(weights):
    return sum(int(np.prod(w.shape)) for w in weights)


def test_model_as_printed_with_1068426_trainable_parameters():
    nets = [get_model_batchnorm([None, 24, 24, 3]) for _ in range(2)]  # errata: cnn-model-name
    net = nets[1]
    assert nets[0].name != net.name
    assert _n_params(net.trainable_weights) == TRAINABLE_PARAMS_24x24 == 1_068_426
    assert _n_params(net.all_weights) - TRAINABLE_PARAMS_24x24 == 256  # 2 x (moving mean + var) x 64
    layers = net.all_layers[1:]   # after the input layer, in the printed order
    assert [type(layer).__name__ for layer in layers] == [
        "Conv2d", "BatchNorm2d", "MaxPool2d", "Conv2d", "BatchNorm2d", "MaxPool2d", "Flatten", "Dense", "Dense", "Dense"]
    for conv, shape in ((layers[0], (5, 5, 3, 64)), (layers[3], (5, 5, 64, 64))):
        assert [tuple(w.shape) for w in conv.all_weights] == [shape]  # no bias
        assert conv.padding == "SAME" and conv.W_init.stddev == 5e-2
    for batch in (layers[1], layers[4]):
        assert batch.decay == 0.99 and batch.act is tf.nn.relu
    for pool in (layers[2], layers[5]):
        assert pool.filter_size == (3, 3) and pool.strides == (2, 2) and pool.padding == "SAME"
    for dense, units, act in zip(layers[7:], (384, 192, 10), (tf.nn.relu, tf.nn.relu, None)):
        assert dense.n_units == units and dense.act is act and dense.W_init.stddev == 0.04
    assert layers[7].b_init.value == 0.1 and layers[8].b_init.value == 0.1 and layers[9].b_init.value == 0.0
    net.eval()
    assert net(np.zeros((3, 24, 24, 3), np.float32)).shape == (3, 10)


def test_compiled_train_step_learns_and_updates_batchnorm_statistics():
    net = get_model_batchnorm([None, 24, 24, 3])
    optimizer = tf.optimizers.Adam(0.001)
    train_step = train.train_step(net, optimizer, tl.cost.cross_entropy, metric=accuracy,
                                  signature=chapter.BATCH + [train.POSITION])
    eval_step = train.eval_step(net, tl.cost.cross_entropy, accuracy, signature=chapter.BATCH)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(16, 24, 24, 3)).astype(np.float32)
    y = rng.integers(0, 10, 16).astype(np.int32)
    moving_mean = next(w for w in net.all_weights if w.name.endswith("moving_mean:0"))  # the first BatchNorm's
    losses = [float(train_step(X, y, train.position(0, 0, step))["loss"]) for step in range(10)]
    assert losses[-1] < 0.7 * losses[0]  # starts memorising 16 images
    assert np.abs(moving_mean.numpy()).max() > 0  # updated inside the tf.function (started at 0)
    out = eval_step(X, y)
    assert np.isfinite(float(out["loss"])) and 0.0 <= float(out["acc"]) <= 1.0


def _write_cifar(directory, sizes=(("data_batch_1", 40), ("test_batch", 8))):
    rng = np.random.default_rng(0)
    batches = directory / "cifar10" / "cifar-10-batches-py"
    for name, n in sizes:
        write_cifar10_pickle(batches / name, {"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                                              "labels": [int(v) for v in rng.integers(0, 10, n)]})
    return directory


def test_non_finite_loss_stops_naming_epoch_and_step(tmp_path, monkeypatch):
    data = _write_cifar(tmp_path / "data")  # 3 steps an epoch: the 5th (epoch 2, step 2) gives inf
    with diverging(monkeypatch, at_call=5), \
            pytest.raises(DlbookError, match=r"inf at epoch 2, step 2 of 3.*stays as last saved \(1 epoch"):
        chapter.main(["--data-dir", str(data), "--batch-size", "16", "--epochs", "3",
                      "--output-dir", str(tmp_path / "out")])


def test_truncated_batch_file_is_one_clear_error(tmp_path, capsys):
    directory = tmp_path / "cifar10" / "cifar-10-batches-py"
    for name in ("data_batch_1", "test_batch"):
        write_cifar10_pickle(directory / name, {"data": np.zeros((4, 3072), np.uint8),
                                                "labels": [0, 1, 2, 3]})
    raw = (directory / "data_batch_1").read_bytes()
    (directory / "data_batch_1").write_bytes(raw[:100])
    code = guarded(chapter.main, ["--data-dir", str(tmp_path), "--output-dir", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1 and "data_batch_1" in err and "Traceback" not in err


def _checkpoint(path):
    """(epochs done, history, the model's weights in file order) of the run saved in ``path``.
    (TensorLayer names unnamed layers per process, so two runs' layer names differ.)"""
    with h5py.File(path / "checkpoint.h5", "r") as f:
        weights = [w[()] for _, ws in file_entries(f["model"]) for w in ws]
        return int(f.attrs["epoch"]), json.loads((path / "run.json").read_text())["history"], weights


@tiny_cifar
def test_trains_above_chance_on_tiny_data(tmp_path, capsys):
    """5 epochs of batch 16 on the 500 tiny images: 160 steps, enough for the BatchNorm moving
    averages (decay 0.99) to settle; test accuracy clearly above chance (0.1)."""
    args = ["--data-dir", str(tmp_path / "no-real-data"), "--batch-size", "16", "--epochs", "5",
            "--seed", "3", "--output-dir", str(tmp_path)]  # an empty directory: a new run may start there
    assert chapter.main(args) == 0
    out = capsys.readouterr().out
    assert "using the tiny subset" in out and "test acc" in out
    epoch, history, _ = _checkpoint(tmp_path)
    assert epoch == 5 and history["test_acc"][-1] > 0.3 and history["acc"][-1] > 0.3


def _assert_same_runs(a, b):
    (epoch_a, history_a, weights_a), (epoch_b, history_b, weights_b) = _checkpoint(a), _checkpoint(b)
    assert epoch_a == epoch_b == 2 and len(weights_a) == len(weights_b) == 16
    for k, (a_weight, b_weight) in enumerate(zip(weights_a, weights_b)):
        np.testing.assert_array_equal(a_weight, b_weight, err_msg=f"weight #{k}")
    for key in ("loss", "acc", "test_loss", "test_acc"):
        assert history_a[key] == history_b[key], key


def test_resume_continues_bit_exactly(tmp_path, capsys):
    """2 epochs in one go == 1 epoch, then --resume to 2: the same weights bit for bit (op
    determinism on CPU; the loader redraws epoch 2's order and crops from the seed)."""
    common = ["--data-dir", str(_write_cifar(tmp_path / "data")), "--batch-size", "16", "--seed", "1"]
    assert chapter.main(common + ["--epochs", "2", "--output-dir", str(tmp_path / "a")]) == 0
    assert chapter.main(common + ["--epochs", "1", "--output-dir", str(tmp_path / "b")]) == 0
    assert chapter.main(common + ["--epochs", "2", "--resume", "--output-dir", str(tmp_path / "b")]) == 0
    assert f"Resumed from {tmp_path / 'b'}: 1 epoch(s) done" in capsys.readouterr().out
    _assert_same_runs(tmp_path / "a", tmp_path / "b")


def test_ctrl_c_mid_epoch_saves_and_resume_is_bit_exact(tmp_path, capsys, monkeypatch):
    """Ctrl-C in epoch 2's first step: the run is saved at (epoch 1, step 1); --resume then reaches
    the weights of an uninterrupted 2-epoch run bit for bit. With the listing's NumPy _fn_train
    (--augment numpy): its draws are seeded per image and epoch by the Dataloader."""
    common = ["--data-dir", str(_write_cifar(tmp_path / "data")), "--batch-size", "16", "--seed", "1",
              "--epochs", "2", "--augment", "numpy"]
    assert chapter.main(common + ["--output-dir", str(tmp_path / "a")]) == 0

    with pressing_ctrl_c(monkeypatch, at_call=4), pytest.raises(KeyboardInterrupt):  # 3 steps an epoch:
        chapter.main(common + ["--output-dir", str(tmp_path / "b")])              # epoch 2, step 1
    out = capsys.readouterr().out
    assert f"the run is saved in {tmp_path / 'b'} (1 epoch(s) done, 1 step(s) into epoch 2)" in out
    assert "--resume" in out
    assert chapter.main(common + ["--resume", "--output-dir", str(tmp_path / "b")]) == 0
    assert "1 step(s) into epoch 2" in capsys.readouterr().out
    _assert_same_runs(tmp_path / "a", tmp_path / "b")


def test_fn_train_as_in_the_module_equals_the_reference_transform():
    """The listing's _fn_train, fixed in place in the module, draws and computes exactly what
    dlbook.data.transforms.numpy_train_transform (the tested reference) does."""
    from dlbook.data.transforms import numpy_train_transform

    rng = np.random.default_rng(0)
    for k in range(21):   # the last one flat: its std is below the floor 1/sqrt(n)
        img = rng.integers(0, 256, (32, 32, 3)).astype(np.float32) if k < 20 else np.full((32, 32, 3), 7, np.float32)
        seed = np.array([k, 7 * k + 1], np.int64)
        ours, target = chapter._fn_train(img, np.int32(3), seed)
        reference, _ = numpy_train_transform(img, np.int32(3), seed)
        assert ours.shape == (24, 24, 3) and ours.dtype == np.float32 and target.shape == ()
        np.testing.assert_array_equal(ours, reference)


def test_fn_train_draws_from_its_seed_so_a_resumed_epoch_gets_the_same_images():
    """errata augment-global-rng: resumed at (epoch 2, batch 1) in a fresh process (NumPy seeded
    as set_seed does), the module's _fn_train gives the images of an uninterrupted run; the printed
    draws (tl.prepro's is_random: NumPy's global generator; crop flag on) give others."""
    from dlbook.compat import tl

    def printed_draws(img, target):
        img = tl.prepro.crop(img, 24, 24, True)
        img = tl.prepro.flip_axis(img, is_random=True)
        return img, np.reshape(target, ())

    images = np.random.default_rng(0).uniform(0, 255, (12, 32, 32, 3)).astype(np.float32)
    data = ArrayDataset(images, np.arange(12, dtype=np.int32))
    for fn, resumes_exactly in ((chapter._fn_train, True), (printed_draws, False)):
        def epoch_2_from_batch_1(resumed):
            np.random.seed(0)
            loader = Dataloader(data, batch_size=4, shuffle=True, transforms=[fn], seed=1, prefetch=None)
            if resumed:
                loader.seek(2, 1)
            else:
                list(loader), list(loader)  # epochs 0 and 1
            return [x.numpy() for x, _ in loader][-2:]

        uninterrupted, resumed = epoch_2_from_batch_1(False), epoch_2_from_batch_1(True)
        same = all(np.array_equal(a, b) for a, b in zip(uninterrupted, resumed))
        assert same == resumes_exactly, fn.__name__


def test_test_loader_crops_and_standardizes_as_training_does(tmp_path):
    """errata cifar-test-dl-transform: the book's test_dl would feed 32x32 raw pixels to a model
    trained on standardized 24x24 crops; the module's test_dl gives 24x24 standardized images."""
    import chapters.ch01.s1_10_5_cifar10_cnn as module
    source = open(module.__file__).read()
    assert "test_dl = Dataloader(test_ds, batch_size=batch_size, batch_transforms=[test_transform])" in source
    from dlbook.data.transforms import numpy_test_transform, test_transform
    images = np.random.default_rng(1).integers(0, 256, (4, 32, 32, 3)).astype(np.float32)
    loader = Dataloader(ArrayDataset(images, np.arange(4, dtype=np.int32)), batch_size=4,
                        batch_transforms=[test_transform])
    (X_batch, _), = list(loader)
    assert X_batch.shape == (4, 24, 24, 3)
    for image, out in zip(images, X_batch.numpy()):
        np.testing.assert_allclose(out, numpy_test_transform(image, 0)[0], rtol=1e-5, atol=1e-5)


def test_tensorboard_gets_every_epoch_of_the_history(tmp_path):
    """--tensorboard DIR: train/, test/ (and validation/ with early stopping) scalars per epoch,
    read back from the event files, equal to run.json's history."""
    args = ["--data-dir", str(_write_cifar(tmp_path / "data")), "--batch-size", "16", "--epochs", "2",
            "--early-stopping", "5", "--validation-images", "8",
            "--tensorboard", str(tmp_path / "logs"), "--output-dir", str(tmp_path / "run")]
    assert chapter.main(args) == 0
    history = json.loads((tmp_path / "run" / "run.json").read_text())["history"]
    scalars = read_scalars(tmp_path / "logs")
    for epoch in (1, 2):
        for split, tag, key in (("train", "loss", "loss"), ("train", "acc", "acc"), ("train", "lr", "lr"),
                                ("test", "loss", "test_loss"), ("test", "acc", "test_acc"),
                                ("validation", "acc", "val_acc")):
            assert scalars[split, tag, epoch] == pytest.approx(history[key][epoch - 1], rel=1e-6), (split, tag)
    assert {step for (_, _, step) in scalars} == {1, 2}
