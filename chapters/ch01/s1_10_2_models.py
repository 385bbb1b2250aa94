"""
Title: Static and dynamic models (Listings 1.3 and 1.4)
Description: the 784-800-800-10 MLP built twice, statically and dynamically, shown to be the same function.

Listing 1.3 builds a *static* model: layers are wired from an ``Input`` placeholder and wrapped in
``Model(inputs=..., outputs=...)``. Listing 1.4 builds a *dynamic* one: a ``Model`` subclass whose
layers know their ``in_channels`` and whose ``forward`` is ordinary Python, with a ``foo`` switch
that adds a softmax. Both listings are below line by line as printed, with three fixes
(docs/errata.md): the last Dense layer outputs logits, without the printed ReLU
(errata: mlp-logits-relu); 1.4's forward starts from its input ``x`` (errata: mlp-forward-z); and
the ``data`` both listings call the models on, which they never define, is a batch of 8 random
"images" of 784 values in [0, 1) (errata: listing-1.3-data). ``dlbook.models.get_mlp_model`` and
``dlbook.models.MLPModel`` are the same two models with options (sizes, Dropout, input checks),
used by the other sections.

Prints: the parameter count of both models (1,276,810 = 784*800+800 + 800*800+800 + 800*10+10);
the largest difference between their outputs once the static weights are copied into the dynamic
model (0.0: the same function); that ``foo=True`` rows sum to 1; and how many logits the printed
ReLU would cut to 0 at initialisation (about half). The speed-up of ``@tf.function`` that the text
mentions is measured by ``python scripts/bench_tf_function.py``.
"""
# %% [markdown]
# ## Setup
# `dlbook.compat` first (dlbook's fixes to TensorLayer 2.2.5), then the listings' imports.

# %%
# Setup: dlbook.compat first applies the TensorLayer fixes (docs/errata.md), then the listings' imports
import dlbook.compat  # noqa: F401
import numpy as np
import tensorflow as tf
from tensorlayer.layers import Input, Dense
from tensorlayer.models import Model

from dlbook.options import add_seed_arg, make_parser
from dlbook.seed import set_seed


# %% [markdown]
# ## Listing 1.3: a static model
# The layers are connected from an `Input` placeholder, so every layer knows its input size,
# and `Model(inputs=..., outputs=...)` wraps the graph. The last layer outputs logits (errata
# mlp-logits-relu).

# %%
# Listing 1.3: a static model, three Dense layers
def get_mlp_model(inputs_shape):
    ni = Input(inputs_shape)
    # the connections between layers are explicit, so each Dense infers its in_channels
    nn = Dense(n_units=800, act=tf.nn.relu)(ni)
    nn = Dense(n_units=800, act=tf.nn.relu)(nn)
    nn = Dense(n_units=10, act=None)(nn)  # errata: mlp-logits-relu
    # the model is built from the connections
    M = Model(inputs=ni, outputs=nn)
    return M


# %% [markdown]
# ## Listing 1.4: a dynamic model
# A `Model` subclass: the layers are declared with their `in_channels` and `forward` is plain
# Python, here with a `foo` switch that adds a softmax. The forward pass starts from its input
# `x` (errata mlp-forward-z).

# %%
# Listing 1.4: a dynamic model; the layers need their in_channels (784 for the input)
class MLPModel(Model):
    def __init__(self):
        super(MLPModel, self).__init__()
        self.dense1 = Dense(n_units=800, act=tf.nn.relu, in_channels=784)
        self.dense2 = Dense(n_units=800, act=tf.nn.relu, in_channels=800)
        self.dense3 = Dense(n_units=10, act=None, in_channels=800)  # errata: mlp-logits-relu

    def forward(self, x, foo=False):
        z = self.dense1(x)  # errata: mlp-forward-z
        z = self.dense2(z)
        out = self.dense3(z)
        # the forward pass is ordinary Python: foo switches a softmax on
        if foo:
            out = tf.nn.softmax(out)
        return out


# %% [markdown]
# ## The same function
# Copying the static model's weights into the dynamic one makes the two compute the same
# outputs, which `main` checks on a batch of random "images" (errata listing-1.3-data).

# %%
def copy_weights(source, target):
    """Assign ``source``'s weights to ``target`` in order (the same layer sizes in both)."""
    for target_weight, source_weight in zip(target.all_weights, source.all_weights, strict=True):
        target_weight.assign(source_weight)


# %%
def main(argv=None):
    parser = make_parser(prog="dlbook run 1.10.2",
                         description="Listings 1.3 and 1.4: static and dynamic MLP, the same function.")
    add_seed_arg(parser, "the initial weights and the input batch")
    args = parser.parse_args(argv)
    set_seed(args.seed)
    data = np.random.default_rng(args.seed).random((8, 784), dtype=np.float32)  # errata: listing-1.3-data

    # Model: Listing 1.3, static, in eval mode
    MLP = get_mlp_model([None, 784])
    MLP.eval()
    outputs = MLP(data)
    static_mlp = MLP

    # Model: Listing 1.4, dynamic, in eval mode, given the static model's weights
    MLP = MLPModel()
    MLP.eval()
    copy_weights(static_mlp, MLP)  # added: the static model's weights, to compare the outputs
    outputs_1 = MLP(data, foo=True)  # softmax
    outputs_2 = MLP(data, foo=False)  # logits

    # Evaluate
    print(f"parameters: static {static_mlp.n_weights:,}, dynamic {MLP.n_weights:,}")
    difference = float(tf.reduce_max(tf.abs(outputs - outputs_2)))
    print(f"max |static - dynamic| over a batch of {len(data)}: {difference}")
    row_sums = tf.reduce_sum(outputs_1, axis=1).numpy()
    print(f"foo=True: softmax rows sum to {row_sums.min():.6f} .. {row_sums.max():.6f}")
    cut = float(tf.reduce_mean(tf.cast(outputs < 0, tf.float32)))
    print(f"share of logits the printed ReLU would set to 0 at initialisation: {cut:.0%}")
    print("@tf.function speed-up: python scripts/bench_tf_function.py")
    return 0


# %% [markdown]
# ## Parameters
# The section's command-line options for a notebook run, with underscores for dashes
# (`{"seed": 1}` is `--seed 1`); the command line ignores this dict and reads its own options.

# %% tags=["parameters"]
options = dict(seed=0)

# %% [markdown]
# ## Run
# Prints both parameter counts (1,276,810), the largest output difference (0.0), that the
# `foo=True` rows sum to 1, and how many logits the printed ReLU would set to 0.

# %%
if __name__ == "__main__":
    from dlbook.cli.entry import run_section
    run_section(main)
