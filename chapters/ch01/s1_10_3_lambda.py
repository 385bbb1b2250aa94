"""
Title: Lambda layers
Description: the three Lambda listings of 1.10.3: a function, a function with arguments and
weights, and a Keras model wrapped as a TensorLayer layer.

The listings are below line by line as printed, each in a function that returns what it builds:

1. ``Lambda(lambda x: 2*x)``: any function becomes a layer; ``customize_fn(input, foo)`` has no
   default for ``foo``, which the layer passes from ``fn_args={'foo': 42}``.
2. ``Lambda(customize_fn, fn_weights=[a])`` declares the variable ``a`` the function uses, so that
   it appears in the model's ``trainable_weights`` and training updates it.
3. ``CustomizeModel``: a Keras ``Sequential`` (Dense 10 relu, Dense 5 sigmoid, Dense 1) wrapped in
   a Lambda after a TL ``Dense(in_channels=1, n_units=5)``; its Keras weights are listed in the TL
   model's ``trainable_weights`` and are trained with it (Adam, lr 0.1, 50 steps of MSE on y = x^2).
   The listing uses ``np`` without importing it (errata: lambda-keras-np).

Prints the output rows of 1 (all 2s; all 42s), ``a`` before and after one SGD step
(1.0 -> 0.9 with lr 0.1 on the loss mean(x + a) over ones), the number of trainable weights of
CustomizeModel (2 TL + 6 Keras = 8), and its loss before and after training (it falls, from about
0.3 to below 0.05 with seed 0).
"""
# %% [markdown]
# ## Setup
# `dlbook.compat` first (dlbook's fixes to TensorLayer 2.2.5), then the listings' imports.

# %%
# Setup: dlbook.compat first applies the TensorLayer fixes (docs/errata.md), then the listings' imports
import dlbook.compat  # noqa: F401
import numpy as np  # errata: lambda-keras-np
import tensorflow as tf
import tensorlayer as tl

from dlbook.options import add_seed_arg, make_parser
from dlbook.seed import set_seed


# %% [markdown]
# ## Listing 1: any function as a layer
# `Lambda` turns a Python function into a layer; extra arguments of the function come from
# `fn_args`.

# %%
# Listing 1: a Lambda layer from a lambda, and from a function with an argument from fn_args
def lambda_layers():
    """Returns the tensors (x, y, z): y = 2 x, z = 42 x."""
    x = tl.layers.Input([8, 3], name='input')
    y = tl.layers.Lambda(lambda x: 2*x)(x)  # no trainable weights

    def customize_fn(input, foo):  # foo comes from the Lambda layer's fn_args
        return foo * input
    z = tl.layers.Lambda(customize_fn, fn_args={'foo': 42})(x)  # this layer has no weights.
    return x, y, z


# %% [markdown]
# ## Listing 2: a function with a weight
# A variable used inside the function must be declared with `fn_weights`, or the layer would
# not count it as trainable and an optimizer would never update it.

# %%
# Listing 2: a weight defined outside the function, passed with fn_weights
def lambda_with_weights():
    """Returns (a, x, y): y = x + a, with a in the layer's trainable weights."""
    a = tf.Variable(1.0)  # a weight outside the function
    def customize_fn(x):
        return x + a
    x = tl.layers.Input([8, 3], name='input')
    y = tl.layers.Lambda(customize_fn, fn_weights=[a])(x)  # the weight goes in through fn_weights
    return a, x, y


# %% [markdown]
# ## Listing 3: a Keras model as a layer
# A Keras `Sequential` model, wrapped in a `Lambda` layer, trains inside a TensorLayer model
# once its weights are passed as `fn_weights`.

