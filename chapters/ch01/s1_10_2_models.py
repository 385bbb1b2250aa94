"""
Title: Static and dynamic models (Listings 1.3 and 1.4)
Description: the 784-800-800-10 MLP built twice, statically and dynamically, shown to be the same function.

Listing 1.3 builds a *static* model: layers are wired from an ``Input`` placeholder and wrapped in
``Model(inputs=..., outputs=...)`` (``dlbook.models.get_mlp_model``). Listing 1.4 builds a
*dynamic* one: a ``Model`` subclass whose layers know their ``in_channels`` and whose ``forward``
is ordinary Python, here with a ``foo`` switch that adds a softmax (``dlbook.models.MLPModel``).

Two fixes to the printed listings (docs/errata.md): the last Dense layer outputs logits, without
the printed ReLU (errata: mlp-logits-relu), and 1.4's forward starts from its input ``x``
(errata: mlp-forward-z).

Prints: the parameter count of both models (1,276,810 = 784*800+800 + 800*800+800 + 800*10+10);
the largest difference between their outputs once the static weights are copied into the dynamic
model (0.0: the same function); that ``foo=True`` rows sum to 1; and how many logits the printed
ReLU would cut to 0 at initialisation (about half). The speed-up of ``@tf.function`` that the text
mentions is measured by ``python scripts/bench_tf_function.py``.
"""
# Setup
import numpy as np
import tensorflow as tf

from dlbook.models import MLPModel, get_mlp_model
from dlbook.options import make_parser
from dlbook.utils import set_seed


def copy_weights(source, target):
    """Assign ``source``'s weights to ``target`` in order (the same layer sizes in both)."""
    for target_weight, source_weight in zip(target.all_weights, source.all_weights, strict=True):
        target_weight.assign(source_weight)


def main(argv=None):
    parser = make_parser(prog="dlbook run 1.10.2",
                         description="Listings 1.3 and 1.4: static and dynamic MLP, the same function.")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    args = parser.parse_args(argv)
    set_seed(args.seed)
    # Data: a batch of 8 random "images", flattened to 784 values in [0, 1).
    data = np.random.default_rng(args.seed).random((8, 784), dtype=np.float32)

    # Model: Listing 1.3, static
    static_mlp = get_mlp_model([None, 784])
    static_mlp.eval()
    outputs_static = static_mlp(data)

    # Model: Listing 1.4, dynamic
    dynamic_mlp = MLPModel(in_channels=784)
    dynamic_mlp.eval()
    copy_weights(static_mlp, dynamic_mlp)
    outputs = dynamic_mlp(data, foo=False)  # logits
    probabilities = dynamic_mlp(data, foo=True)  # softmax(logits)

    # Evaluate
    print(f"parameters: static {static_mlp.n_weights:,}, dynamic {dynamic_mlp.n_weights:,}")
    difference = float(tf.reduce_max(tf.abs(outputs_static - outputs)))
    print(f"max |static - dynamic| over a batch of {len(data)}: {difference}")
    row_sums = tf.reduce_sum(probabilities, axis=1).numpy()
    print(f"foo=True: softmax rows sum to {row_sums.min():.6f} .. {row_sums.max():.6f}")
    cut = float(tf.reduce_mean(tf.cast(outputs_static < 0, tf.float32)))
    print(f"share of logits the printed ReLU would set to 0 at initialisation: {cut:.0%}")
    print("@tf.function speed-up: python scripts/bench_tf_function.py")
    return 0


if __name__ == "__main__":
    from dlbook.entry import run_section
    run_section(main)
