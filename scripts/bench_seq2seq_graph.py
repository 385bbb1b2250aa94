"""Benchmark: one Seq2seq training step eagerly vs inside a ``tf.function`` (possible since
``dlbook.compat.fix_rnn_forward``; TensorLayer's own RNN forward is eager-only).

The book's chatbot model of 1.10.6 (``tl.models.Seq2seq``, 3 GRU layers of 256 units as printed;
embedding 1024 and decoder length 20, the seq2seq-chatbot repository's values) on random token ids (speed does not depend on the values): batch 32,
encoder and decoder 20 steps, Adam. The two contenders share the model and alternate (eager,
compiled, eager, ...) so that drift on a shared machine hits both alike; one warm-up step each
(tracing excluded); medians of ``--repeats`` steps and their ratio are printed.

    python scripts/bench_seq2seq_graph.py [--vocabulary 2000] [--batch-size 32] [--repeats 5]
"""
import argparse
import statistics
import time

from dlbook.compat import tl
import numpy as np
import tensorflow as tf

from dlbook.seed import set_seed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocabulary", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=20, help="encoder and decoder length")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    set_seed(0, deterministic=False)
    vocabulary = args.vocabulary
    model = tl.models.Seq2seq(
        decoder_seq_length=args.steps, cell_enc=tf.keras.layers.GRUCell, cell_dec=tf.keras.layers.GRUCell,
        n_layer=3, n_units=256, embedding_layer=tl.layers.Embedding(vocabulary_size=vocabulary, embedding_size=1024))
    optimizer = tf.optimizers.Adam(1e-3)
    rng = np.random.default_rng(0)
    shape = (args.batch_size, args.steps)
    encoder, decoder = (tf.constant(rng.integers(1, vocabulary, shape)) for _ in range(2))
    target = tf.roll(decoder, -1, axis=1)
    model.train()

    def step():
        with tf.GradientTape() as tape:
            logits = model(inputs=[encoder, decoder])
            loss = tl.cost.cross_entropy_seq_with_mask(
                logits=tf.reshape(logits, [-1, vocabulary]), target_seqs=target, input_mask=tf.ones_like(target))
        grads = tape.gradient(loss, model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights))
        return loss

    contenders = {"eager": step, "tf.function": tf.function(step)}
    times = {name: [] for name in contenders}
    for name, run in contenders.items():  # warm-up: tracing, optimizer slots
        float(run())
    for _ in range(args.repeats):
        for name, run in contenders.items():
            start = time.perf_counter()
            float(run())
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, median in medians.items():
        print(f"{name:12s} median {median:.3f} s/step  ({args.batch_size / median:.1f} sequence pairs/s)")
    print(f"speed-up of tf.function over eager: {medians['eager'] / medians['tf.function']:.2f}x")


if __name__ == "__main__":
    main()
