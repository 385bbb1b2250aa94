"""
Title: GRU Seq2seq chatbot (1.10.6)
Description: the book's ``Seq2seq`` call, GRU cells in 3 layers of 256 units (as printed; the 1024-d
embedding is the seq2seq-chatbot repository's size, the chapter does not print one), trained with
masked sequence cross-entropy and Adam on query -> reply pairs, then asked for several replies.

Data: by default a small slice of the embedded chatterbot-corpus (categories greetings and
conversations; ``--categories all`` gives all its 2,393 pairs, 1,245 of them distinct: repeated
pairs are dropped); ``--corpus FILE.tsv`` reads
query<TAB>reply lines; ``--corpus DIR`` reads the format of TensorLayer's seq2seq-chatbot
repository (idx_q.npy, idx_a.npy, metadata.pkl). Queries are left-padded to ``--query-len`` words
(errata: chat-encoder-padding); replies get the start/end tokens and are padded to
``--decoder-seq-length`` with a mask, so the loss ignores the padding.

Prints the loss of every epoch and several replies to each seed query in the chapter's form
("Query > happy birthday have a nice day" / "> ..."; the chapter shows five replies to that
query): three, each word after the first drawn from the ``--top-n`` most likely, as TensorLayer's
seq2seq-chatbot repository draws them. The run lives in ``--output-dir`` (default
``runs/chatbot``, a run directory of :mod:`dlbook.session`): after every epoch and on Ctrl-C or
SIGTERM, ``model.h5``, ``checkpoint.h5`` (for ``--resume``), ``config.json``, ``vocab.json`` and
``run.json`` are saved together, so the folder always holds a chatbot that ``dlbook chat
--checkpoint DIR`` can load, even while a retrain (``--overwrite``) is under way.

Expected: the default run (130 distinct pairs, vocabulary 326, 10 epochs of 5 steps, about 70 s of
CPU time) takes the loss from 5.70 to 3.97, with still generic replies ("what is ..."). Trained on
the whole corpus the model gives back the trained reply to most training queries:
``python scripts/eval_chatbot.py`` trains it and measures that (figures in the README).
"""
# %% [markdown]
# ## Setup
# The corpus, vocabulary, model and chat helpers are in `dlbook.chat` and
# `dlbook.models.seq2seq` (the book's `Seq2seq` call).

# %%
# Setup
import os

import numpy as np

from dlbook import precision, session, train
from dlbook.chat.corpus import chatterbot_categories, load_chatterbot_pairs, load_tl_corpus, read_tsv_pairs
from dlbook.chat.command import main as chat_main  # noqa: F401  (`dlbook chat`, see "Chatting")
from dlbook.chat.inference import Chatbot
from dlbook.chat.store import save_run_files
from dlbook.chat.vocab import Vocabulary, distinct_pairs, make_arrays, tokenize
from dlbook.errors import UsageError
from dlbook.models.seq2seq import get_seq2seq_model, masked_sequence_loss
from dlbook.options import add_training_args, check_fits, int_option, make_parser, positive_float, seq2seq_weights
from dlbook.seed import set_seed
import tensorflow as tf  # after dlbook, which holds TensorFlow's start-up lines (dlbook.quiet)

PROG = "dlbook run 1.10.6"
SEED_QUERIES = ["happy birthday have a nice day", "hi how are you"]
DEFAULT_CATEGORIES = "greetings,conversations"
# Options that fix the data, the model and the batch order: --resume must be given the same values.
MODEL_KEYS = ("corpus", "categories", "max_pairs", "min_count", "query_len", "decoder_seq_length",
              "n_layer", "n_units", "embedding_size")
RUN_KEYS = MODEL_KEYS + ("seed", "batch_size", "learning_rate", "precision")


# %% [markdown]
# ## Options
# The command line's options; the model's sizes default to the values of the book's call and
# of TensorLayer's chatbot example.

