"""
Title: Tensors and tf.GradientTape (Listings 1.1 and 1.2)
Description: eager tensors, a matrix product, and the GradientTape training loop on a TL model.

Listing 1.1 multiplies two constant integer matrices eagerly: the result is a tensor that holds
its value and can be printed at once, ``[[5], [5]]`` of shape (2, 1) and dtype int32. (The text
of 1.10.1 describes TensorFlow 1's tensors, which held no value until a session ran them; TF 2
has no session: errata tf1-tensors. Only the product is printed here, not the listing's commented
tensors: errata listing-1.1-output.)

Listing 1.2 is the training loop ``train(model, dataset, optimizer)``: forward under a
``tf.GradientTape``, a loss, ``tape.gradient`` over ``model.trainable_weights``,
``optimizer.apply_gradients``. Its lines are below as printed; the listing calls ``loss_fn``
without defining it (errata: listing-1.2-loss-fn), so here ``loss_fn`` is ``tl.cost.cross_entropy``
(softmax cross-entropy on logits, integer labels). It runs on a real TensorLayer model
(``dlbook.models.MLPModel``, put in ``train()`` mode before the loop) on a small synthetic
3-class problem (1,024 points in 20 dimensions labelled by a random linear teacher).

Prints the product, then the loss and accuracy on the 1,024 points before training and after
each epoch. Expected (seed 0, CPU): the loss falls from about 1.1 (ln 3 = 1.0986 is chance) to
below 0.1 and the accuracy rises from about 1/3 to above 95% in 5 epochs.
The tape's gradients are checked against central finite differences in
tests/test_sections_1_10_1_to_4.py.
"""
# %% [markdown]
# ## Setup
# Importing `dlbook.compat` first applies dlbook's fixes to TensorLayer 2.2.5 (docs/errata.md);
# then come the listings' own imports.

# %%
# Setup: dlbook.compat first applies the TensorLayer fixes (docs/errata.md), then the listings' imports
import dlbook.compat  # noqa: F401
import tensorflow as tf
import tensorlayer as tl
import numpy as np

from dlbook.metrics import accuracy
from dlbook.models import MLPModel
from dlbook.options import add_seed_arg, make_parser, positive_int
from dlbook.seed import set_seed


# %% [markdown]
# ## Listing 1.1: eager tensors
# In TensorFlow 2 an operation runs at once and returns a tensor that holds its value (no graph,
# no session: the chapter's text describes TensorFlow 1, errata tf1-tensors): a 2x2 integer
# matrix times a 2x1 one gives a 2x1 int32 tensor.

# %%
# Listing 1.1
def listing_1_1():
    a = tf.constant([[1, 2], [1, 2]])
    b = tf.constant([[1], [2]])
    c = tf.matmul(a, b)  # eager: the value exists as soon as the line runs
    return c


# %% [markdown]
# ## Listing 1.2: a training loop with `tf.GradientTape`
# The forward pass is recorded by the tape, which then gives the loss's gradients with respect
# to the model's trainable weights; the optimizer applies them. The book uses `loss_fn` without
# defining it: here it is the softmax cross-entropy on logits (errata listing-1.2-loss-fn).

# %%
# Listing 1.2
def loss_fn(prediction, y):  # errata: listing-1.2-loss-fn
    return tl.cost.cross_entropy(prediction, y)


def train(model, dataset, optimizer):
    # the model is a TensorLayer model, in train() mode
    for x, y in dataset:
        with tf.GradientTape() as tape:
            prediction = model(x)
            loss = loss_fn(prediction, y)
        gradients = tape.gradient(loss, model.trainable_weights)
        optimizer.apply_gradients(zip(gradients, model.trainable_weights))


# %% [markdown]
# ## Data
# A synthetic problem small enough to train in seconds: points in 20 dimensions, labelled by a
# random linear "teacher" into 3 classes.

# %%
# Data
def teacher_dataset(n=1024, n_features=20, n_classes=3, seed=0):
    """Gaussian points labelled by the argmax of a random linear map: learnable, not trivial."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, n_features)).astype(np.float32)
    y = np.argmax(x @ rng.normal(size=(n_features, n_classes)), axis=1).astype(np.int32)
    return x, y


# %% [markdown]
# ## Putting it together
# `main` prints Listing 1.1's product, then trains a small TensorLayer MLP with Listing 1.2's
# loop and prints the loss and accuracy before training and after each epoch: the loss falls
# from about ln 3 (chance) and the accuracy rises from about 1/3.

# %%
def main(argv=None):
    parser = make_parser(prog="dlbook run 1.10.1",
                         description="Listing 1.1 (eager tensors) and Listing 1.2 (GradientTape loop).")
    parser.add_argument("--epochs", type=positive_int, default=5, help="epochs of Listing 1.2's loop")
    add_seed_arg(parser, "the data, the initial weights and the batch order")
    args = parser.parse_args(argv)
    set_seed(args.seed)

    c = listing_1_1()
    print("Listing 1.1: tf.matmul([[1, 2], [1, 2]], [[1], [2]]) =")
    print(c.numpy())
    print(f"shape {c.shape}, dtype {c.dtype.name}")

    x, y = teacher_dataset(seed=args.seed)
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=args.seed).batch(32)
    # Model
    model = MLPModel(in_channels=x.shape[1], n_units=32, n_classes=3)
    optimizer = tf.optimizers.Adam(learning_rate=1e-2)

    # Train / Evaluate
    print("\nListing 1.2: train(model, dataset, optimizer) on a TL MLPModel 20-32-32-3")
    for epoch in range(args.epochs + 1):
        if epoch > 0:
            model.train()
            train(model, dataset, optimizer)
        model.eval()
        logits = model(x)
        print(f"epoch {epoch}: loss {float(loss_fn(logits, y)):.4f}  "
              f"accuracy {float(accuracy(logits, y)):.3f}" + ("  (before training)" if epoch == 0 else ""))
    return 0


# %% [markdown]
# ## Parameters
# The section's command-line options for a notebook run, with underscores for dashes
# (`{"epochs": 10}` is `--epochs 10`); the command line ignores this dict and reads its own options.

# %% tags=["parameters"]
options = dict(epochs=5, seed=0)

# %% [markdown]
# ## Run
# Prints Listing 1.1's product, then the loss and accuracy before training and after each epoch.

# %%
if __name__ == "__main__":
    from dlbook.cli.entry import run_section
    run_section(main)
