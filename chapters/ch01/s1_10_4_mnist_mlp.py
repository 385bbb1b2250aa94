"""
Title: MLP on MNIST (section 1.10.4)
Description: the book's multilayer perceptron trained on MNIST with fit / test, saved, reloaded.

The listing, in its order: load MNIST as [N, 784]; build the static model Input -> Dropout(0.8) ->
Dense(800, relu) -> Dropout(0.5) -> Dense(800, relu) -> Dropout(0.5) -> Dense(10) (1,276,810
parameters); the accuracy ``acc`` in TF ops; ``tl.utils.fit(network, train_op=Adam(0.0001),
cost=tl.cost.cross_entropy, ..., batch_size=256, n_epoch=20, X_val, y_val, eval_train=True)``;
``tl.utils.test(...)``; ``network.save_weights('model.h5')``. Each printed line is below as
printed, or changed in place: where the book is wrong or names a broken API (``# errata:``,
docs/errata.md), or where the value is a command-line option whose default is the printed one
(``# book:`` and the printed line). Then ``model.h5`` is reloaded into a fresh model, which must
compute bit-equal logits.

The run lives in ``--output-dir`` (default ``runs/mnist_mlp``), a run directory of
:mod:`dlbook.session`: ``model.h5``, ``checkpoint.h5`` and ``run.json`` are saved together after
every epoch and on Ctrl-C or SIGTERM (after the steps under way); ``--resume`` continues a run
exactly as if it had not stopped, ``--overwrite`` replaces one.

Data: the real MNIST from ``--data-dir`` (default ``$DLBOOK_DATA_DIR`` or ``./data``: 50,000
training, 10,000 validation, 10,000 test images); when it is absent, the tiny MNIST-format
subset shipped in ``data/tiny`` (3,000 images; the run says so), or, with ``--download``, the
real files fetched first.

Prints the data used, one line per epoch (loss and accuracy on the training and validation
sets), the test loss and accuracy, where the weights went, the reload check, and at the end
``test accuracy: ...``. Measured on the real MNIST (seed 0, 2 shared CPU cores): 97.30% with the
defaults (20 epochs), 98.16% after ``--epochs 40 --resume``, about 7-8 s per epoch; TensorLayer's own
tl.utils.fit reaches 97.4% and 98.2% with these settings. On the tiny subset: about 95% in
20 epochs, a few seconds of training.
"""
# %% [markdown]
# ## Setup
# The listing's imports, with dlbook's replacements for the TensorLayer helpers that break
# (`dlbook.compat`, `dlbook.train.fit`/`test`; docs/errata.md).

# %%
# Setup
import statistics

from dlbook.compat import tl
import numpy as np
import tensorflow as tf

from dlbook import distribute, precision, session
from dlbook.files.checkpoints import load_weights
from dlbook.data import find_dataset, load_mnist_dataset
from dlbook.errors import CheckpointError
from dlbook.models.mlp import BOOK_KEEP, get_mlp_model
from dlbook.options import add_training_args, make_parser, positive_float
from dlbook.seed import set_seed
from dlbook.train import fit, predict, test

PROG = "dlbook run 1.10.4"
# The options that fix the run (with fit's own: the data and the batch order); --resume checks them.
RUN_KEYS = ("seed", "batch_size", "learning_rate", "strategy", "precision")


# %% [markdown]
# ## The data
# MNIST as rows of 784 pixels: 50,000 training, 10,000 validation and 10,000 test images, or
# the tiny subset in `data/tiny` when the real files are absent.

# %%
# Load the data
def load_data(data_dir=None, download=False):
    """The listing's MNIST, images as rows of 784 pixels: the real files, else the tiny subset."""
    location = find_dataset("mnist", data_dir, download=download)
    X_train, y_train, X_val, y_val, X_test, y_test = load_mnist_dataset(shape=(-1, 784), path=location.path)  # errata: mnist-pixel-divisor
    print(f"training on {len(X_train):,} images, validating on {len(X_val):,}, testing on {len(X_test):,}")
    return X_train, y_train, X_val, y_val, X_test, y_test


# %% [markdown]
# ## The model
# The listing's static MLP: dropout on the input (keep 0.8), two ReLU layers of 800 units each
# followed by dropout (keep 0.5), and 10 logits; 1,276,810 parameters.

# %%
# Build the model
def get_model():
    """The listing's model, line for line."""
    ni = tl.layers.Input([None, 784])
    nn = tl.layers.Dropout(keep=0.8)(ni)
    nn = tl.layers.Dense(n_units=800, act=tf.nn.relu)(nn)
    nn = tl.layers.Dropout(keep=0.5)(nn)
    nn = tl.layers.Dense(n_units=800, act=tf.nn.relu)(nn)
    nn = tl.layers.Dropout(keep=0.5)(nn)
    nn = tl.layers.Dense(n_units=10, act=None)(nn)
    network = tl.models.Model(inputs=ni, outputs=nn, name=None)  # errata: mlp-model-name
    return network


# %% [markdown]
# ## The accuracy
# The fraction of images whose largest logit is the right class; it is reported, not trained on.