# %%
def build_parser():
    parser = make_parser(prog=PROG, description="Train the book's GRU Seq2seq chatbot (section 1.10.6).")
    add_training_args(parser, epochs=10, batch_size=32, output_dir="runs/chatbot", data_dir=False)
    parser.add_argument("--corpus", default="chatterbot",
                        help="'chatterbot' (embedded), a query<TAB>reply .tsv file, or a folder "
                             "with TensorLayer's idx_q.npy, idx_a.npy, metadata.pkl")
    parser.add_argument("--categories", default=DEFAULT_CATEGORIES,
                        help="chatterbot-corpus categories, comma-separated, or 'all'")
    parser.add_argument("--max-pairs", type=int_option("max_pairs"), default=None,
                        help="use only the first N pairs")
    parser.add_argument("--min-count", type=int_option("min_count"), default=1,
                        help="words seen fewer times become unk (chatterbot / TSV corpora)")
    parser.add_argument("--query-len", type=int_option("query_len"), default=20, help="encoder length in words")
    parser.add_argument("--decoder-seq-length", type=int_option("decoder_seq_length"), default=20,
                        help="decoder length (reply words + end token)")
    parser.add_argument("--n-layer", type=int_option("n_layer"), default=3, help="GRU layers")
    parser.add_argument("--n-units", type=int_option("n_units"), default=256, help="GRU units per layer")
    parser.add_argument("--emb-dim", dest="embedding_size", type=int_option("embedding_size"), default=1024,
                        help="word embedding size (the printed call's emb_dim, whose value the chapter "
                             "does not give; 1024 is TensorLayer's seq2seq-chatbot repository's)")
    parser.add_argument("--learning-rate", type=positive_float, default=0.001, help="Adam learning rate")
    parser.add_argument("--top-n", type=int_option("top_n"), default=3,
                        help="top-n sampling for the replies printed each epoch")
    parser.add_argument("--sample-every", type=int_option("sample_every"), default=1, metavar="N",
                        help="print replies to the seed queries every N epochs (0: never)")
    return parser


# %% [markdown]
# ## The data
# Question/answer pairs (by default from the chatterbot corpus shipped with the package) turned
# into word ids of fixed lengths for the encoder and the decoder.

# %%
# Data
def load_corpus(args):
    """(query ids, reply ids, vocabulary): the distinct pairs of the chosen corpus."""
    if args.corpus == "chatterbot":
        categories = None if args.categories == "all" else args.categories.split(",")
        pairs = load_chatterbot_pairs(categories)
    elif os.path.isdir(args.corpus):
        query_ids, reply_ids, vocab = load_tl_corpus(args.corpus)
        query_ids, reply_ids = distinct_pairs(query_ids, reply_ids)
        return query_ids[:args.max_pairs], reply_ids[:args.max_pairs], vocab
    elif os.path.isfile(args.corpus):
        pairs = read_tsv_pairs(args.corpus)
    else:
        raise UsageError(f"--corpus {args.corpus!r} is neither 'chatterbot' nor an existing TSV file or "
                         f"TensorLayer corpus folder (categories of chatterbot: "
                         f"{', '.join(chatterbot_categories())})")
    words = [(tokenize(q), tokenize(r)) for q, r in pairs]
    query_words, reply_words = distinct_pairs([q for q, _ in words], [r for _, r in words])
    query_words, reply_words = query_words[:args.max_pairs], reply_words[:args.max_pairs]
    vocab = Vocabulary.build(query_words + reply_words, min_count=args.min_count)
    return [vocab.encode(q) for q in query_words], [vocab.encode(r) for r in reply_words], vocab


# %%
def check_model_fits(args, vocabulary_size):
    """Refuse model sizes whose weights, gradients and Adam state exceed this machine's memory."""
    check_fits(seq2seq_weights(vocabulary_size, args.n_layer, args.n_units, args.embedding_size),
               f"--n-layer {args.n_layer}, --n-units {args.n_units}, --emb-dim {args.embedding_size} and a "
               f"vocabulary of {vocabulary_size:,} words")


# %%
def run_config(args, vocab, n_pairs, losses, model):
    """config.json: what ``dlbook chat`` needs to rebuild the model, and the loss of each epoch."""
    config = {key: getattr(args, key) for key in MODEL_KEYS}
    config.update(model=model, vocabulary_size=len(vocab), n_pairs=n_pairs, learning_rate=args.learning_rate,
                  batch_size=args.batch_size, seed=args.seed, losses=list(losses))
    return config


# %% [markdown]
# ## What the training differs in
# The decoder is fed the reply shifted by one word (teacher forcing); the loss is the
# cross-entropy of each reply word, masked past the end of the reply. `dlbook.train` runs the
# steps (compiled: with dlbook's RNN fix, errata tl-rnn-sequence-length, Seq2seq traces, several
# times faster than the book's eager loop: scripts/bench_seq2seq_graph.py); after each epoch the
# model answers a few queries.

# %%
def sequence_loss(logits, labels):
    """The masked cross-entropy of the reply words; ``labels`` is (target, mask)."""
    target, mask = labels
    return masked_sequence_loss(logits, target, mask)


def batch_signature(query_len, decoder_seq_length):
    """The step's inputs ([encoder ids, decoder ids]), labels (target ids, mask) and position."""
    queries = tf.TensorSpec([None, query_len], tf.int32)  # TL's RNN unrolls over a static length
    replies = tf.TensorSpec([None, decoder_seq_length], tf.int32)
    return [[queries, replies], (replies, tf.TensorSpec([None, decoder_seq_length], tf.float32)), train.POSITION]


