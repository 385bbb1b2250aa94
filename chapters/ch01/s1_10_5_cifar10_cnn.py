"""
Title: BatchNorm CNN on CIFAR-10 (section 1.10.5)
Description: the book's CNN with batch normalization, fed by its Dataset / Dataloader API with augmentation.

The listing builds ``get_model_batchnorm([None, 24, 24, 3])`` (two 5x5x64 convolutions, each with
BatchNorm2d and 3x3/2 max-pooling, then Dense 384-192-10; 1,068,426 trainable parameters), reads
CIFAR-10 through ``tl.data.CIFAR10`` / ``tl.data.Dataloader`` (TensorLayer never released them:
``dlbook.data`` provides them on tf.data) and trains with Adam (learning rate 0.0001, batch 128)
in a ``tf.GradientTape`` step compiled with ``tf.function``. Training images get a random 24x24
crop, a random left-right flip and per-image standardization; test images the central crop and
standardization (the printed ``_fn_train`` does neither the random crop nor the standardization:
docs/errata.md, section 1.10.5). ``--augment tf`` (default) runs them in TF ops on whole
batches inside the input pipeline; ``--augment numpy`` runs the NumPy ``_fn_train`` of the
listing, image by image, through ``tf.numpy_function`` (slower: ``scripts/bench_pipeline.py``).

Prints: which data it uses, then per epoch a progress bar with the training loss and accuracy,
the test loss and accuracy, the time and the images/second; a checkpoint is written each epoch
(``--resume`` continues from it).

Expected: on the tiny CIFAR-format data in data/tiny (used when the real data is absent; 500
training and 200 test images, so the defaults become batch 32 and 15 epochs) the test accuracy
ends near 78% (chance: 10%) in under a minute. On the real CIFAR-10 (20,000 of its 50,000
training images, as in ../shared/data), ``dlbook run 1.10.5 --data-dir ../shared/data --epochs 50``
reaches 70.7% test accuracy (68.1% after 30 epochs, 60.8% after 10), at about 30 s per epoch
(~800 images/s of training) on 2 CPU cores; the book's learning rate 0.0001 learns slowly.
"""
# Setup
import itertools
import sys
import time
from pathlib import Path

import numpy as np

from dlbook import distribute
from dlbook.checkpoints import load_checkpoint, save_checkpoint
from dlbook.compat import tl
from dlbook.data import CIFAR10, Dataloader
from dlbook.data.locate import find_dataset
from dlbook.data.transforms import (numpy_test_transform, numpy_train_transform, test_transform,
                                    train_transform)
from dlbook.errors import DlbookError, UsageError
from dlbook.metrics import accuracy
from dlbook.models import get_model_batchnorm
from dlbook.options import add_training_args, make_parser, positive_float
from dlbook.utils import deferred_interrupt, set_seed
import tensorflow as tf

# The listing's _fn_train / _fn_test, doing what their comments say (errata: crop-random,
# errata: samplewise-norm): NumPy functions of (img, target) -> (img, target).
_fn_train, _fn_test = numpy_train_transform, numpy_test_transform


def make_loaders(path, batch_size, augment, seed):
    """The listing's datasets and loaders; ``augment`` is "tf" (in-graph, per batch) or "numpy"."""
    train_ds = CIFAR10(train_or_test='train', shape=(-1, 32, 32, 3), path=path)
    test_ds = CIFAR10(train_or_test='test', shape=(-1, 32, 32, 3), path=path)
    if augment == "numpy":
        train_dl = Dataloader(train_ds, transforms=[_fn_train], shuffle=True, batch_size=batch_size,
                              output_types=(np.float32, np.int32), seed=seed)
        test_dl = Dataloader(test_ds, transforms=[_fn_test], batch_size=batch_size,
                             output_types=(np.float32, np.int32))
    else:
        train_dl = Dataloader(train_ds, batch_transforms=[train_transform], shuffle=True,
                              batch_size=batch_size, output_types=(np.float32, np.int32), seed=seed)
        test_dl = Dataloader(test_ds, batch_transforms=[test_transform], batch_size=batch_size,
                             output_types=(np.float32, np.int32))
    return train_dl, test_dl


