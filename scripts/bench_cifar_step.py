"""Benchmark: images/second of the 1.10.5 training step against the same network in Keras model.fit.

In ONE run, each contender trains one epoch of ``--images`` CIFAR-10 images per measurement
(batch 128, 24x24x3 crops, Adam 1e-4), fed by the 1.10.5 input pipeline (the Dataloader with the
TF-ops augmentation per batch); the measurements are interleaved so that drift on a shared
machine hits all alike, repeated ``--repeats`` times after a warm-up epoch (tracing excluded),
and medians and ratios against ``keras model.fit`` are printed, per second of wall clock and per
CPU-second (the process's CPU time over all threads: steadier when other jobs share the cores).

Contenders:
  dlbook step             the train step 1.10.5 runs (dlbook.train.train_step with the section's
                          signature: the TL model, a GradientTape step in tf.function), looped over the loader
  dlbook step, XLA        the same step body compiled with tf.function(jit_compile=True)
  keras model.fit         the same network in Keras (Conv2D 64 5x5 no bias, BatchNormalization
                          momentum 0.99, ReLU, MaxPool 3/2 SAME, twice; Dense 384, 192, 10),
                          compile() defaults (no XLA on a CPU-only machine), fit on the loader's
                          tf.data pipeline (Dataloader.as_tf_dataset), one epoch per call
  keras model.fit, XLA    the same with compile(jit_compile=True)
and, with the faster of the two dlbook steps, the input pipeline's settings:
  ..., no prefetch        Dataloader(prefetch=None)
  ..., sequential map     Dataloader(num_parallel_calls=None)
  ..., per-image aug.     Dataloader(transforms=[train_transform]) instead of batch_transforms
  ..., batches in memory  no pipeline at all: augmented batches made beforehand (the ceiling)

Measured (2 CPU cores shared with other jobs; medians of 5): the dlbook step and Keras model.fit
run the same kernels and are at parity, 1.01-1.05x per CPU-second (1.04-1.21x wall clock), with
op determinism on as well (1.00x); XLA is slower on this CPU for both (dlbook 0.58x, Keras 0.56x
per CPU-second) and cannot compile the step at all with op determinism on (no deterministic
MaxPool gradient). The pipeline settings are within noise of each other (prefetch and parallel
map: 0.97-1.01x; batches already in memory are no faster, so the input pipeline costs nothing
measurable); augmenting per image instead of per batch costs ~5%.

    python scripts/bench_cifar_step.py                       # ~5 minutes on 2 shared cores
    python scripts/bench_cifar_step.py --images 2560 --repeats 3
    python scripts/bench_cifar_step.py --deterministic --skip-pipeline   # as 1.10.5 runs (set_seed)
    python scripts/bench_cifar_step.py --precision --images 640 --repeats 3   # float32 vs mixed_bfloat16

``--precision`` measures instead the dlbook step and the Keras network each in float32 and in
mixed_bfloat16 (Keras' dtype policy; dlbook's --precision). Every contender runs the same kernels
library: dlbook, imported first, turns on TensorFlow's oneDNN kernels (dlbook.precision.prefer_onednn).
"""
import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np

from chapters.ch01.s1_10_5_cifar10_cnn import BATCH as SIGNATURE
from dlbook import train
from dlbook.compat import tl
from dlbook.data import Dataloader
from dlbook.data.dataset import ArrayDataset
from dlbook.data.transforms import train_transform
from dlbook.metrics import accuracy
from dlbook.models import get_model_batchnorm
from dlbook.seed import set_seed
import tensorflow as tf

BATCH = 128
LEARNING_RATE = 1e-4


def load_images(data_dir, n):
    """(images 32x32x3 float32 0..255, labels, description): real CIFAR-10 or random images."""
    directory = Path(data_dir) / "cifar10" / "cifar-10-batches-py"
    if (directory / "data_batch_1").is_file():
        from dlbook.data.cifar10 import read_cifar10_batch
        data, labels = read_cifar10_batch(directory / "data_batch_1")
        images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).astype(np.float32)
        return images[:n], labels[:n].astype(np.int32), f"real CIFAR-10 ({n:,} images of data_batch_1)"
    rng = np.random.default_rng(0)
    return (rng.uniform(0, 255, (n, 32, 32, 3)).astype(np.float32), rng.integers(0, 10, n).astype(np.int32),
            f"random images ({n:,}; real CIFAR-10 not found in {data_dir})")


