"""Benchmark: TensorFlow's oneDNN kernels against its default (Eigen) ones on this CPU, for the
1.10.5 train step and the 1.10.4 fit.

TF_ENABLE_ONEDNN_OPTS is read once, when TensorFlow loads, so each measurement is a child process
(this script with ``--child``) that times ``--steps`` compiled 1.10.5 train steps (batch 128,
24x24x3, the tuned recipe's SGD, op determinism on as 1.10.5 runs) and one 1.10.4 fit epoch
(batch 256) after a warm-up; the children alternate (oneDNN off, on, off, ...) ``--repeats``
times, and the medians and the ratio are printed. dlbook turns oneDNN on by itself on x86-64
(dlbook.precision.prefer_onednn); TensorFlow alone does so only on CPUs with AVX512_VNNI,
AVX512_BF16 or AMX, where this benchmark compares two runs of the same kernels.

    python scripts/bench_onednn.py [--repeats 5] [--steps 20]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child(steps):
    """Print {"cnn": images/s of the 1.10.5 step, "mlp": samples/s of a 1.10.4 fit epoch}."""
    sys.path.insert(0, str(ROOT))
    from dlbook.compat import tl
    from dlbook.metrics import accuracy
    from dlbook.models import get_mlp_model, get_model_batchnorm
    from dlbook.seed import set_seed
    from dlbook.train import POSITION, fit, position, train_step
    import numpy as np
    import tensorflow as tf

    set_seed(0)
    rng = np.random.default_rng(0)
    net = get_model_batchnorm([None, 24, 24, 3])
    signature = [tf.TensorSpec([None, 24, 24, 3], tf.float32), tf.TensorSpec([None], tf.int32), POSITION]
    step = train_step(net, tf.optimizers.SGD(0.05, momentum=0.9, nesterov=True), tl.cost.cross_entropy,
                      metric=accuracy, signature=signature)
    x = tf.constant(rng.normal(size=(128, 24, 24, 3)).astype(np.float32))
    y = tf.constant(rng.integers(0, 10, 128).astype(np.int32))
    float(step(x, y, position(0, 0, 0))["loss"])  # warm-up: tracing
    start = time.perf_counter()
    for i in range(steps):
        out = step(x, y, position(0, 0, i + 1))
    float(out["loss"])
    cnn = steps * 128 / (time.perf_counter() - start)
    X = rng.random((10240, 784), dtype=np.float32)
    Y = rng.integers(0, 10, 10240).astype(np.int32)
    mlp, optimizer = get_mlp_model([None, 784]), tf.optimizers.Adam(1e-4)
    run = lambda: fit(mlp, optimizer, tl.cost.cross_entropy, X, Y, acc=accuracy, batch_size=256,  # noqa: E731
                      n_epoch=1, seed=0, verbose=0)
    run()
    start = time.perf_counter()
    run()
    print(json.dumps({"cnn": cnn, "mlp": len(X) / (time.perf_counter() - start)}))


def measure(onednn, steps):
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": "1" if onednn else "0", "DLBOOK_DEBUG": ""}
    out = subprocess.run([sys.executable, __file__, "--child", "--steps", str(steps)], env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20, help="1.10.5 steps timed per child")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.steps)
    print(f"{args.repeats} alternating pairs of child processes, {args.steps} steps of 1.10.5 each, on "
          f"{os.cpu_count()} CPU cores (load average {os.getloadavg()[0]:.1f} at start)")
    rates = {False: [], True: []}
    for _ in range(args.repeats):
        for onednn in (False, True):
            rates[onednn].append(measure(onednn, args.steps))
    for key, what in (("cnn", "1.10.5 step, images/s"), ("mlp", "1.10.4 fit, samples/s")):
        off, on = (statistics.median(r[key] for r in rates[flag]) for flag in (False, True))
        paired = statistics.median(b[key] / a[key] for a, b in zip(rates[False], rates[True]))
        print(f"{what:<24} Eigen {off:>8,.0f}   oneDNN {on:>8,.0f}   {on / off:.2f}x (median of paired ratios "
              f"{paired:.2f}x)")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