def make_steps(net, optimizer, strategy=None):
    """The train step (net in train mode) and the eval step (eval mode), one tf.function each,
    traced once for any batch size (the last partial batch included). With a ``strategy`` the
    train step is data-parallel: each replica trains on its share of every batch."""
    train_weights = net.trainable_weights
    with (strategy or tf.distribute.get_strategy()).scope():
        optimizer.build(train_weights)  # its variables exist before tracing: one trace, not two
    batch = [tf.TensorSpec([None, 24, 24, 3], tf.float32), tf.TensorSpec([None], tf.int32)]

    @tf.function(input_signature=batch)
    def train_step(X_batch, y_batch):
        with tf.GradientTape() as tape:
            _logits = net(X_batch)
            _loss = tl.cost.cross_entropy(_logits, y_batch, name='train_loss')
        grad = tape.gradient(_loss, train_weights)
        optimizer.apply_gradients(zip(grad, train_weights))
        return _loss, accuracy(_logits, y_batch)

    @tf.function(input_signature=batch)
    def eval_step(X_batch, y_batch):
        _logits = net(X_batch)
        return tl.cost.cross_entropy(_logits, y_batch, name='eval_loss'), accuracy(_logits, y_batch)

    if strategy is not None:
        train_step = distribute.TrainStep(strategy, net, optimizer, distribute.per_example_cross_entropy,
                                          acc=accuracy)
    return train_step, eval_step


def train_epoch(net, train_step, train_dl, epoch, n_epoch, partial=None, interrupted=()):
    """One pass over ``train_dl``; returns the sums {"step", "loss_sum", "correct", "seen"}.

    ``partial`` (such sums from a checkpoint) continues an epoch stopped after ``partial["step"]``
    steps: its batches are drawn again (the same order and crops) but not trained on. When Ctrl-C
    sets ``interrupted``, the epoch stops after the step under way (``step`` < len(train_dl)).
    """
    net.train()
    progbar = tf.keras.utils.Progbar(len(train_dl), stateful_metrics=["loss", "acc"],
                                     verbose=1 if sys.stdout.isatty() else 2)  # a bar on a terminal, a line in a log
    print(f"Epoch {epoch + 1}/{n_epoch}")
    # weighted by batch size: the last batch may be partial
    sums = dict(partial or {"step": 0, "loss_sum": 0.0, "correct": 0.0, "seen": 0})
    for step, (X_batch, y_batch) in itertools.islice(enumerate(train_dl), sums["step"], None):
        _loss, _acc = train_step(X_batch, y_batch)
        _loss = float(_loss)
        if not np.isfinite(_loss):
            raise DlbookError(f"the training loss is {_loss} at epoch {epoch + 1}, step {step + 1}: "
                              f"training diverged; lower --learning-rate (the checkpoint of the "
                              f"previous epoch is kept)")
        n = int(y_batch.shape[0])
        sums.update(step=step + 1, loss_sum=sums["loss_sum"] + _loss * n,
                    correct=sums["correct"] + float(_acc) * n, seen=sums["seen"] + n)
        progbar.update(step + 1, [("loss", sums["loss_sum"] / sums["seen"]),
                                  ("acc", sums["correct"] / sums["seen"])])
        if interrupted:
            break
    return sums


def evaluate(net, eval_step, test_dl):
    """(loss, accuracy) over the whole of ``test_dl``, averaged over images."""
    net.eval()
    loss_sum = correct = seen = 0.0
    for X_batch, y_batch in test_dl:
        _loss, _acc = eval_step(X_batch, y_batch)
        n = int(y_batch.shape[0])
        loss_sum, correct, seen = loss_sum + float(_loss) * n, correct + float(_acc) * n, seen + n
    return loss_sum / seen, correct / seen