class SampleReplies(train.Hook):
    """After every ``every``-th epoch: replies to the seed queries, top-n sampled (as the chatbot
    repository does), from a generator seeded by (seed, epoch)."""

    def __init__(self, bot, every, top_n, seed):
        self.bot, self.every, self.top_n, self.seed = bot, every, top_n, seed

    def after_epoch(self, epoch, row):
        if self.every and (epoch + 1) % self.every == 0:
            rng = np.random.default_rng([self.seed, epoch])
            for query in SEED_QUERIES:
                print("Query >", query)
                for words, _ in self.bot.reply(query, mode="sample", n_replies=3, top_n=self.top_n, rng=rng):
                    print(">", " ".join(words))


# %% [markdown]
# ## Putting it together
# `main` loads the pairs, builds the GRU encoder-decoder of 1.10.6, trains it, prints the loss
# per epoch with sampled replies to a few queries, and saves a run that `dlbook chat` can load.

# %%
def main(argv=None):
    args = build_parser().parse_args(argv)
    check_model_fits(args, vocabulary_size=4)  # before any data loads; again once the vocabulary is known
    args.precision, why = precision.resolve(args.precision)  # auto: what this machine runs fast; fixed by the run
    run = session.open_run(args, argv, prog=PROG, keys=RUN_KEYS)
    set_seed(args.seed)

    # Data
    query_ids, reply_ids, vocab = load_corpus(args)
    if not query_ids:
        raise UsageError("the corpus has no query/reply pairs; check --corpus, --categories and --max-pairs")
    enc, dec, target, mask = make_arrays(query_ids, reply_ids, vocab, args.query_len, args.decoder_seq_length)
    run.fix(vocabulary_size=len(vocab), n_pairs=len(enc))
    check_model_fits(args, len(vocab))
    print(f"corpus: {len(enc)} distinct pairs, vocabulary {len(vocab)} words, "
          f"query length {args.query_len}, decoder length {args.decoder_seq_length}")
    print(precision.line(args.precision, why))

    # Model: the book's Seq2seq(...) call (dlbook.models.seq2seq.get_seq2seq_model)
    model_ = run.build(get_seq2seq_model, vocabulary_size=len(vocab), decoder_seq_length=args.decoder_seq_length,
                       n_layer=args.n_layer, n_units=args.n_units, emb_dim=args.embedding_size)  # recorded
    optimizer = tf.optimizers.Adam(learning_rate=args.learning_rate)
    run.restore(model_, optimizer)  # a resumed run: its weights, Adam's state, where it stopped
    # every snapshot holds what `dlbook chat` loads: model.h5 with config.json and vocab.json
    run.keep(lambda directory: save_run_files(
        directory, run_config(args, vocab, len(enc), run.history.get("loss", []), run.options["model"]), vocab))  # errata: chat-save-weights

    # Train: Adam on the masked cross-entropy; the batch order depends on (seed, epoch) only
    step = train.train_step(model_, optimizer, sequence_loss,
                            signature=batch_signature(enc.shape[1], dec.shape[1]),
                            compute_dtype=precision.COMPUTE_DTYPES[args.precision])
    pairs = train.Batches([enc, dec], (target, mask), args.batch_size, shuffle=True, seed=args.seed)
    hooks = [SampleReplies(Chatbot(model_, vocab, args.query_len, args.decoder_seq_length),
                           args.sample_every, args.top_n, args.seed)]
    hooks += [train.TensorBoard(args.tensorboard)] if args.tensorboard else []
    train.train_epochs(run, step, pairs, args.epochs, seed=args.seed, hooks=hooks)
    print(f"the chatbot is saved in {args.output_dir}; talk to it: dlbook chat --checkpoint {args.output_dir}")
    return 0


# %% [markdown]
# ## Chatting
# `dlbook chat --checkpoint DIR` talks to a saved run (`dlbook.chat.command`); the notebook only
# trains.

# %% [markdown]
# ## Parameters
# The section's command-line options for a notebook run, with underscores for dashes
# (`{"n_units": 64}` is `--n-units 64`). The quick values here train for a moment with a small model on the embedded corpus, in a run directory of its own that each run of
# the notebook replaces (`overwrite`); the book's values are the command line's defaults
# (`dlbook run 1.10.6 --help`). The command line ignores this dict and reads its own options.

# %% tags=["parameters"]
options = dict(epochs=5, n_layer=1, n_units=32, emb_dim=16, batch_size=16, learning_rate=0.01,
               output_dir="runs/notebook-1.10.6", overwrite=True)

# %% [markdown]
# ## Run
# Prints the corpus and vocabulary sizes, the loss per epoch with sample replies, and where the
# run was saved; in a notebook, then the run's loss per epoch (`dlbook plot RUN_DIR` from the
# command line).

# %%
if __name__ == "__main__":
    from dlbook.cli.entry import run_section
    run_section(main)
