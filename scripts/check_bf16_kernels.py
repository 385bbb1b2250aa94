"""Which oneDNN kernels the 1.10.5 train step runs, with which data types, in each precision.

Runs a few steps of the 1.10.5 step (batch 128, 24x24x3, random images: kernels do not depend on
the pixels) in a child process with ONEDNN_VERBOSE=1, and prints each (primitive, implementation,
data types) with how often it ran. Where bfloat16 is fast the convolutions and inner products
show ``bf16`` sources and weights and an ``avx512_core_bf16`` or ``amx`` implementation; where
the CPU lacks AVX512, TensorFlow says "oneDNN supports DT_BFLOAT16 only on platforms with
AVX-512" and runs bfloat16 in Eigen's kernels (no oneDNN line at all), far slower than float32.
TensorFlow uses oneDNN's kernels by default only on CPUs with AVX512_VNNI, AVX512_BF16 or AMX;
``--onednn`` sets TF_ENABLE_ONEDNN_OPTS=1 to see them elsewhere.

    python scripts/check_bf16_kernels.py                  # both precisions, 3 steps each
    python scripts/check_bf16_kernels.py --time 20        # and ms per step of each, in one process
"""
import argparse
import collections
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRECISIONS = ("float32", "mixed_bfloat16")
DTYPE = re.compile(r"^(src|wei|bia|dst|diff_src|diff_wei|diff_bia|diff_dst)[:_]([a-z0-9]+)")
EIGEN_NOTE = "oneDNN supports DT_BFLOAT16 only"


def run_steps(precision, steps, batch=128):
    """Build the 1.10.5 model and step in ``precision``; run ``steps`` steps; return ms per step."""
    import numpy as np
    from dlbook import precision as precisions, train
    from dlbook.compat import tl
    from dlbook.metrics import accuracy
    from dlbook.models import get_model_batchnorm
    from dlbook.seed import set_seed
    import tensorflow as tf
    from chapters.ch01.s1_10_5_cifar10_cnn import BATCH

    set_seed(0)  # as 1.10.5 runs: op determinism on
    net = get_model_batchnorm([None, 24, 24, 3])
    step = train.train_step(net, tf.optimizers.Adam(1e-4), tl.cost.cross_entropy, metric=accuracy,
                            signature=BATCH + [train.POSITION], compute_dtype=precisions.COMPUTE_DTYPES[precision])
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(batch, 24, 24, 3)).astype(np.float32), rng.integers(0, 10, batch).astype(np.int32)
    float(step(x, y, train.position(0, 0, 0))["loss"])  # traced, not timed
    start = time.perf_counter()
    for i in range(steps):
        out = step(x, y, train.position(0, 0, i + 1))
    float(out["loss"])
    return (time.perf_counter() - start) / steps * 1000


def kernels(precision, steps, onednn):
    """Counter of (primitive, implementation, data types) a child process's steps ran; and
    whether TensorFlow fell back to Eigen for bfloat16."""
    env = dict(os.environ, ONEDNN_VERBOSE="1", TF_CPP_MIN_LOG_LEVEL="0")
    if onednn:
        env["TF_ENABLE_ONEDNN_OPTS"] = "1"
    proc = subprocess.run([sys.executable, __file__, "--child", precision, "--steps", str(steps)], cwd=ROOT,
                          env=env, capture_output=True, text=True, check=True)
    counts = collections.Counter()
    for line in proc.stdout.splitlines():
        fields = line.split(",")
        if line.startswith("onednn_verbose") and fields[2:4] == ["primitive", "exec"] and len(fields) > 8:
            types = " ".join(f"{m[1]}:{m[2]}" for m in map(DTYPE.match, fields[8].split()) if m and m[2] != "undef")
            counts[(fields[5], fields[6] or "-", fields[7], types)] += 1
    return counts, EIGEN_NOTE in proc.stderr


def report(precision, steps, onednn):
    counts, eigen = kernels(precision, steps, onednn)
    print(f"\n{precision}: {steps} step(s) + 1 traced, oneDNN primitives run (count, kind, implementation, "
          f"propagation, data types):")
    for (kind, impl, prop, types), n in counts.most_common():
        print(f"{n:8,d}  {kind:13s} {impl:32s} {prop:17s} {types}")
    bf16 = sum(n for key, n in counts.items() if "bf16" in key[3])
    print(f"primitives with bf16 data: {bf16:,} of {sum(counts.values()):,}"
          + (f"; TensorFlow: \"{EIGEN_NOTE} on platforms with AVX-512\"" if eigen else "")
          + ("; the bfloat16 ops ran in Eigen's kernels, not oneDNN's" if precision != "float32" and not bf16 else ""))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--time", type=int, default=0, metavar="N", help="also time N steps of each precision")
    parser.add_argument("--onednn", action="store_true", help="TF_ENABLE_ONEDNN_OPTS=1 in the child")
    parser.add_argument("--child", choices=PRECISIONS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_steps(args.child, args.steps)
        return
    for precision in PRECISIONS:
        report(precision, args.steps, args.onednn)
    if args.time:
        times = {p: [] for p in PRECISIONS}
        for _ in range(2):  # interleaved, twice: drift on a shared machine hits both
            for precision in PRECISIONS:
                times[precision].append(run_steps(precision, args.time))
        print("\nms per step (batch 128), best of 2: " + ", ".join(f"{p} {min(t):.0f}" for p, t in times.items())
              + f"; float32 / mixed_bfloat16 = {min(times['float32']) / min(times['mixed_bfloat16']):.2f}x")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
