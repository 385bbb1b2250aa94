"""Train the 1.10.5 CNN on CIFAR-10 with a recipe of the chapter's techniques (dlbook.recipes)
and write its per-epoch history as JSON: the exploration behind ``Recipe`` / ``TUNED``.

A plain loop: a compiled GradientTape step (loss + the recipe's weight penalty), the test set
evaluated after every epoch, the recipe's early stopping on images held out of the training set.
The history (written after every epoch, atomically) holds the recipe, the seed, the data and a
row per epoch: epoch, train_loss (cross-entropy without the penalty), train_acc, test_loss,
test_acc, val_acc (with early stopping), lr (the learning rate at the end of the epoch),
seconds (training only); with early stopping also the epoch whose weights were restored and
their test accuracy.

    python scripts/cifar_recipe.py --recipe tuned --out runs/tuned.json
    python scripts/cifar_recipe.py --recipe tuned --set weight_decay=0 --set dense_keep=0.5 --out x.json
    nice -n 19 python scripts/cifar_recipe.py --recipe book --epochs 30 --out book.json   # ~10-25 min

Uses the CIFAR-10 in --data-dir (default ../shared/data); --train-images N keeps the first N
training images (a quick check).
"""
import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from dlbook import recipes
from dlbook.compat import tl
from dlbook.data import CIFAR10, Dataloader
from dlbook.data.dataset import ArrayDataset
from dlbook.data.paths import find_dataset
from dlbook.errors import DlbookError, UsageError
from dlbook.fileio import atomic_path
from dlbook.metrics import accuracy
from dlbook.utils import set_seed
import tensorflow as tf

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def parse_set(text):
    """``field=value`` -> (field, value converted to the field's type)."""
    field, _, value = text.partition("=")
    types = {f.name: f.type for f in dataclasses.fields(recipes.Recipe)}
    if field not in types or not value:
        raise UsageError(f"--set {text!r}: give FIELD=VALUE with FIELD one of {', '.join(types)}")
    if types[field] is bool:
        return field, value.lower() in ("1", "true", "yes", "on")
    return field, types[field](value)


def make_steps(net, optimizer, penalty):
    """Compiled train and eval steps; the train step differentiates loss + penalty()."""
    weights = net.trainable_weights
    optimizer.build(weights)
    batch = [tf.TensorSpec([None, 24, 24, 3], tf.float32), tf.TensorSpec([None], tf.int32)]

    @tf.function(input_signature=batch)
    def train_step(X_batch, y_batch):
        with tf.GradientTape() as tape:
            logits = net(X_batch)
            loss = tl.cost.cross_entropy(logits, y_batch, name='train_loss')
            total = loss + penalty() if penalty is not None else loss
        optimizer.apply_gradients(zip(tape.gradient(total, weights), weights))
        return loss, accuracy(logits, y_batch)

    @tf.function(input_signature=batch)
    def eval_step(X_batch, y_batch):
        logits = net(X_batch)
        return tl.cost.cross_entropy(logits, y_batch, name='eval_loss'), accuracy(logits, y_batch)

    return train_step, eval_step


def run_epoch(step, loader):
    """Mean loss and accuracy of ``step`` over ``loader``, weighted by batch size."""
    loss_sum = correct = seen = 0.0
    for X_batch, y_batch in loader:
        loss, acc = step(X_batch, y_batch)
        n = int(y_batch.shape[0])
        loss_sum, correct, seen = loss_sum + float(loss) * n, correct + float(acc) * n, seen + n
    return loss_sum / seen, correct / seen