def main(argv=None):
    parser = make_parser(prog="dlbook run 1.10.5",
                         description="The book's BatchNorm CNN trained on CIFAR-10 with the Dataloader API. "
                                     "Unless given, --epochs and --batch-size are 10 and 128 (the book's "
                                     "batch size) on CIFAR-10, 15 and 32 on the tiny subset.")
    add_training_args(parser, epochs=None, batch_size=None)
    distribute.add_strategy_args(parser)
    parser.add_argument("--learning-rate", type=positive_float, default=0.0001, help="Adam learning rate")
    parser.add_argument("--augment", choices=("tf", "numpy"), default="tf",
                        help="augmentation in TF ops per batch, or the listing's NumPy _fn_train per image")
    parser.add_argument("--resume", action="store_true",
                        help="continue from the checkpoint in OUTPUT_DIR/cifar10_cnn")
    args = parser.parse_args(argv)
    set_seed(args.seed)
    strategy = distribute.strategy_from_args(args)  # first: a bad TF_CONFIG fails before the data loads
    checkpoint_dir = Path(args.output_dir) / "cifar10_cnn"
    try:  # fail now rather than after an epoch of training
        checkpoint_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create --output-dir {args.output_dir}: {exc.strerror}; "
                         f"give a directory that can be written") from None

    # Data
    location = find_dataset("cifar10", args.data_dir)
    if location.tiny:
        # 500 images in batches of 128 are 4 steps an epoch: too few for the BatchNorm moving
        # averages (decay 0.99, started at 0) to settle, and test accuracy would stay at chance.
        args.batch_size, args.epochs = args.batch_size or 32, args.epochs or 15
    args.batch_size, args.epochs = args.batch_size or 128, args.epochs or 10
    train_dl, test_dl = make_loaders(location.path, args.batch_size, args.augment, args.seed)
    print(f"{len(train_dl.dataset):,} training and {len(test_dl.dataset):,} test images, "
          f"batch size {args.batch_size}, augmentation in {'NumPy' if args.augment == 'numpy' else 'TF ops'}")

    # Model
    with distribute.scope(strategy):
        net = get_model_batchnorm([None, 24, 24, 3])
        optimizer = tf.optimizers.Adam(args.learning_rate)
    train_step, eval_step = make_steps(net, optimizer, None if args.strategy == "default" else strategy)
    start_epoch, partial = 0, None
    if args.resume:
        state = load_checkpoint(checkpoint_dir, net, optimizer)
        if state is None:
            print(f"No checkpoint in {checkpoint_dir}: starting from scratch")
        else:
            start_epoch, partial = state["epoch"], state["extra"].get("partial")
            print(f"Resumed from {state['path']} after epoch {start_epoch}"
                  + (f", step {partial['step']} of epoch {start_epoch + 1}" if partial else ""))
    train_dl.epoch = start_epoch  # the shuffling and augmentation an uninterrupted run would draw
    resume_hint = f"continue with: dlbook run 1.10.5 --resume --output-dir {args.output_dir} (same options)"

    # Train
    with deferred_interrupt(distribute.is_chief(strategy)) as interrupted:
        for epoch in range(start_epoch, args.epochs):
            start_time = time.time()
            sums = train_epoch(net, train_step, train_dl, epoch, args.epochs, partial, interrupted)
            partial = None
            if sums["step"] < len(train_dl):  # Ctrl-C inside the epoch: save where it stopped
                save_checkpoint(checkpoint_dir, net, optimizer, epoch, step=sums["step"], extra={"partial": sums})
                print(f"Checkpoint saved in {checkpoint_dir} (epoch {epoch + 1}, step {sums['step']}); "
                      + resume_hint, flush=True)
                raise KeyboardInterrupt
            train_loss, train_acc = sums["loss_sum"] / sums["seen"], sums["correct"] / sums["seen"]
            train_time = time.time() - start_time
            # Evaluate
            test_loss, test_acc = evaluate(net, eval_step, test_dl)
            if distribute.is_chief(strategy):  # one writer in a multi-worker job
                save_checkpoint(checkpoint_dir, net, optimizer, epoch + 1,
                                extra={"train_loss": train_loss, "train_acc": train_acc,
                                       "test_loss": test_loss, "test_acc": test_acc})
            print(f"   train loss {train_loss:.4f}  train acc {train_acc:.4f}  "
                  f"test loss {test_loss:.4f}  test acc {test_acc:.4f}  "
                  f"({train_time:.1f} s training, {len(train_dl.dataset) / train_time:,.0f} img/s)", flush=True)
            if interrupted:  # pressed during the last step or the evaluation
                print(f"Checkpoint saved in {checkpoint_dir} (epoch {epoch + 1} done); " + resume_hint, flush=True)
                raise KeyboardInterrupt
    if start_epoch >= args.epochs:
        test_loss, test_acc = evaluate(net, eval_step, test_dl)
        print(f"Already trained {start_epoch} epochs: test loss {test_loss:.4f}  test acc {test_acc:.4f}")
    print(f"Checkpoint: {checkpoint_dir / 'checkpoint.h5'}")
    return 0


if __name__ == "__main__":
    from dlbook.cli import run_section
    run_section(main)
