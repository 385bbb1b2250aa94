"""Benchmark: training speed of ``dlbook.train.fit`` vs ``tl.utils.fit`` vs Keras ``model.fit``.

In ONE run, on the book's MLP of 1.10.4 (784-800-800-10, Dropout keep 0.8/0.5/0.5, batch 256,
Adam 1e-4), each contender trains one epoch of ``--samples`` MNIST images per measurement; the
measurements are interleaved (dlbook, TL, Keras, dlbook, ...) so that drift on a shared machine
hits all alike, repeated ``--repeats`` times after one warm-up epoch each (tracing excluded), and
the medians and ratios are printed, per second of wall clock and per CPU-second (the process's
CPU time over all its threads, which moves less than the wall clock when other jobs share the
cores). Real MNIST is used when ../shared/data (or ``--data-dir``) has it, else synthetic data of
the same shape (the speed does not depend on the values); the output says which.

Contenders (samples counted are the samples actually trained on):
  dlbook fit          dlbook.train.fit(..., n_epoch=1, verbose=0): every sample, last batch included
  dlbook fit, seed=0  the same with a seed: the dropout masks come from (seed, epoch, step), given
                      to the same compiled step (exact resume at no cost: no re-tracing)
  dlbook fit, seed=0, mixed_bfloat16
                      the seeded fit with fit(precision="mixed_bfloat16") (--precision of 1.10.4)
  tl.utils.fit        TensorLayer 2.2.5's fit: drops the last partial batch
  keras model.fit     the same network as a keras.Sequential, compiled with the same loss/optimizer

Besides the medians, each ratio is also given as the median of the ratios within each repeat
(the contenders of one repeat ran back to back, under about the same load), and the verdict on
the targets: the seeded fit within 3% of the unseeded one, both at least 1.0x tl.utils.fit.

    python scripts/bench_fit.py [--samples 10000] [--repeats 9] [--data-dir DIR]
"""
import argparse
import os
import statistics
import time
from pathlib import Path

from dlbook.compat import tl
import numpy as np
import tensorflow as tf

from dlbook.metrics import accuracy
from dlbook.models import get_mlp_model
from dlbook.models.mlp import BOOK_KEEP
from dlbook.train import fit

BATCH_SIZE = 256
LEARNING_RATE = 1e-4
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def load_data(data_dir, n):
    """(X, y, description): the first n MNIST training images, or synthetic ones."""
    if (Path(data_dir) / "mnist").is_dir():
        from dlbook.data import load_mnist_dataset
        X_train, y_train, *_ = load_mnist_dataset(shape=(-1, 784), path=data_dir)
        return X_train[:n], y_train[:n], f"real MNIST from {data_dir} ({n} training images)"
    rng = np.random.default_rng(0)
    X = rng.random((n, 784), dtype=np.float32)
    y = rng.integers(0, 10, n).astype(np.int32)
    return X, y, f"SYNTHETIC data ({n} x 784; real MNIST not found in {data_dir})"


