"""
Title: BatchNorm CNN on CIFAR-10 (section 1.10.5)
Description: the book's CNN with batch normalization, fed by its Dataset / Dataloader API with augmentation.

The listing, in its order: the augmentation ``_fn_train``; ``train_ds = tl.data.CIFAR10(...)``,
``train_dl = tl.data.Dataloader(train_ds, transforms=[_fn_train], shuffle=True, ...)``,
``test_ds``, ``test_dl``; ``for X_batch, y_batch in train_dl:`` around the training code; and the
model ``get_model_batchnorm`` (``dlbook/models/cnn.py``, built here for 24x24 crops: two 5x5x64
convolutions, each with BatchNorm2d and 3x3/2 max-pooling, then Dense 384-192-10; 1,068,426
trainable parameters). TensorLayer never released ``tl.data``; ``dlbook.data`` provides it on
tf.data (errata tl-data). Printed lines are changed in place where needed (``# errata:``,
docs/errata.md): the printed ``_fn_train`` crops the centre, does not normalize and draws from
NumPy's global generator, and the printed ``test_dl`` feeds 32x32 images to a model trained on
24x24 crops. Training (the listing leaves it to the reader, with no
batch size or optimizer): Adam with 1.10.4's learning rate 0.0001 and batches of 128, in a
``tf.GradientTape`` step compiled with ``tf.function``.

``--recipe tuned`` trains the same printed model with the chapter's own toolkit
(:mod:`dlbook.recipes`): SGD with Nesterov momentum at 0.05 (1.6.2), a 2-epoch warm-up then a
cosine decay to 0 (1.6.2), an L2 penalty of 1e-3 on the kernels added to the loss (1.7.2, (1.23)),
30 epochs. Each technique is also an option of its own, set or switched off one at a time:
``--optimizer``, ``--learning-rate``, ``--schedule``, ``--warmup-epochs``, ``--weight-decay``,
``--dense-keep`` (dropout after the hidden Dense layers, 1.7.3), ``--batch-norm on|off`` (1.7.4),
``--augment off`` and ``--early-stopping PATIENCE`` (1.7.5: watches ``--validation-images`` held
out of the training set and restores the best epoch's weights at the end).

``--augment numpy`` runs the listing's NumPy ``_fn_train``, image by image, through
``tf.numpy_function``; ``--augment tf`` (default) the same augmentation in TF ops on whole
batches inside the input pipeline (faster: ``scripts/bench_pipeline.py``). Both draw every crop
and flip from (seed, epoch, image), so ``--resume`` redraws exactly what an uninterrupted run draws.

The run lives in ``--output-dir`` (default ``runs/cifar10_cnn``, a run directory of
:mod:`dlbook.session`): ``model.h5``, ``checkpoint.h5`` and ``run.json`` (options and recipe, and
per epoch the training loss and accuracy, the test loss and accuracy, the learning rate, the
validation accuracy with early stopping, and the seconds) are saved together after every epoch
and on Ctrl-C or SIGTERM, with ``best.h5`` under early stopping; ``--resume`` continues
exactly (schedule, dropout masks and early-stopping counters included), ``--overwrite`` replaces.

Expected: on the tiny CIFAR-format data in data/tiny (used when the real data is absent; 500
training and 200 test images, so the defaults become batch 32 and 15 epochs) the test accuracy
ends near 78% (chance: 10%) in under a minute. On the real CIFAR-10 (20,000 of its 50,000
training images, as in ../shared/data), ``dlbook run 1.10.5 --data-dir ../shared/data --epochs 50``
reaches 70.7% test accuracy (68.1% after 30 epochs, 60.8% after 10), at about 30 s per epoch
(~800 images/s of training) on 2 CPU cores; the learning rate 0.0001 learns slowly.
``--recipe tuned`` reaches 77.5% in its 30 epochs on the same images (77.2-78.0% over seeds 0-2;
README: the ablation).
"""
# %% [markdown]
# ## Setup
# The listing's imports; `tl.data` (which TensorLayer never released) comes from `dlbook.data`
# (errata tl-data) and the model from `dlbook.models` (the second listing).

