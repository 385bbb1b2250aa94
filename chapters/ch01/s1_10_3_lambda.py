"""
Title: Lambda layers
Description: the three Lambda listings of 1.10.3: a function, a function with arguments and
weights, and a Keras model wrapped as a TensorLayer layer.

1. ``Lambda(lambda x: 2*x)``: any function becomes a layer.
2. ``Lambda(customize_func, fn_args={'foo': 42})`` passes extra arguments to the function, and
   ``Lambda(func, fn_weights=[a])`` declares the variable ``a`` the function uses, so that it
   appears in the model's ``trainable_weights`` and training updates it.
3. ``CustomizeModel``: a Keras ``Sequential`` (Dense 10 relu, Dense 5 sigmoid, Dense 1) wrapped in
   a Lambda after a TL ``Dense(in_channels=1, n_units=5)``; its Keras weights are listed in the TL
   model's ``trainable_weights`` and are trained with it (Adam, lr 0.1, 50 steps of MSE on y = x^2).

Prints the output rows of 1 and 2 (all 2s; all 42s), ``a`` before and after one SGD step
(1.0 -> 0.9 with lr 0.1 on the loss mean(x + a) over ones), the number of trainable weights of
CustomizeModel (2 TL + 6 Keras = 8), and its loss before and after training (it falls, from about
0.3 to below 0.05 with seed 0).
"""
# Setup
from dlbook.compat import tl
import numpy as np
import tensorflow as tf

from dlbook.options import make_parser
from dlbook.utils import set_seed

Input, Lambda, Dense = tl.layers.Input, tl.layers.Lambda, tl.layers.Dense
Model = tl.models.Model


# Listing: a Lambda layer from a simple function
def lambda_double():
    x = Input([8, 3], name="input")
    y = Lambda(lambda x: 2 * x, name="lambda")(x)
    return Model(x, y)


# Listing: fn_args and fn_weights
def customize_func(x, foo=42):  # x is the input, foo an extra argument
    return foo * x


def lambda_with_args():
    x = Input([8, 3], name="input")
    y = Lambda(customize_func, fn_args={"foo": 42}, name="lambda")(x)
    return Model(x, y)


def lambda_with_weights(a):
    def func(x):
        return x + a

    x = Input([8, 3], name="input")
    y = Lambda(func, fn_weights=[a], name="lambda")(x)
    return Model(x, y)


# Listing: a Keras model inside a Lambda layer
def make_perceptron():
    layers = [
        tf.keras.layers.Dense(10, activation=tf.nn.relu),
        tf.keras.layers.Dense(5, activation=tf.nn.sigmoid),
        tf.keras.layers.Dense(1, activation=tf.identity),
    ]
    perceptron = tf.keras.Sequential(layers)
    # call it once so that Keras creates its weights
    _ = perceptron(np.random.random([100, 5]).astype(np.float32))
    return perceptron


class CustomizeModel(Model):
    def __init__(self, perceptron):
        super().__init__()
        self.dense = Dense(in_channels=1, n_units=5)
        self.lambdalayer = Lambda(perceptron, perceptron.trainable_variables)

    def forward(self, x):
        z = self.dense(x)
        z = self.lambdalayer(z)
        return z


def train_customize_model(model, data_x, data_y, steps=50, learning_rate=0.1):
    """The listing's loop: MSE, Adam; returns the loss before and after the steps."""
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


def main(argv=None):
    parser = make_parser(prog="dlbook run 1.10.3", description="The Lambda layer listings of 1.10.3.")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    args = parser.parse_args(argv)
    set_seed(args.seed)
    ones = np.ones([8, 3], dtype=np.float32)

    model = lambda_double()
    model.eval()
    print("Lambda(lambda x: 2*x), first row:", model(ones).numpy()[0])

    model = lambda_with_args()
    model.eval()
    print("Lambda(customize_func, fn_args={'foo': 42}), first row:", model(ones).numpy()[0])

    a = tf.Variable(1.0)
    model = lambda_with_weights(a)
    model.train()
    print(f"Lambda(func, fn_weights=[a]): trainable_weights = {[w.name for w in model.trainable_weights]}")
    before = float(a.numpy())
    optimizer = tf.optimizers.SGD(learning_rate=0.1)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(model(ones))
    optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_weights), model.trainable_weights))
    print(f"  a before one SGD step {before:.3f}, after {float(a.numpy()):.3f}")

    # Data: y = x^2 on [-1, 1]
    data_x = np.linspace(-1, 1, 100, dtype=np.float32)[:, None]
    data_y = data_x ** 2
    model = CustomizeModel(make_perceptron())
    n_tl, n_keras = len(model.dense.trainable_weights), len(model.lambdalayer.trainable_weights)
    print(f"CustomizeModel: {len(model.trainable_weights)} trainable weights "
          f"({n_tl} TL Dense + {n_keras} Keras)")
    first, last = train_customize_model(model, data_x, data_y)
    print(f"  MSE on y = x^2: {first:.4f} at step 1, {last:.4f} at step 50")
    return 0


if __name__ == "__main__":
    from dlbook.entry import run_section
    run_section(main)