# %%
# The accuracy: unlike the loss, not used to update the model
def acc(_logits, y_batch):
    """The listing's accuracy, in TF ops (it also runs inside fit's compiled train step)."""
    return tf.reduce_mean(
        tf.cast(
            tf.equal(
                tf.argmax(_logits, 1),
                tf.convert_to_tensor(y_batch, tf.int64)),
            tf.float32),
        name='accuracy'
    )


# %% [markdown]
# ## Options
# The command line's options: the book's values are the defaults.

# %%
def parse_args(argv):
    parser = make_parser(prog=PROG, description="The book's MLP on MNIST: fit, test, save model.h5, reload.")
    add_training_args(parser, epochs=20, batch_size=256, output_dir="runs/mnist_mlp")
    distribute.add_strategy_args(parser)
    parser.add_argument("--learning-rate", type=positive_float, default=0.0001, help="Adam learning rate")
    parser.add_argument("--download", action="store_true",
                        help="download the real MNIST into the data directory when it is missing")
    return parser.parse_args(argv)


# %% [markdown]
# ## Train, test, save
# `main` trains with Adam on the cross-entropy (`fit`), prints the loss and accuracy on the
# training and validation sets after each epoch, tests once, and saves `model.h5` in the run
# directory; `check_reload` then loads the file into a fresh model, which must give exactly the
# same logits.

# %%
def main(argv=None):
    args = parse_args(argv)
    strategy = distribute.strategy_from_args(args)  # first: a bad TF_CONFIG fails before the data loads
    args.precision, why = precision.resolve(args.precision)  # auto: what this machine runs fast; fixed by the run
    run = session.open_run(args, argv, prog=PROG, keys=RUN_KEYS, writer=distribute.is_chief(strategy))
    set_seed(args.seed)

    X_train, y_train, X_val, y_val, X_test, y_test = load_data(args.data_dir, args.download)
    print(precision.line(args.precision, why))
    with distribute.scope(strategy):
        network = get_model()
        run.record_model(get_mlp_model, [None, 784], keep=BOOK_KEEP)  # how export rebuilds it (run.json)
        train_op = tf.optimizers.Adam(learning_rate=args.learning_rate)

    # Train
    history = fit(  # errata: fit-partial-batch
        network,
        train_op=train_op,  # book: train_op=tf.optimizers.Adam(learning_rate=0.0001),
        cost=tl.cost.cross_entropy,
        X_train=X_train, y_train=y_train,
        acc=acc,
        batch_size=args.batch_size,  # book: batch_size=256,
        n_epoch=args.epochs,  # book: n_epoch=20,
        X_val=X_val, y_val=y_val, eval_train=True,
        seed=args.seed, session=run, strategy=None if args.strategy == "default" else strategy,  # added: resumable runs
        tensorboard_dir=args.tensorboard,  # added: TensorBoard logs
        precision=args.precision,  # added: mixed precision (--precision)
    )
    if history["time"]:
        print(f"time per epoch: {statistics.median(history['time']):.1f} s (median of {len(history['time'])})")

    # Test
    test(  # errata: fit-partial-batch
        network,
        acc=acc,
        X_test=X_test, y_test=y_test,
        batch_size=None,
        cost=tl.cost.cross_entropy
    )

    # Save the weights
    weights_path = run.save_weights(network, 'model.h5')  # errata: weights-h5-check-first
    if weights_path is None:  # a worker of a multi-worker job other than the first: nothing written
        return 0
    print(f"weights saved to {weights_path}")
    check_reload(network, weights_path, X_test, y_test)
    return 0


# %%
def check_reload(network, weights_path, X_test, y_test):
    """Load ``weights_path`` into a fresh model: it must compute bit-equal logits."""
    reloaded = get_model()
    load_weights(reloaded, weights_path)
    logits, reloaded_logits = predict(network, X_test), predict(reloaded, X_test)
    if not np.array_equal(logits, reloaded_logits):
        raise CheckpointError(f"{weights_path} reloaded into a fresh model gives other logits "
                              f"than the trained model: the file does not hold its weights")
    print(f"reloaded {weights_path} into a fresh model: bit-equal logits, "
          f"test accuracy {float(acc(reloaded_logits, y_test)):.4f}")
    print(f"test accuracy: {float(acc(logits, y_test)):.4f}")


# %% [markdown]
# ## Parameters
# The section's command-line options for a notebook run, with underscores for dashes
# (`{"epochs": 20}` is `--epochs 20`). The quick values here train for a moment on the tiny data in
# `data/tiny` (used when the real data is absent), in a run directory of its own that each run of
# the notebook replaces (`overwrite`); the book's values are the command line's defaults
# (`dlbook run 1.10.4 --help`). The command line ignores this dict and reads its own options.

# %% tags=["parameters"]
options = dict(epochs=10, batch_size=256, data_dir=None, output_dir="runs/notebook-1.10.4", overwrite=True)

# %% [markdown]
# ## Run
# Prints which data is used, one line per epoch, the test loss and accuracy, where the weights
# went, the reload check and the final `test accuracy`; in a notebook, then the run's loss and
# accuracy per epoch (`dlbook plot RUN_DIR` draws them from the command line).

# %%
if __name__ == "__main__":
    from dlbook.cli.entry import run_section
    run_section(main)