# %%
# Setup
import numpy as np

from dlbook import distribute, precision, recipes, session, train
from dlbook.compat import tl
from dlbook.data import CIFAR10, Dataloader
from dlbook.data.locate import find_dataset
from dlbook.data.transforms import test_transform
from dlbook.metrics import accuracy
from dlbook.models import get_model_batchnorm
from dlbook.options import add_training_args, make_parser
from dlbook.seed import set_seed
import tensorflow as tf

PROG = "dlbook run 1.10.5"
# The options that fix the data, the model and the batch order; --resume checks them (and the
# recipe's fields, recipes.fixed_fields).
RUN_KEYS = ("seed", "batch_size", "augment", "strategy", "precision")


# %% [markdown]
# ## Augmentation
# The listing's `_fn_train`: a random 24x24 crop, a random horizontal flip, then per-image
# normalization, drawn from a seed so that a resumed run draws the same crops.

# %%
# The listing's augmentation, one image at a time in NumPy. Its random draws come from ``seed``
# (given by the Dataloader, from the seed, the epoch and the image), so a resumed run redraws them.
def _fn_train(img, target, seed=None):  # errata: augment-global-rng
    rng = np.random.default_rng(None if seed is None else np.asarray(seed, np.int64) % 2**32)
    # 1. randomly crop a 24 x 24 piece of the image
    top, left = rng.integers(0, img.shape[0] - 24 + 1), rng.integers(0, img.shape[1] - 24 + 1)
    img = img[top:top + 24, left:left + 24]  # errata: crop-random
    # 2. randomly flip the image left to right
    img = tl.prepro.flip_axis(img, axis=1) if rng.uniform() < 0.5 else img  # errata: augment-global-rng
    # 3. normalize: subtract the mean of the pixels and divide by their standard deviation
    img = (img - img.mean()) / max(float(img.std()), img.size ** -0.5)  # errata: samplewise-norm
    target = np.reshape(target, ())
    return img, target


# %% [markdown]
# ## Training and evaluation
# The listing leaves training to the reader. `dlbook.train` runs it, the same loop as 1.10.4's
# `fit`: one `tf.GradientTape` step on the cross-entropy (plus the recipe's weight penalty,
# 1.7.2), compiled once, per batch of `train_dl`; after each epoch the test loader's loss and
# accuracy, and with early stopping the held-out images' accuracy.

# %%
BATCH = [tf.TensorSpec([None, 24, 24, 3], tf.float32), tf.TensorSpec([None], tf.int32)]


def evaluation(net, optimizer, test_dl, val_dl=None, compute_dtype=None):
    """What each epoch reports after training: test loss and accuracy, the learning rate, and
    with early stopping the validation accuracy (what it watches)."""
    step = train.eval_step(net, tl.cost.cross_entropy, accuracy, signature=BATCH, compute_dtype=compute_dtype)

    def evaluate():
        row = {**train.evaluate(step, test_dl, prefix="test_"), "lr": recipes.current_learning_rate(optimizer)}
        return row if val_dl is None else {**row, **train.evaluate(step, val_dl, prefix="val_")}
    return evaluate


# %% [markdown]
# ## Options
# The command line's options (`dlbook run 1.10.5 --help`).

# %%
def parse_args(argv):
    parser = make_parser(prog=PROG, description="The book's BatchNorm CNN trained on CIFAR-10 with the Dataloader "
                                                "API, by the listing's recipe or a tuned one (--recipe). Unless "
                                                "given, --epochs is 10 (book), 30 (tuned) or 20 (fast) on CIFAR-10 and 15 "
                                                "on the tiny subset; --batch-size 128, or 32 on the tiny subset.")
    add_training_args(parser, epochs=None, batch_size=None, output_dir="runs/cifar10_cnn")
    distribute.add_strategy_args(parser)
    parser.add_argument("--augment", choices=("tf", "numpy", "off"), default="tf",
                        help="1.7.5: the augmentation in TF ops per batch, or the listing's NumPy _fn_train "
                             "per image; off: the test images' central crop")
    recipes.add_recipe_args(parser)
    return parser.parse_args(argv)


