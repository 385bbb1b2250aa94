"""Training speed of dlbook.train.train_step with a strategy: one device vs MirroredStrategy on split CPUs.

    python scripts/bench_distribute.py [--cpu-devices 2] [--repeats 5] [--steps 20]

For the book's MLP (784-800-800-10, batch 256) and the 1.10.5 BatchNorm CNN (24x24x3, batch
128) on random data, times ``--steps`` train steps (after a warm-up that traces the step)
``--repeats`` times per setting, and prints the median samples/s and the ratio to the book's
plain GradientTape step on one device, all in one run (shared machines drift +-20%).
Splitting ONE CPU into logical devices shows the cost of the replication and all-reduce, not a
speed-up: the devices share the same cores. The speed-up needs several GPUs or workers.
"""
import argparse
import statistics
import time

from dlbook import distribute


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu-devices", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    distribute.setup(cpu_devices=args.cpu_devices)  # before TensorLayer is imported

    from dlbook.compat import tl
    import numpy as np
    import tensorflow as tf
    from dlbook.models import get_mlp_model, get_model_batchnorm
    from dlbook.train import position, train_step

    rng = np.random.default_rng(0)
    cases = {
        "MLP 784-800-800-10, batch 256": (lambda: get_mlp_model([None, 784]), (256, 784)),
        "BatchNorm CNN 24x24x3, batch 128": (lambda: get_model_batchnorm([None, 24, 24, 3]), (128, 24, 24, 3)),
    }
    strategies = {"default (1 replica)": tf.distribute.get_strategy(),
                  f"mirrored ({args.cpu_devices} CPU devices)": distribute.get_strategy("mirrored")}
    for case, (make_model, shape) in cases.items():
        X = tf.constant(rng.normal(size=shape).astype(np.float32))
        y = tf.constant(rng.integers(0, 10, size=shape[0]).astype(np.int32))
        steps = {}
        net = make_model()
        net.train()
        optimizer = tf.optimizers.Adam(1e-4)
        optimizer.build(net.trainable_weights)

        @tf.function
        def book_step(X, y, net=net, optimizer=optimizer):
            with tf.GradientTape() as tape:
                loss = tl.cost.cross_entropy(net(X), y, name="ce")
            optimizer.apply_gradients(zip(tape.gradient(loss, net.trainable_weights), net.trainable_weights))
            return loss
        steps["book step, 1 device"] = book_step
        for name, strategy in strategies.items():
            with distribute.scope(strategy):
                net = make_model()
                optimizer = tf.optimizers.Adam(1e-4)
            net.train()
            step = train_step(net, optimizer, tl.cost.cross_entropy, strategy=strategy)
            steps[f"train_step, {name}"] = lambda X, y, step=step: step(X, y, position(0, 0, 0))["loss"]

        rates = {name: [] for name in steps}
        for name, step in steps.items():
            float(step(X, y))  # trace
        for _ in range(args.repeats):  # settings interleaved: the machine's drift hits all alike
            for name, step in steps.items():
                started = time.perf_counter()
                for _ in range(args.steps):
                    result = step(X, y)
                float(result)  # wait for the last step
                rates[name].append(args.steps * shape[0] / (time.perf_counter() - started))
        baseline = statistics.median(rates["book step, 1 device"])
        print(f"\n{case}: median samples/s of {args.repeats} x {args.steps} steps")
        for name, values in rates.items():
            median = statistics.median(values)
            print(f"  {name:<45} {median:9,.0f}   x{median / baseline:.2f}")


if __name__ == "__main__":
    main()
