"""Benchmark the 1.10.5 input pipeline, in one run (medians of interleaved repeats, ratios).

1. Augmentation throughput, images/second, batches of 128 ready for the model, from images in memory:
   - baseline: a per-image Python loop with tl.prepro, as the listing does (its _fn_train as printed:
     a centre-crop view and a no-op normalization, so almost no work per image),
   - the same loop with the tl.prepro flags its comments mean (random crop, normalization on),
   - the same loop with dlbook's corrected NumPy transform (random crop + flip + standardization),
   - the Dataloader with the book's NumPy _fn_train (through tf.numpy_function),
   - the Dataloader with the TF-ops augmentation per image (tf.data map over images),
   - the Dataloader with the TF-ops augmentation per batch (random crops still drawn per image).
2. End-to-end: the time of training steps of the 1.10.5 CNN fed by the Dataloader (TF ops per
   batch) against the same steps fed from augmented batches already in memory; the difference is
   what the input pipeline costs the training.

Uses the real CIFAR-10 training images when found (--data-dir, default ../shared/data), else
random images (said in the output). Usage:

    python scripts/bench_pipeline.py                      # ~3 minutes on 2 cores
    python scripts/bench_pipeline.py --repeats 5 --train-batches 40
"""
import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from dlbook.compat import tl
from dlbook.data import Dataloader
from dlbook.data.dataset import ArrayDataset
from dlbook.data.transforms import book_fn_train as _fn_train, numpy_train_transform, train_transform
from dlbook.models import get_model_batchnorm
from dlbook.seed import set_seed
import tensorflow as tf

BATCH = 128


def _fn_train_flags_on(img, target):
    """The listing's tl.prepro calls with the flags its comments mean (random crop, normalization
    on; tl.prepro's normalization is per pixel across channels, not per image: see errata)."""
    img = tl.prepro.crop(img, 24, 24, is_random=True)
    img = tl.prepro.flip_axis(img, is_random=True)
    img = tl.prepro.samplewise_norm(img, samplewise_center=True, samplewise_std_normalization=True)
    return img, np.reshape(target, ())


def load_images(data_dir, n):
    directory = Path(data_dir) / "cifar10" / "cifar-10-batches-py"
    if (directory / "data_batch_1").is_file():
        from dlbook.data.cifar10 import read_cifar10_batch
        data, labels = read_cifar10_batch(directory / "data_batch_1")
        images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).astype(np.float32)
        return images[:n], labels[:n], f"real CIFAR-10 ({directory / 'data_batch_1'})"
    rng = np.random.default_rng(0)
    return (rng.uniform(0, 255, (n, 32, 32, 3)).astype(np.float32), rng.integers(0, 10, n).astype(np.int32),
            "random images (real CIFAR-10 not found)")


def python_loop(transform):
    def run(images, labels):
        order = np.random.permutation(len(images))
        for start in range(0, len(images), BATCH):
            pairs = [transform(images[i], labels[i]) for i in order[start:start + BATCH]]
            np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])
    return run


def through_loader(**kwargs):
    """One epoch of a Dataloader built on first use (the warm-up round pays for building it)."""
    loaders = {}

    def run(images, labels):
        if "loader" not in loaders:
            loaders["loader"] = Dataloader(ArrayDataset(images, labels), batch_size=BATCH, shuffle=True,
                                           output_types=(np.float32, np.int32), **kwargs)
        for _ in loaders["loader"]:
            pass
    return run


def median_rates(cases, images, labels, repeats):
    """{name: median images/s}; the cases run interleaved, after one warm-up round (which
    builds each Dataloader and traces its functions, as a training run does once)."""
    times = {name: [] for name in cases}
    for repeat in range(repeats + 1):
        for name, run in cases.items():
            start = time.perf_counter()
            run(images, labels)
            if repeat:  # the first round warms up (tracing, caches)
                times[name].append(time.perf_counter() - start)
    return {name: len(images) / statistics.median(t) for name, t in times.items()}