# %% [markdown]
# ## Putting it together
# `main` builds the loaders of the listing, the batch-normalized CNN (`get_model_batchnorm`) and
# the optimizer of the recipe (`--recipe book`: the listing's Adam 1e-4; `--recipe tuned`: 1.6-1.7's
# techniques, each its own option), trains it epoch by epoch with the run saved after each epoch,
# and prints the test loss and accuracy.

# %%
def load_data(args, recipe, location):
    """The listing's datasets and loaders: (train_dl, test_dl, val_dl or None)."""
    batch_size, val_dl = args.batch_size, None
    # Load the data, with the augmentation
    train_ds = CIFAR10(train_or_test='train', shape=(-1, 32, 32, 3), path=location.path)  # errata: tl-data
    if recipe.early_stopping:  # 1.7.5: images held out of the training set choose when to stop
        train_ds, val_ds = recipes.hold_out(train_ds, recipe.validation_images)
        val_dl = Dataloader(val_ds, batch_size=batch_size, batch_transforms=[test_transform])
    if args.augment == "numpy":
        train_dl = Dataloader(train_ds, transforms=[_fn_train], shuffle=True,  # errata: tl-data
                              batch_size=batch_size, output_types=(np.float32, np.int32), seed=args.seed)  # errata: tl-data
    else:  # the same augmentation in TF ops, on whole batches (or, with --augment off, the central crop)
        train_dl = Dataloader(train_ds, batch_transforms=[recipes.transforms(recipe)[0]], shuffle=True,
                              batch_size=batch_size, output_types=(np.float32, np.int32), seed=args.seed)
    test_ds = CIFAR10(train_or_test='test', shape=(-1, 32, 32, 3), path=location.path)  # errata: tl-data
    test_dl = Dataloader(test_ds, batch_size=batch_size, batch_transforms=[test_transform])  # errata: cifar-test-dl-transform
    print(f"{len(train_ds):,} training and {len(test_ds):,} test images, batch size {batch_size}, "
          f"augmentation {'off' if args.augment == 'off' else 'in NumPy' if args.augment == 'numpy' else 'in TF ops'}"
          f"; recipe {args.recipe}: {recipes.describe(recipe)}")
    return train_dl, test_dl, val_dl


def epochs_of(train_dl):
    """The listing's loop over ``train_dl``, one epoch from step ``step`` on (where a --resume left off)."""
    def batches(epoch, step):
        train_dl.seek(epoch, step)  # this epoch's order and crops
        for X_batch, y_batch in train_dl:
            yield X_batch, y_batch  # the training code: dlbook.train's step, one per batch
    return batches


