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

``--augment numpy`` runs the listing's NumPy ``_fn_train``, image by image, through
``tf.numpy_function``; ``--augment tf`` (default) the same augmentation in TF ops on whole
batches inside the input pipeline (faster: ``scripts/bench_pipeline.py``). Both draw every crop
and flip from (seed, epoch, image), so ``--resume`` redraws exactly what an uninterrupted run draws.

The run lives in ``--output-dir`` (default ``runs/cifar10_cnn``, a run directory of
:mod:`dlbook.session`): ``model.h5``, ``checkpoint.h5`` and ``run.json`` (options, and per epoch
the training loss and accuracy and the test loss and accuracy) are saved together after every
epoch and on Ctrl-C or SIGTERM; ``--resume`` continues, ``--overwrite`` replaces.

Expected: on the tiny CIFAR-format data in data/tiny (used when the real data is absent; 500
training and 200 test images, so the defaults become batch 32 and 15 epochs) the test accuracy
ends near 78% (chance: 10%) in under a minute. On the real CIFAR-10 (20,000 of its 50,000
training images, as in ../shared/data), ``dlbook run 1.10.5 --data-dir ../shared/data --epochs 50``
reaches 70.7% test accuracy (68.1% after 30 epochs, 60.8% after 10), at about 30 s per epoch
(~800 images/s of training) on 2 CPU cores; the learning rate 0.0001 learns slowly.
"""
# %% [markdown]
# ## Setup
# The listing's imports; `tl.data` (which TensorLayer never released) comes from `dlbook.data`
# (errata tl-data) and the model from `dlbook.models` (the second listing).

# %%
# Setup
import numpy as np

from dlbook import distribute, session
from dlbook.compat import tl
from dlbook.data import CIFAR10, Dataloader
from dlbook.data.locate import find_dataset
from dlbook.data.transforms import test_transform, train_transform
from dlbook.metrics import accuracy
from dlbook.models import get_model_batchnorm
from dlbook.options import add_training_args, make_parser, positive_float
from dlbook.utils import set_seed
import tensorflow as tf

PROG = "dlbook run 1.10.5"
# The options that fix the data, the model and the batch order; --resume checks them.
RUN_KEYS = ("seed", "batch_size", "learning_rate", "augment", "strategy")


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
# ## Training and evaluation steps
# The listing leaves training to the reader: one `tf.GradientTape` step on the cross-entropy,
# compiled with `tf.function`, and an evaluation pass over the test loader.

# %%
def make_steps(net, optimizer, strategy=None):
    """The train step (net in train mode) and the eval step (eval mode), one tf.function each,
    traced once for any batch size (the last partial batch included). With a ``strategy`` the
    train step is data-parallel: each replica trains on its share of every batch."""
    train_weights = net.trainable_weights
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


def evaluate(net, eval_step, test_dl):
    """(loss, accuracy) over the whole of ``test_dl``, averaged over images."""
    net.eval()
    loss_sum = correct = seen = 0.0
    for X_batch, y_batch in test_dl:
        _loss, _acc = eval_step(X_batch, y_batch)
        n = int(y_batch.shape[0])
        loss_sum, correct, seen = loss_sum + float(_loss) * n, correct + float(_acc) * n, seen + n
    return loss_sum / seen, correct / seen


# %% [markdown]
# ## Options
# The command line's options (`dlbook run 1.10.5 --help`).

# %%
def parse_args(argv):
    parser = make_parser(prog=PROG, description="The book's BatchNorm CNN trained on CIFAR-10 with the Dataloader "
                                                "API. Unless given, --epochs and --batch-size are 10 and 128 on "
                                                "CIFAR-10, 15 and 32 on the tiny subset.")
    add_training_args(parser, epochs=None, batch_size=None, output_dir="runs/cifar10_cnn")
    distribute.add_strategy_args(parser)
    parser.add_argument("--learning-rate", type=positive_float, default=0.0001, help="Adam learning rate")
    parser.add_argument("--augment", choices=("tf", "numpy"), default="tf",
                        help="augmentation in TF ops per batch, or the listing's NumPy _fn_train per image")
    return parser.parse_args(argv)


# %% [markdown]
# ## Putting it together
# `main` builds the loaders of the listing, the batch-normalized CNN (`get_model_batchnorm`),
# trains it epoch by epoch with the run saved after each epoch, and prints the test loss and
# accuracy.

# %%
def main(argv=None):
    args = parse_args(argv)
    strategy = distribute.strategy_from_args(args)  # first: a bad TF_CONFIG fails before the data loads
    location = find_dataset("cifar10", args.data_dir)
    # On the 500 tiny images, batches of 128 are 4 steps an epoch: too few for the BatchNorm moving
    # averages (decay 0.99, started at 0) to settle, and test accuracy would stay at chance.
    args.batch_size = args.batch_size or (32 if location.tiny else 128)
    args.epochs = args.epochs or (15 if location.tiny else 10)
    batch_size = args.batch_size
    run = session.open_run(args, argv, prog=PROG, keys=RUN_KEYS, writer=distribute.is_chief(strategy))
    set_seed(args.seed)

    # Load the data, with the augmentation
    train_ds = CIFAR10(train_or_test='train', shape=(-1, 32, 32, 3), path=location.path)  # errata: tl-data
    if args.augment == "numpy":
        train_dl = Dataloader(train_ds, transforms=[_fn_train], shuffle=True,  # errata: tl-data
                              batch_size=batch_size, output_types=(np.float32, np.int32), seed=args.seed)  # errata: tl-data
    else:  # the same augmentation in TF ops, on whole batches
        train_dl = Dataloader(train_ds, batch_transforms=[train_transform], shuffle=True,
                              batch_size=batch_size, output_types=(np.float32, np.int32), seed=args.seed)
    test_ds = CIFAR10(train_or_test='test', shape=(-1, 32, 32, 3), path=location.path)  # errata: tl-data
    test_dl = Dataloader(test_ds, batch_size=batch_size, batch_transforms=[test_transform])  # errata: cifar-test-dl-transform
    run.fix(examples=len(train_ds))
    print(f"{len(train_ds):,} training and {len(test_ds):,} test images, batch size {batch_size}, "
          f"augmentation in {'NumPy' if args.augment == 'numpy' else 'TF ops'}")

    # Build the model
    with distribute.scope(strategy):
        net = get_model_batchnorm([None, 24, 24, 3])
        optimizer = tf.optimizers.Adam(args.learning_rate)
        run.restore(net, optimizer)  # a resumed run: its weights, Adam's state, where it stopped
    train_step, eval_step = make_steps(net, optimizer, None if args.strategy == "default" else strategy)

    # Train and test: the listing's `for X_batch, y_batch in train_dl:`, once per epoch
    first_epoch = run.epoch
    with run:
        for epoch in run.epochs(args.epochs, len(train_dl)):
            train_dl.seek(epoch, run.step)  # this epoch's order and crops, from where a --resume left off
            net.train()
            for X_batch, y_batch in train_dl:
                _loss, _acc = train_step(X_batch, y_batch)
                run.record(_loss, acc=_acc, n=len(y_batch))
            test_loss, test_acc = evaluate(net, eval_step, test_dl)
            run.end_epoch(test_loss=test_loss, test_acc=test_acc)
    if run.epoch > first_epoch:
        test_loss, test_acc = run.history["test_loss"][-1], run.history["test_acc"][-1]
    else:  # nothing left to train (a --resume of a finished run)
        test_loss, test_acc = evaluate(net, eval_step, test_dl)
    print(f"after {run.epoch} epochs: test loss {test_loss:.4f}, test accuracy {test_acc:.4f}; "
          f"the run is in {args.output_dir}")
    return 0


# %% [markdown]
# ## Parameters
# The section's command-line options for a notebook run, with underscores for dashes
# (`{"epochs": 15}` is `--epochs 15`). The quick values here train for a moment on the tiny data in
# `data/tiny` (used when the real data is absent), in a run directory of its own that each run of
# the notebook replaces (`overwrite`); the book's values are the command line's defaults
# (`dlbook run 1.10.5 --help`). The command line ignores this dict and reads its own options.

# %% tags=["parameters"]
options = dict(epochs=5, output_dir="runs/notebook-1.10.5", overwrite=True)

# %% [markdown]
# ## Run
# Prints the data used, a line per epoch and the test accuracy at the end.

# %%
if __name__ == "__main__":
    from dlbook.entry import run_section
    run_section(main)