def bench_training(images, labels, n_batches, repeats):
    """Median (wall, CPU) seconds of ``n_batches`` training steps fed by the Dataloader and from
    memory. The process CPU time counts the pipeline's own work wherever it runs, and is far less
    disturbed than wall time by other processes on a shared machine."""
    net = get_model_batchnorm([None, 24, 24, 3])
    optimizer = tf.optimizers.Adam(0.0001)
    optimizer.build(net.trainable_weights)
    signature = [tf.TensorSpec([None, 24, 24, 3], tf.float32), tf.TensorSpec([None], tf.int32)]

    @tf.function(input_signature=signature)
    def train_step(X_batch, y_batch):
        with tf.GradientTape() as tape:
            loss = tl.cost.cross_entropy(net(X_batch), y_batch, name='train_loss')
        grad = tape.gradient(loss, net.trainable_weights)
        optimizer.apply_gradients(zip(grad, net.trainable_weights))
        return loss

    n = n_batches * BATCH
    loader = Dataloader(ArrayDataset(images[:n], labels[:n]), batch_transforms=[train_transform],
                        shuffle=True, batch_size=BATCH, output_types=(np.float32, np.int32))
    in_memory = [(tf.constant(x), tf.constant(y)) for x, y in loader]  # the same kind of batches
    net.train()
    train_step(*in_memory[0])  # trace once

    def epoch(batches):
        start, start_cpu = time.perf_counter(), time.process_time()
        for X_batch, y_batch in batches:
            loss = train_step(X_batch, y_batch)
        float(loss)  # wait for the last step
        return time.perf_counter() - start, time.process_time() - start_cpu

    fed, memory = [], []
    for _ in range(repeats):
        fed.append(epoch(loader))
        memory.append(epoch(in_memory))
    medians = [tuple(statistics.median(t[i] for t in runs) for i in (0, 1)) for runs in (fed, memory)]
    return medians[0], medians[1], n


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--images", type=int, default=10_000, help="images per throughput measurement")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--train-batches", type=int, default=20, help="training steps per end-to-end epoch")
    args = parser.parse_args(argv)
    set_seed(0, deterministic=False)
    images, labels, source = load_images(args.data_dir, args.images)
    print(f"data: {len(images):,} {source}; batch {BATCH}; {args.repeats} repeats, medians")

    cases = {
        "Python loop, tl.prepro (the listing's _fn_train)": python_loop(_fn_train),
        "Python loop, tl.prepro with the flags on (random, norm)": python_loop(_fn_train_flags_on),
        "Python loop, NumPy (dlbook numpy_train_transform)": python_loop(numpy_train_transform),
        "Dataloader, the listing's _fn_train (numpy_function)": through_loader(transforms=[_fn_train]),
        "Dataloader, numpy_train_transform (numpy_function)":
            through_loader(transforms=[numpy_train_transform]),
        "Dataloader, TF ops per image": through_loader(transforms=[train_transform]),
        "Dataloader, TF ops per batch": through_loader(batch_transforms=[train_transform]),
    }
    rates = median_rates(cases, images, labels, args.repeats)
    printed, working = list(rates.values())[:2]  # the printed loop, and the loop doing the augmentation
    print(f"\n{'augmentation into batches of 128':<56}{'images/s':>10}{'vs listing loop':>17}"
          f"{'vs loop, flags on':>19}")
    for name, rate in rates.items():
        print(f"{name:<56}{rate:>10,.0f}{rate / printed:>16.2f}x{rate / working:>18.2f}x")

    (fed, fed_cpu), (memory, memory_cpu), n = bench_training(images, labels, args.train_batches, args.repeats)
    print(f"\nend-to-end, {args.train_batches} training steps of the 1.10.5 CNN ({n:,} images), "
          f"wall and process CPU seconds:")
    print(f"  fed by the Dataloader (TF ops per batch): {fed:6.2f} s  ({n / fed:,.0f} img/s)  "
          f"CPU {fed_cpu:6.2f} s")
    print(f"  from batches already in memory:           {memory:6.2f} s  ({n / memory:,.0f} img/s)  "
          f"CPU {memory_cpu:6.2f} s")
    print(f"  input pipeline overhead: wall {100 * (fed / memory - 1):+.1f}%, "
          f"CPU {100 * (fed_cpu / memory_cpu - 1):+.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
