"""The chapter's multilayer perceptron, static (Listing 1.3, 1.10.4) and dynamic (Listing 1.4)."""
from dlbook.compat import tl
import tensorflow as tf

from dlbook.errors import ShapeError

Input = tl.layers.Input
Dense = tl.layers.Dense
Dropout = tl.layers.Dropout
Model = tl.models.Model

#: The keep probabilities of the three Dropout layers of the 1.10.4 listing.
BOOK_KEEP = (0.8, 0.5, 0.5)


def check_input_shape(x, n_in):
    """Raise ShapeError unless ``x`` is [batch, n_in] (the batch size may be unknown)."""
    shape = x.shape
    if shape.rank != 2 or (shape[1] is not None and shape[1] != n_in):
        hint = ""
        if shape.rank is not None and shape.rank > 2 and shape[1:].num_elements() == n_in:
            hint = (f" Flatten the images first, e.g. x.reshape(-1, {n_in}) or "
                    f"load_mnist_dataset(shape=(-1, {n_in})).")
        found = list(shape) if shape.rank is not None else "a tensor of unknown rank"
        raise ShapeError(f"the MLP expects inputs of shape [batch, {n_in}], got {found}.{hint}")


class StaticMLP(Model):
    """A static TL model (Input/Dense/Model) that checks the shape of its input."""

    def __init__(self, inputs, outputs, name=None):
        super().__init__(inputs=inputs, outputs=outputs, name=name)
        self.in_channels = inputs.shape[-1]

    def forward(self, inputs, **kwargs):
        check_input_shape(inputs, self.in_channels)
        return super().forward(inputs, **kwargs)


def get_mlp_model(inputs_shape=(None, 784), n_units=800, n_classes=10, keep=None,
                  logits_act=None, name=None):
    """The static MLP of Listing 1.3 (``keep=None``) and of 1.10.4 (``keep=BOOK_KEEP``).

    Input(inputs_shape) -> [Dropout(keep[0])] -> Dense(n_units, relu) -> [Dropout(keep[1])]
    -> Dense(n_units, relu) -> [Dropout(keep[2])] -> Dense(n_classes, logits_act).

    ``logits_act=None`` gives logits; pass ``tf.nn.relu`` to rebuild the listings as printed.
    784-800-800-10 has 1,276,810 parameters, with or without Dropout.
    """
    keep = keep or (None, None, None)
    ni = Input(list(inputs_shape))
    nn = ni
    # errata: mlp-logits-relu (logits_act=None: the printed ReLU on the logits is dropped)
    for layer_keep, units, act in zip(keep, (n_units, n_units, n_classes),
                                      (tf.nn.relu, tf.nn.relu, logits_act)):
        if layer_keep is not None:
            nn = Dropout(keep=layer_keep)(nn)
        nn = Dense(n_units=units, act=act)(nn)
    return StaticMLP(inputs=ni, outputs=nn, name=name)


class MLPModel(Model):
    """The dynamic MLP of Listing 1.4: layers built with ``in_channels``, a ``foo`` switch in forward.

    ``model(x, foo=True)`` returns softmax probabilities, ``model(x)`` the logits. Same layers
    and weight order as ``get_mlp_model(inputs_shape=(None, in_channels), ...)`` without Dropout.
    """

    def __init__(self, in_channels=784, n_units=800, n_classes=10, logits_act=None, name=None):
        super().__init__(name=name)
        self.in_channels = in_channels
        # TL orders a dynamic model's layers by attribute name: dense1 < dense2 < dense3.
        self.dense1 = Dense(n_units=n_units, act=tf.nn.relu, in_channels=in_channels)
        self.dense2 = Dense(n_units=n_units, act=tf.nn.relu, in_channels=n_units)
        # errata: mlp-logits-relu (logits_act=None: the printed ReLU on the logits is dropped)
        self.dense3 = Dense(n_units=n_classes, act=logits_act, in_channels=n_units)

    def forward(self, x, foo=False):
        check_input_shape(x, self.in_channels)
        z = self.dense1(x)  # errata: mlp-forward-z (the listing reads `z` before assigning it)
        z = self.dense2(z)
        out = self.dense3(z)
        if foo:
            out = tf.nn.softmax(out)
        return out
