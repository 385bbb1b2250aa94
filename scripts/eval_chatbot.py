"""Measure the 1.10.6 chatbot: loss curve, greedy reproduction of trained replies, sample replies,
and the cost of one training step of the book's model.

    # train on the whole embedded corpus (options after -- go to `dlbook run 1.10.6`), then measure;
    # the README's figures: 2 GRU layers, 256-d embedding, lr 0.003, 30 epochs of 39 steps ...
    python scripts/eval_chatbot.py --output-dir runs/chatbot-all -- --n-layer 2 --emb-dim 256 \
        --query-len 12 --decoder-seq-length 16 --learning-rate 0.003 --epochs 30
    # ... and the printed model (3 GRU layers of 256) with the defaults: 1024-d embedding, lr 0.001
    python scripts/eval_chatbot.py --output-dir runs/chatbot-book -- --epochs 58
    # measure a run that is already trained
    python scripts/eval_chatbot.py --checkpoint runs/chatbot-all
    # time of one compiled training step and peak memory of the book's model at batch 32
    python scripts/eval_chatbot.py --bench

Reproduction: among the training pairs whose query (as the encoder sees it) has exactly one reply
in the corpus, a fixed sample of 50 (numpy seed 0) is answered greedily; a query counts when the
reply is exactly the trained one (the reply words, cut to decoder_seq_length - 1, then the end token).
"""
import argparse
import os
import resource
import sys
import time
from collections import defaultdict

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from chapters.ch01 import s1_10_6_chatbot as chatbot  # noqa: E402
from dlbook.chat.inference import greedy_decode  # noqa: E402
from dlbook.chat.store import load_chatbot, read_config  # noqa: E402
from dlbook.chat.vocab import make_arrays  # noqa: E402

QUERIES = ["happy birthday have a nice day", "hi how are you", "what is your name", "tell me a joke"]


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def training_pairs(config):
    """The encoder inputs and targets the run in ``config`` was trained on."""
    options = chatbot.build_parser().parse_args([])
    for key in chatbot.MODEL_KEYS:
        setattr(options, key, config[key])
    query_ids, reply_ids, vocab = chatbot.load_corpus(options)
    enc, _, target, _ = make_arrays(query_ids, reply_ids, vocab, config["query_len"],
                                    config["decoder_seq_length"])
    return enc, target


def single_reply_sample(enc, target, size=50, seed=0):
    """Indices of ``size`` pairs whose encoder input has one distinct reply, drawn with ``seed``."""
    replies = defaultdict(set)
    for e, t in zip(enc, target):
        replies[e.tobytes()].add(t.tobytes())
    first = {}
    for i, e in enumerate(enc):
        first.setdefault(e.tobytes(), i)
    single = sorted(first[k] for k, v in replies.items() if len(v) == 1)
    chosen = np.random.default_rng(seed).choice(single, size=min(size, len(single)), replace=False)
    return np.sort(chosen), len(single)


def reproduced(pred, target, end_id):
    """True where the greedy reply equals the target up to and including its end token."""
    ok = []
    for p, t in zip(pred, target):
        n = int(np.argmax(t == end_id)) + 1
        ok.append(p[:n].tolist() == t[:n].tolist())
    return np.array(ok)


def evaluate(directory):
    config = read_config(directory)
    bot = load_chatbot(directory)
    v = bot.vocab
    losses = config["losses"]
    print(f"run: {directory}: {config['n_pairs']} distinct pairs, vocabulary {config['vocabulary_size']}, "
          f"n_layer {config['n_layer']}, n_units {config['n_units']}, emb {config['embedding_size']}, "
          f"query_len {config['query_len']}, decoder_seq_length {config['decoder_seq_length']}, "
          f"lr {config['learning_rate']}, batch {config['batch_size']}, {len(losses)} epochs")
    print("loss per epoch: " + ", ".join(f"{x:.3f}" for x in losses))
    print(f"loss: first epoch {losses[0]:.3f}, last {losses[-1]:.3f} "
          f"({losses[-1] / losses[0]:.1%} of the first)")

    enc, target = training_pairs(config)
    sample, n_single = single_reply_sample(enc, target)
    pred, _ = greedy_decode(bot.model, enc[sample], v.start_id, v.end_id, bot.max_reply_len)
    ok = reproduced(pred, target[sample], v.end_id)
    print(f"greedy reproduces the trained reply for {ok.sum()}/{len(sample)} = {ok.mean():.0%} of a fixed "
          f"sample of training queries with a single reply ({n_single} such queries)")
    for k, i in enumerate(sample[:10]):
        print(f"  {'ok' if ok[k] else 'NO'} {' '.join(v.decode(enc[i]))!r} -> {' '.join(v.decode(pred[k]))!r}"
              f"  (trained: {' '.join(v.decode(target[i]))!r})")

    rng = np.random.default_rng(0)
    for query in QUERIES:
        print(f"Query > {query}")
        for mode in ("greedy", "sample", "beam"):
            for words, score in bot.reply(query, mode=mode, n_replies=3, top_n=3, beam_width=5, rng=rng):
                print(f"> {' '.join(words):<50} [{mode}, log p {score:.2f}]")


def bench(steps=5, batch_size=32, vocabulary_size=3347):
    """Median wall time of one (compiled) training step of the book's model, and peak RSS."""
    import tensorflow as tf

    from dlbook.models.seq2seq import get_seq2seq_model
    from dlbook.seed import set_seed
    from dlbook.train import position, train_step

    set_seed(0)
    before = peak_rss_mb()
    model = get_seq2seq_model(vocabulary_size)  # decoder_seq_length 20, 3 x GRU 256, emb 1024
    optimizer = tf.optimizers.Adam(learning_rate=0.001)
    optimizer.build(model.trainable_weights)  # its variables exist before the step is traced
    model.train()
    rng = np.random.default_rng(0)
    enc = rng.integers(1, vocabulary_size, (batch_size, 20)).astype(np.int32)
    dec = rng.integers(1, vocabulary_size, (batch_size, 20)).astype(np.int32)
    target = rng.integers(1, vocabulary_size, (batch_size, 20)).astype(np.int32)
    mask = np.ones((batch_size, 20), np.float32)
    step = train_step(model, optimizer, chatbot.sequence_loss, signature=chatbot.batch_signature(20, 20))
    times, cpu = [], []
    for _ in range(steps + 1):
        t, c = time.perf_counter(), time.process_time()
        float(step([enc, dec], (target, mask), position(0, 0, 0))["loss"])
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    print(f"book model (vocabulary {vocabulary_size}, query and decoder length 20), batch {batch_size}, compiled: "
          f"one training step {np.median(times[1:]):.2f} s wall median of {steps} "
          f"(CPU {np.median(cpu[1:]):.2f} s; first step {times[0]:.2f} s); "
          f"peak RSS {peak_rss_mb():.0f} MB (before the model: {before:.0f} MB)")


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    passthrough = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", help="evaluate this trained run (no training)")
    parser.add_argument("--output-dir", default="runs/chatbot-all", help="where to train")
    parser.add_argument("--bench", action="store_true", help="time one training step at batch 32")
    args = parser.parse_args(argv)
    if args.bench:
        bench()
        return 0
    directory = args.checkpoint
    if directory is None:
        directory = args.output_dir
        chatbot.main(["--categories", "all", "--output-dir", directory, "--sample-every", "0", *passthrough])
    evaluate(directory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