def write_json(path, data):
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(data, indent=1) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipe", choices=sorted(recipes.RECIPES), default="tuned")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="change one Recipe field (repeatable)")
    parser.add_argument("--epochs", type=int, help="override the recipe's epochs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default=str(SHARED_DATA))
    parser.add_argument("--train-images", type=int, help="use only the first N training images")
    parser.add_argument("--out", required=True, help="history JSON to write")
    args = parser.parse_args(argv)

    changes = dict(parse_set(s) for s in args.set)
    if args.epochs:
        changes["epochs"] = args.epochs
    recipe = dataclasses.replace(recipes.RECIPES[args.recipe], **changes)
    set_seed(args.seed)

    location = find_dataset("cifar10", args.data_dir)
    if location.tiny:
        raise DlbookError(f"no real CIFAR-10 in {args.data_dir}: this script is for the real data")
    train_ds = CIFAR10('train', path=location.path)
    test_ds = CIFAR10('test', path=location.path)
    X, y = train_ds.arrays()
    if args.train_images:
        X, y = X[:args.train_images], y[:args.train_images]
    train_fn, test_fn = recipes.transforms(recipe)
    val_dl = None
    if recipe.early_stopping:  # the last images of the training set watch for overfitting
        X, y, X_val, y_val = X[:-recipe.validation_images], y[:-recipe.validation_images], \
            X[-recipe.validation_images:], y[-recipe.validation_images:]
        val_dl = Dataloader(ArrayDataset(X_val, y_val), batch_transforms=[test_fn], batch_size=500,
                            output_types=(np.float32, np.int32))
    train_dl = Dataloader(ArrayDataset(X, y), batch_transforms=[train_fn], shuffle=True,
                          batch_size=recipe.batch_size, output_types=(np.float32, np.int32), seed=args.seed)
    test_dl = Dataloader(test_ds, batch_transforms=[test_fn], batch_size=500, output_types=(np.float32, np.int32))

    net = recipes.build_model(recipe)
    optimizer = recipes.build_optimizer(recipe, len(train_dl))
    train_step, eval_step = make_steps(net, optimizer, recipes.weight_penalty(recipe, net))
    stopper = recipes.early_stopping(recipe, net)
    history = {"recipe": dataclasses.asdict(recipe), "seed": args.seed, "train_images": len(X),
               "test_images": len(test_ds), "validation_images": 0 if val_dl is None else len(val_dl.dataset),
               "command": "python " + " ".join([sys.argv[0]] + (argv if argv is not None else sys.argv[1:])),
               "cpus": os.cpu_count(), "epochs": []}
    print(f"{recipe}\n{len(X):,} training, {len(test_ds):,} test images", flush=True)
    if stopper is not None:
        stopper.on_train_begin()
    for epoch in range(recipe.epochs):
        start = time.time()
        net.train()
        train_loss, train_acc = run_epoch(train_step, train_dl)
        seconds = time.time() - start
        if not np.isfinite(train_loss):
            history["diverged"] = epoch + 1
            write_json(args.out, history)
            print(f"epoch {epoch + 1}: the training loss is {train_loss}: diverged", flush=True)
            return 1
        net.eval()
        test_loss, test_acc = run_epoch(eval_step, test_dl)
        row = {"epoch": epoch + 1, "train_loss": train_loss, "train_acc": train_acc, "test_loss": test_loss,
               "test_acc": test_acc, "lr": recipes.current_learning_rate(optimizer), "seconds": seconds}
        if val_dl is not None:
            row["val_acc"] = run_epoch(eval_step, val_dl)[1]
        history["epochs"].append(row)
        write_json(args.out, history)
        print(" ".join(f"{k} {v:.4g}" for k, v in row.items()), flush=True)
        if stopper is not None:
            stopper.on_epoch_end(epoch, {"val_acc": row["val_acc"]})
            if stopper.model.stop_training:
                break
    if stopper is not None:
        stopper.on_train_end()
        net.eval()
        history["restored_epoch"] = stopper.best_epoch + 1
        history["restored_test_acc"] = run_epoch(eval_step, test_dl)[1]
        write_json(args.out, history)
        print(f"restored epoch {history['restored_epoch']}: test acc {history['restored_test_acc']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