# %%
# Listing 3: a Keras model inside a Lambda layer
def keras_in_lambda():
    """Returns (perceptron, CustomizeModel): the Keras model and the TL model class wrapping it."""
    # a Keras model
    layers = [
        tf.keras.layers.Dense(10, activation=tf.nn.relu),
        tf.keras.layers.Dense(5, activation=tf.nn.sigmoid),
        tf.keras.layers.Dense(1, activation=tf.identity)
    ]
    perceptron = tf.keras.Sequential(layers)
    # call it once so that Keras creates its trainable weights
    _ = perceptron(np.random.random([100, 5]).astype(np.float32))

    class CustomizeModel(tl.models.Model):
        def __init__(self):
            super(CustomizeModel, self).__init__()
            self.dense = tl.layers.Dense(in_channels=1, n_units=5)
            self.lambdalayer = tl.layers.Lambda(perceptron, perceptron.trainable_variables)
            # the Keras weights are passed to the Lambda layer (its fn_weights)

        def forward(self, x):
            z = self.dense(x)
            z = self.lambdalayer(z)
            return z

    return perceptron, CustomizeModel


# %% [markdown]
# ## Training the wrapped model
# The listing stops at the class; 50 steps of Adam on y = x^2 (not in the book) show that the
# Keras weights inside the TensorLayer model learn with it.

# %%
def train_customize_model(model, data_x, data_y, steps=50, learning_rate=0.1):
    """A training loop the listing does not print: MSE, Adam; returns the loss at the first and the last step."""
    optimizer = tf.optimizers.Adam(learning_rate=learning_rate)
    model.train()
    losses = []
    for _ in range(steps):
        with tf.GradientTape() as tape:
            pred_y = model(data_x)
            loss = tl.cost.mean_squared_error(pred_y, data_y)
        gradients = tape.gradient(loss, model.trainable_weights)
        optimizer.apply_gradients(zip(gradients, model.trainable_weights))
        losses.append(float(loss))
    return losses[0], losses[-1]


# %%
def main(argv=None):
    parser = make_parser(prog="dlbook run 1.10.3", description="The Lambda layer listings of 1.10.3.")
    add_seed_arg(parser, "the initial weights and the data")
    args = parser.parse_args(argv)
    set_seed(args.seed)
    ones = np.ones([8, 3], dtype=np.float32)

    x, y, z = lambda_layers()
    for name, output in (("Lambda(lambda x: 2*x)", y),
                         ("def customize_fn(input, foo): return foo * input;\n"
                          "  Lambda(customize_fn, fn_args={'foo': 42})", z)):
        model = tl.models.Model(inputs=x, outputs=output)
        model.eval()
        print(f"{name}, first row: {model(ones).numpy()[0]}")

    a, x, y = lambda_with_weights()
    model = tl.models.Model(inputs=x, outputs=y)
    model.train()
    print(f"Lambda(customize_fn, fn_weights=[a]): trainable_weights = "
          f"{[w.name for w in model.trainable_weights]}")
    before = float(a.numpy())
    optimizer = tf.optimizers.SGD(learning_rate=0.1)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(model(ones))
    optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_weights), model.trainable_weights))
    print(f"  a before one SGD step {before:.3f}, after {float(a.numpy()):.3f}")

    # Data: y = x^2 on [-1, 1]
    data_x = np.linspace(-1, 1, 100, dtype=np.float32)[:, None]
    data_y = data_x ** 2
    _, CustomizeModel = keras_in_lambda()
    model = CustomizeModel()
    n_tl, n_keras = len(model.dense.trainable_weights), len(model.lambdalayer.trainable_weights)
    print(f"CustomizeModel: {len(model.trainable_weights)} trainable weights "
          f"({n_tl} TL Dense + {n_keras} Keras)")
    first, last = train_customize_model(model, data_x, data_y)
    print(f"  MSE on y = x^2: {first:.4f} at step 1, {last:.4f} at step 50")
    return 0


# %% [markdown]
# ## Parameters
# The section's command-line options for a notebook run, with underscores for dashes
# (`{"seed": 1}` is `--seed 1`); the command line ignores this dict and reads its own options.

# %% tags=["parameters"]
options = dict(seed=0)

# %% [markdown]
# ## Run
# Prints the outputs of the two Lambda layers, the weight `a` before and after one SGD step,
# the number of trainable weights of the wrapped model and its loss before and after training.

# %%
if __name__ == "__main__":
    from dlbook.cli.entry import run_section
    run_section(main)