def xla_train_step(net, optimizer):
    """The 1.10.5 train step's body (dlbook.train.step) compiled with XLA."""
    weights = net.trainable_weights
    optimizer.build(weights)
    batch = [tf.TensorSpec([None, 24, 24, 3], tf.float32), tf.TensorSpec([None], tf.int32)]

    @tf.function(input_signature=batch, jit_compile=True)
    def train_step(X_batch, y_batch):
        with tf.GradientTape() as tape:
            _logits = net(X_batch)
            _loss = tl.cost.cross_entropy(_logits, y_batch, name='train_loss')
        grad = tape.gradient(_loss, weights)
        optimizer.apply_gradients(zip(grad, weights))
        return _loss

    return train_step


def keras_cnn(jit_compile="auto", dtype="float32"):
    """The 1.10.5 network in Keras, compiled for sparse cross-entropy on logits with Adam; ``dtype``
    a Keras dtype policy ("mixed_bfloat16": bfloat16 compute, float32 variables and logits)."""
    layers = tf.keras.layers
    model = tf.keras.Sequential([tf.keras.Input((24, 24, 3))])
    for _ in range(2):
        model.add(layers.Conv2D(64, 5, padding="same", use_bias=False, dtype=dtype))
        model.add(layers.BatchNormalization(momentum=0.99, dtype=dtype))
        model.add(layers.ReLU(dtype=dtype))
        model.add(layers.MaxPool2D(3, 2, padding="same", dtype=dtype))
    model.add(layers.Flatten(dtype=dtype))
    model.add(layers.Dense(384, activation="relu", dtype=dtype))
    model.add(layers.Dense(192, activation="relu", dtype=dtype))
    model.add(layers.Dense(10, dtype=dtype))
    model.add(layers.Activation("linear", dtype="float32"))  # the logits in float32, as dlbook's step
    model.compile(optimizer=tf.keras.optimizers.Adam(LEARNING_RATE),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  jit_compile=jit_compile)
    return model


def loader(images, labels, **kwargs):
    options = dict(batch_transforms=[train_transform])
    options.update(kwargs)
    return Dataloader(ArrayDataset(images, labels), shuffle=True, batch_size=BATCH,
                      output_types=(np.float32, np.int32), seed=0, **options)


def tl_epoch(step, batches):
    """Run ``step`` over one epoch of ``batches``; wait for the last step."""
    def run():
        loss = None
        for X_batch, y_batch in batches:
            loss = step(X_batch, y_batch)
        float(loss["loss"] if isinstance(loss, dict) else loss)
    return run


def seeded(train_step):
    """The 1.10.5 loop's call: each step with its dropout seed from (seed, epoch, step)."""
    steps = iter(range(10**9))
    return lambda X_batch, y_batch: train_step(X_batch, y_batch, train.position(0, 0, next(steps)))


def tl_contender(images, labels, xla, compute_dtype=None, **loader_options):
    net = get_model_batchnorm([None, 24, 24, 3])
    optimizer = tf.optimizers.Adam(LEARNING_RATE)
    step = xla_train_step(net, optimizer) if xla else seeded(train.train_step(
        net, optimizer, tl.cost.cross_entropy, metric=accuracy, signature=SIGNATURE + [train.POSITION],
        compute_dtype=compute_dtype))
    net.train()
    if loader_options.pop("in_memory", False):
        batches = [(tf.constant(x), tf.constant(y)) for x, y in loader(images, labels)]
        return tl_epoch(step, batches)
    return tl_epoch(step, loader(images, labels, **loader_options))


def keras_contender(images, labels, jit_compile, dtype="float32"):
    model, data = keras_cnn(jit_compile, dtype), loader(images, labels)
    epochs = iter(range(10**6))
    return lambda: model.fit(data.as_tf_dataset(next(epochs)), epochs=1, shuffle=False, verbose=0)