def keras_mlp():
    """The book's MLP in Keras: Dropout(rate = 1 - keep) before each Dense, logits out."""
    layers = [tf.keras.Input((784,))]
    for keep, units, act in zip(BOOK_KEEP, (800, 800, 10), ("relu", "relu", None)):
        layers += [tf.keras.layers.Dropout(1 - keep), tf.keras.layers.Dense(units, activation=act)]
    model = tf.keras.Sequential(layers)
    model.compile(optimizer=tf.keras.optimizers.Adam(LEARNING_RATE),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def contenders(X, y):
    """name -> (run one epoch, samples it trains on)."""
    n = len(X)
    def book_mlp():
        return get_mlp_model([None, 784], keep=BOOK_KEEP), tf.optimizers.Adam(LEARNING_RATE)

    (dlbook_model, dlbook_optimizer), (seeded_model, seeded_optimizer) = book_mlp(), book_mlp()
    mixed_model, mixed_optimizer = book_mlp()
    tl_model, tl_optimizer = book_mlp()
    tl_optimizer.build(tl_model.trainable_weights)  # else TL's module-level tf.function fails (notes item 8)
    keras_model = keras_mlp()
    return {
        "dlbook fit": (lambda: fit(dlbook_model, dlbook_optimizer, tl.cost.cross_entropy, X, y,
                                   acc=accuracy, batch_size=BATCH_SIZE, n_epoch=1, verbose=0), n),
        "dlbook fit, seed=0": (lambda: fit(seeded_model, seeded_optimizer, tl.cost.cross_entropy, X, y,
                                           acc=accuracy, batch_size=BATCH_SIZE, n_epoch=1, seed=0,
                                           verbose=0), n),
        "dlbook fit, seed=0, mixed_bfloat16": (
            lambda: fit(mixed_model, mixed_optimizer, tl.cost.cross_entropy, X, y, acc=accuracy, batch_size=BATCH_SIZE,
                        n_epoch=1, seed=0, verbose=0, precision="mixed_bfloat16"), n),
        "tl.utils.fit": (lambda: tl.utils.fit(tl_model, tl_optimizer, tl.cost.cross_entropy, X, y,
                                              acc=accuracy, batch_size=BATCH_SIZE, n_epoch=1),
                         n // BATCH_SIZE * BATCH_SIZE),
        "keras model.fit": (lambda: keras_model.fit(X, y, batch_size=BATCH_SIZE, epochs=1, verbose=0), n),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=10000, help="training samples per epoch")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--data-dir", default=str(SHARED_DATA))
    args = parser.parse_args()

    X, y, description = load_data(args.data_dir, args.samples)
    print(f"Data: {description}; batch {BATCH_SIZE}, Adam {LEARNING_RATE}, "
          f"{args.repeats} repeats after 1 warm-up epoch each, on {os.cpu_count()} CPU cores "
          f"(load average {os.getloadavg()[0]:.1f} at start)")
    runs = contenders(X, y)
    for run, _ in runs.values():
        run()  # warm-up: tracing, optimizer slots, Keras' train function
    wall = {name: [] for name in runs}  # samples per second of elapsed time
    cpu = {name: [] for name in runs}   # samples per CPU-second (all threads): steadier under load
    for _ in range(args.repeats):
        for name, (run, samples) in runs.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            run()
            wall[name].append(samples / (time.perf_counter() - start))
            cpu[name].append(samples / (time.process_time() - start_cpu))
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    for title, rates in (("samples/s (wall clock)", wall), ("samples per CPU-second", cpu)):
        report(title, rates)


def _paired(rates, a, b):
    """The median over repeats of rates[a] / rates[b] within each repeat."""
    return statistics.median(x / y for x, y in zip(rates[a], rates[b]))


def report(title, rates):
    medians = {name: statistics.median(values) for name, values in rates.items()}
    print(f"\n{'contender':<36} {'median ' + title:>30}  {'min':>7}  {'max':>7}  "
          f"{'vs tl.utils.fit':>15}  {'vs keras':>8}")
    for name, median in medians.items():
        print(f"{name:<36} {median:>30,.0f}  {min(rates[name]):>7,.0f}  {max(rates[name]):>7,.0f}  "
              f"{median / medians['tl.utils.fit']:>14.2f}x  {median / medians['keras model.fit']:>7.2f}x")
    seeded, unseeded, tl_fit = "dlbook fit, seed=0", "dlbook fit", "tl.utils.fit"
    checks = [("seeded / unseeded", seeded, unseeded, lambda r: abs(r - 1) <= 0.03, "within 3%"),
              ("unseeded / tl.utils.fit", unseeded, tl_fit, lambda r: r >= 1.0, ">= 1.0x"),
              ("seeded / tl.utils.fit", seeded, tl_fit, lambda r: r >= 1.0, ">= 1.0x")]
    for label, a, b, ok, target in checks:
        of_medians, paired = medians[a] / medians[b], _paired(rates, a, b)
        print(f"  {label:<24} {of_medians:.3f}x (median of paired ratios {paired:.3f}x); "
              f"target {target}: {'met' if ok(of_medians) else 'NOT met'}")
    mixed = "dlbook fit, seed=0, mixed_bfloat16"
    print(f"  {'mixed / seeded float32':<24} {medians[mixed] / medians[seeded]:.3f}x (median of paired ratios "
          f"{_paired(rates, mixed, seeded):.3f}x)")

if __name__ == "__main__":
    main()
