"""Benchmark: the speed-up of ``@tf.function`` claimed in 1.10.2, on the book's MLP.

Measures, in ONE run, samples/second of the same code run eagerly and compiled with
``tf.function``, for the static model (Listing 1.3, ``get_mlp_model``) and the dynamic one
(Listing 1.4, ``MLPModel``), both 784-800-800-10:

- train step: forward + cross-entropy + GradientTape backward + Adam update (Listing 1.2's body),
- forward: inference only (eval mode).

A pass runs ``--steps`` batches of ``--batch-size`` synthetic inputs (the speed does not depend
on the values), after a warm-up that includes tracing. Eager and compiled passes alternate,
``--repeats`` times; printed are the medians and the median of the paired ratios
tf.function / eager. Timing noise on shared machines is about +-20%: compare the ratios.

    python scripts/bench_tf_function.py [--batch-size 256] [--steps 20] [--repeats 5]
"""
import argparse
import statistics
import time

from dlbook.compat import tl
import numpy as np
import tensorflow as tf

from dlbook.models import MLPModel, get_mlp_model


def make_train_step(model, optimizer):
    def train_step(x, y):
        with tf.GradientTape() as tape:
            loss = tl.cost.cross_entropy(model(x), y)
        gradients = tape.gradient(loss, model.trainable_weights)
        optimizer.apply_gradients(zip(gradients, model.trainable_weights))
        return loss
    return train_step


def timed_pass(step, batches):
    """Samples/s of one pass of ``step`` over all batches."""
    start = time.perf_counter()
    for x, y in batches:
        result = step(x, y)
    float(tf.reduce_sum(result))  # wait for the last step
    return sum(len(x) for x, _ in batches) / (time.perf_counter() - start)


def compare(eager_step, compiled_step, batches, repeats):
    """Median samples/s of each step and the median of their paired ratios.

    The two run alternately, one pass each per repeat, so that load changes on a shared
    machine hit both alike; warm-up (tracing, optimizer slots) is excluded.
    """
    eager_step(*batches[0]), compiled_step(*batches[0])
    pairs = [(timed_pass(eager_step, batches), timed_pass(compiled_step, batches))
             for _ in range(repeats)]
    eager, compiled = zip(*pairs)
    return (statistics.median(eager), statistics.median(compiled),
            statistics.median(c / e for e, c in pairs))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=20, help="batches per measurement")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    batches = [(tf.constant(rng.random((args.batch_size, 784), dtype=np.float32)),
                tf.constant(rng.integers(0, 10, args.batch_size, dtype=np.int32)))
               for _ in range(args.steps)]
    print(f"book MLP 784-800-800-10, batch {args.batch_size}, {args.steps} batches x "
          f"{args.repeats} repeats, synthetic data; TF {tf.__version__}, "
          f"{len(tf.config.list_physical_devices('GPU'))} GPU(s)")
    print(f"{'model':<22}{'what':<12}{'eager':>12}{'tf.function':>14}{'ratio':>8}"
          "   (samples/s, medians; ratio: median of paired runs)")
    for label, build in (("static (Listing 1.3)", lambda: get_mlp_model([None, 784])),
                         ("dynamic (Listing 1.4)", lambda: MLPModel(in_channels=784))):
        # Eager and compiled each get their own model and optimizer: nothing is shared.
        steps = []
        for _ in range(2):
            model = build()
            model.train()
            steps.append(make_train_step(model, tf.optimizers.Adam(learning_rate=1e-4)))
        report(label, "train step", compare(steps[0], tf.function(steps[1]), batches, args.repeats))

        model = build()
        model.eval()

        def forward(x, y):
            return model(x)

        report("", "forward", compare(forward, tf.function(forward), batches, args.repeats))


def report(label, what, result):
    eager, compiled, ratio = result
    print(f"{label:<22}{what:<12}{eager:>12,.0f}{compiled:>14,.0f}{ratio:>7.2f}x")


if __name__ == "__main__":
    main()