def measure(runs, n, repeats):
    """{name: (wall images/s list, CPU images/s list)}, interleaved, after one warm-up round."""
    for run in runs.values():
        run()
    rates = {name: ([], []) for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            run()
            rates[name][0].append(n / (time.perf_counter() - start))
            rates[name][1].append(n / (time.process_time() - start_cpu))
    return rates


def report(rates, baseline="keras model.fit"):
    medians = {name: [statistics.median(r) for r in pair] for name, pair in rates.items()}
    print(f"\n{'contender':<34}{'images/s':>9}{'min':>7}{'max':>7}{'vs keras':>10}"
          f"{'img/CPU-s':>11}{'vs keras':>10}")
    for name, (wall, cpu) in medians.items():
        print(f"{name:<34}{wall:>9,.0f}{min(rates[name][0]):>7,.0f}{max(rates[name][0]):>7,.0f}"
              f"{wall / medians[baseline][0]:>9.2f}x{cpu:>11,.0f}{cpu / medians[baseline][1]:>9.2f}x")
    return medians


def precision_rows(images, labels, repeats):
    """The 1.10.5 step and the Keras network, each in float32 and in mixed_bfloat16; the mixed rows
    against the float32 ones, dlbook against Keras in each precision."""
    runs = {"dlbook step": tl_contender(images, labels, xla=False),
            "dlbook step, mixed_bfloat16": tl_contender(images, labels, xla=False, compute_dtype="bfloat16"),
            "keras model.fit": keras_contender(images, labels, jit_compile="auto"),
            "keras model.fit, mixed_bfloat16": keras_contender(images, labels, "auto", dtype="mixed_bfloat16")}
    medians = report(measure(runs, len(images), repeats))
    for a, b in (("dlbook step, mixed_bfloat16", "dlbook step"), ("keras model.fit, mixed_bfloat16", "keras model.fit"),
                 ("dlbook step, mixed_bfloat16", "keras model.fit, mixed_bfloat16")):
        print(f"  {a} / {b}: {medians[a][0] / medians[b][0]:.2f}x wall, {medians[a][1] / medians[b][1]:.2f}x per CPU-second")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=5120, help="images per measured epoch")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--skip-pipeline", action="store_true", help="only the four step contenders")
    parser.add_argument("--precision", action="store_true",
                        help="only the precision rows: dlbook's step and Keras, each in float32 and mixed_bfloat16")
    parser.add_argument("--deterministic", action="store_true",
                        help="TF op determinism on for every contender (as set_seed does in 1.10.5)")
    args = parser.parse_args(argv)
    set_seed(0, deterministic=args.deterministic)  # process-wide: it cannot differ between contenders
    images, labels, source = load_images(args.data_dir, args.images)
    print(f"Data: {source}; batch {BATCH}, Adam {LEARNING_RATE}, {args.repeats} repeats after a warm-up "
          f"epoch, op determinism {'on' if args.deterministic else 'off'}, on {os.cpu_count()} CPU cores "
          f"(load average {os.getloadavg()[0]:.1f} at start)")

    if args.precision:
        return precision_rows(images, labels, args.repeats)
    runs = {
        "dlbook step": tl_contender(images, labels, xla=False),
        "dlbook step, XLA": tl_contender(images, labels, xla=True),
        "keras model.fit": keras_contender(images, labels, jit_compile="auto"),
        "keras model.fit, XLA": keras_contender(images, labels, jit_compile=True),
    }
    if args.deterministic:  # XLA has no deterministic MaxPool gradient: it refuses to compile the step
        print("XLA contenders left out: op determinism rules XLA out for this network (MaxPoolGrad)")
        runs = {name: run for name, run in runs.items() if "XLA" not in name}
    medians = report(measure(runs, len(images), args.repeats))
    if args.skip_pipeline:
        return 0
    xla = "dlbook step, XLA" in medians and medians["dlbook step, XLA"][0] > medians["dlbook step"][0]
    best = "dlbook step" + (", XLA" if xla else "")
    print(f"\nInput pipeline settings, with the faster step ({best}):")
    runs = {
        best: tl_contender(images, labels, xla),
        best + ", no prefetch": tl_contender(images, labels, xla, prefetch=None),
        best + ", sequential map": tl_contender(images, labels, xla, num_parallel_calls=None),
        best + ", per-image aug.": tl_contender(images, labels, xla, batch_transforms=None,
                                               transforms=[train_transform]),
        best + ", batches in memory": tl_contender(images, labels, xla, in_memory=True),
        "keras model.fit": keras_contender(images, labels, jit_compile="auto"),
    }
    report(measure(runs, len(images), args.repeats))
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