def main(argv=None):
    args = parse_args(argv)
    strategy = distribute.strategy_from_args(args)  # first: a bad TF_CONFIG fails before the data loads
    args.precision, why = precision.resolve(  # auto: what this machine runs fast; fixed by the run
        args.precision or recipes.PRECISION.get(args.recipe))
    location = find_dataset("cifar10", args.data_dir)
    # On the 500 tiny images, batches of 128 are 4 steps an epoch: too few for the BatchNorm moving
    # averages (decay 0.99, started at 0) to settle, and test accuracy would stay at chance.
    args.batch_size = args.batch_size or (32 if location.tiny else 128)
    args.epochs = args.epochs or (15 if location.tiny else 10 if args.recipe == "book"
                                  else recipes.RECIPES[args.recipe].epochs)
    if location.tiny and args.validation_images is None:  # the recipe's 2,000 are more than the tiny set
        args.validation_images = 50
    recipe = recipes.recipe_from_args(args, epochs=args.epochs, batch_size=args.batch_size)
    run = session.open_run(args, argv, prog=PROG, keys=RUN_KEYS, writer=distribute.is_chief(strategy))
    run.fix(**recipes.fixed_fields(recipe))
    set_seed(args.seed)
    train_dl, test_dl, val_dl = load_data(args, recipe, location)
    print(precision.line(args.precision, why))
    run.fix(examples=len(train_dl.dataset))

    # Build the model
    with distribute.scope(strategy):
        net = run.build(get_model_batchnorm, [None, 24, 24, 3], dense_keep=recipe.dense_keep,  # recorded in run.json
                        batch_norm=recipe.batch_norm)
        optimizer = recipes.build_optimizer(recipe, len(train_dl))  # the listing: tf.optimizers.Adam(0.0001)
        run.restore(net, optimizer)  # a resumed run: its weights, the optimizer's state, where it stopped

    # Train and test: the cross-entropy (+ the recipe's weight penalty), one step per batch
    step = train.train_step(net, optimizer, tl.cost.cross_entropy, metric=accuracy,
                            penalty=recipes.weight_penalty(recipe, net), signature=BATCH + [train.POSITION],
                            strategy=None if args.strategy == "default" else strategy,
                            compute_dtype=precision.COMPUTE_DTYPES[args.precision])
    hooks = [train.EarlyStopping(run, net, patience=recipe.early_stopping, monitor="val_acc", mode="max")
             ] if recipe.early_stopping else []
    hooks += [train.TensorBoard(args.tensorboard)] if args.tensorboard else []
    evaluate = evaluation(net, optimizer, test_dl, val_dl, precision.COMPUTE_DTYPES[args.precision])
    first_epoch = run.epoch
    train.train_epochs(run, step, epochs_of(train_dl), args.epochs, steps=len(train_dl), seed=args.seed,
                       evaluation=evaluate, hooks=hooks)
    report(run, evaluate, hooks[0] if recipe.early_stopping else None, first_epoch, args.output_dir)
    return 0


def report(run, evaluate, stopper, first_epoch, output_dir):
    """The final test loss and accuracy (of the best epoch's weights, with early stopping)."""
    if stopper is not None and (best := stopper.restore()) is not None:
        row = evaluate()
        run.state["restored"] = {"epoch": best, "test_loss": row["test_loss"], "test_acc": row["test_acc"]}
        run.save()  # model.h5 now holds the best epoch's weights
        print(f"early stopping: restored the weights of epoch {best} (best validation accuracy)")
    elif run.epoch > first_epoch:
        row = {key: run.history[key][-1] for key in ("test_loss", "test_acc")}
    else:  # nothing left to train (a --resume of a finished run)
        row = evaluate()
    print(f"after {run.epoch} epochs: test loss {row['test_loss']:.4f}, test accuracy {row['test_acc']:.4f}; "
          f"the run is in {output_dir}")


# %% [markdown]
# ## Parameters
# The section's command-line options for a notebook run, with underscores for dashes
# (`{"epochs": 15}` is `--epochs 15`). The quick values here train for a moment on the tiny data in
# `data/tiny` (used when the real data is absent), in a run directory of its own that each run of
# the notebook replaces (`overwrite`); the book's values are the command line's defaults
# (`dlbook run 1.10.5 --help`). `recipe="tuned"` (or `weight_decay=0`, `dense_keep=0.5`, ...) trains
# with the chapter's techniques. The command line ignores this dict and reads its own options.

# %% tags=["parameters"]
options = dict(epochs=5, output_dir="runs/notebook-1.10.5", overwrite=True, recipe="book")

# %% [markdown]
# ## Run
# Prints the data used, a line per epoch and the test accuracy at the end; in a notebook, then
# the run's loss and accuracy per epoch (`dlbook plot RUN_DIR` from the command line).

# %%
if __name__ == "__main__":
    from dlbook.cli.entry import run_section
    run_section(main)
