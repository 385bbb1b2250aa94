"""Command-line options shared by the sections and commands (no TensorFlow import here)."""
import argparse
import os

from dlbook.errors import UsageError
from dlbook.precision import CHOICES as PRECISIONS


def _integer(text, minimum, expected, must):
    """``int(text)``; an ArgumentTypeError "expected ..." when it is not one, "must be ..." below ``minimum``."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be {must}, got {value}")
    return value


def positive_int(text):
    """argparse type: an integer >= 1."""
    return _integer(text, 1, "a positive integer", "a positive integer (>= 1)")


def positive_float(text):
    """argparse type: a float > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
    if value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def finite_float(text):
    """argparse type: a finite number (no nan or inf)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def non_negative_float(text):
    """argparse type: a finite number >= 0."""
    value = finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return value


def non_negative_int(text):
    """argparse type: an integer >= 0."""
    return _integer(text, 0, "an integer >= 0", "an integer >= 0")


def output_dir_path(text):
    """argparse type: a run directory's name, never empty (that would mean the current directory)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must name a directory, got an empty name (which would put the "
                                         "run's files into the current directory)")
    return text


SEED_RANGE = 2**32  # NumPy's seeds: 0 .. 2**32 - 1


def random_seed(text):
    """argparse type: a random seed, an integer from 0 to 2**32 - 1 (what NumPy accepts)."""
    what = f"an integer from 0 to {SEED_RANGE - 1}"
    value = _integer(text, 0, what, what)
    if value >= SEED_RANGE:
        raise argparse.ArgumentTypeError(f"must be {what}, got {value}")
    return value


# One definition per numeric option: its range, the same in training, `dlbook chat`, `dlbook
# export` and the files they read back (config.json). Sizes are bounded so that a model fits in
# memory (see check_fits for their product); counts so that a loop ends in a human lifetime.
INT_RANGES = {
    "epochs": (1, 1_000_000), "batch_size": (1, 1_048_576), "max_pairs": (1, 10**9),
    "min_count": (1, 10**9), "sample_every": (0, 1_000_000), "early_stopping": (0, 1_000_000),
    "validation_images": (1, 10**8), "timeout": (1, 10**6), "patience": (1, 10**6),
    "query_len": (1, 10_000), "decoder_seq_length": (1, 10_000), "n_layer": (1, 100),
    "n_units": (1, 65_536), "embedding_size": (1, 65_536), "vocabulary_size": (4, 10_000_000),
    "top_n": (1, 10_000_000), "replies": (1, 1_000), "beam_width": (1, 1_000),
}


def int_option(name):
    """argparse type for the integer option ``name``, within its range in :data:`INT_RANGES`."""
    low, high = INT_RANGES[name]

    def parse(text):
        what = f"an integer from {low:,} to {high:,}"
        value = {0: non_negative_int, 1: positive_int}.get(low, lambda t: _integer(t, low, what, what))(text)
        if value > high:
            raise argparse.ArgumentTypeError(f"must be at most {high:,}, got {value:,}")
        return value
    parse.__name__ = name
    return parse


def max_cpu_devices():
    """The most logical CPU devices to split into: 4 per core (each runs its own thread pools;
    thousands of them hang TensorFlow's start for many minutes)."""
    return 4 * (os.cpu_count() or 1)


def cpu_devices(text):
    """argparse type: --cpu-devices, 1 to :func:`max_cpu_devices`."""
    high = max_cpu_devices()
    value = _integer(text, 1, "a positive integer", "a positive integer (>= 1)")
    if value > high:
        raise argparse.ArgumentTypeError(f"must be at most {high} on this machine (4 per CPU core, "
                                         f"{os.cpu_count()} cores: each logical device runs its own "
                                         f"thread pools), got {value:,}")
    return value


def momentum(text):
    """argparse type: a momentum, 0 <= m < 1 (1 or more makes SGD diverge)."""
    value = non_negative_float(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"must be a number from 0 up to (not including) 1, got {text}")
    return value


def memory_bytes():
    """The machine's physical memory in bytes (None where the system does not say)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_fits(n_weights, options, *, training=True, error=UsageError):
    """Refuse a model of ``n_weights`` float32 weights (training: with gradients and Adam's two
    slots) that the machine's memory cannot hold; ``options`` names what sets its size."""
    need = n_weights * 4 * (4 if training else 1)
    have = memory_bytes()
    if have is not None and need > have:
        raise error(f"{options} make a model of {n_weights:,.0f} weights, {need / 2**30:,.1f} GiB"
                    f"{' with its gradients and Adam state' if training else ''}; this machine has "
                    f"{have / 2**30:,.1f} GiB of memory: choose smaller values")


def seq2seq_weights(vocabulary_size, n_layer, n_units, embedding_size):
    """The number of weights of the 1.10.6 Seq2seq model (embedding, GRU encoder and decoder, output)."""
    gru = sum(3 * ((embedding_size if i == 0 else n_units) + n_units + 2) * n_units for i in range(n_layer))
    return vocabulary_size * embedding_size + 2 * gru + (n_units + 1) * vocabulary_size


class _Parser(argparse.ArgumentParser):
    """ArgumentParser that raises UsageError instead of printing usage and exiting."""

    def error(self, message):
        raise UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")


def make_parser(prog, description):
    """A parser for a chapter module: raises UsageError on bad options, has --debug."""
    parser = _Parser(prog=prog, description=description,
                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--debug", action="store_true",
                        help="show full tracebacks for errors")
    return parser


def add_seed_arg(parser, what):
    """Add ``--seed``, an integer from 0 to 2**32 - 1 (default 0) that fixes ``what``."""
    parser.add_argument("--seed", type=random_seed, default=0, help=f"random seed (0 to {SEED_RANGE - 1}): {what}")
    return parser


def add_training_args(parser, *, epochs, batch_size, output_dir, data_dir=True):
    """Add the options every training section takes, with the section's defaults (the printed
    values where the chapter prints them, e.g. 1.10.4's 20 epochs of batch 256).

    ``--output-dir`` is the run directory (see :mod:`dlbook.session`): a new run refuses to start
    where one is saved unless ``--resume`` (continue it) or ``--overwrite`` (replace it) is given.
    """
    if data_dir:
        parser.add_argument("--data-dir", default=None,
                            help="data directory (default: $DLBOOK_DATA_DIR, else ./data; "
                                 "the tiny subset in data/tiny is used when the real data is absent)")
    parser.add_argument("--output-dir", type=output_dir_path, default=output_dir,
                        help="the run directory: weights, checkpoint and the run's other files, "
                             "saved together after every epoch and on Ctrl-C or SIGTERM")
    parser.add_argument("--epochs", type=int_option("epochs"), default=epochs, help="training epochs")
    parser.add_argument("--batch-size", type=int_option("batch_size"), default=batch_size, help="batch size")
    add_seed_arg(parser, "initial weights, batch order, dropout and augmentation")
    parser.add_argument("--tensorboard", default=None, metavar="DIR",
                        help="write TensorBoard logs into DIR: every epoch's metrics as scalars "
                             "(view them with `tensorboard --logdir DIR`)")
    parser.add_argument("--precision", choices=PRECISIONS, default=None,
                        help="mixed_bfloat16: compute in bfloat16, keep the weights, BatchNorm statistics and "
                             "the loss in float32 (faster only on CPUs with AVX512_BF16 or AMX and GPUs of "
                             "compute capability 8+; slower than float32 elsewhere); auto: mixed_bfloat16 "
                             "where it is fast, else float32; the saved files are float32 either way (default: "
                             "float32; auto with 1.10.5's --recipe fast)")
    again = parser.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true",
                       help="continue the run saved in --output-dir (with the same options)")
    again.add_argument("--overwrite", action="store_true",
                       help="start a new run in --output-dir although one is saved there; the old "
                            "one is replaced when the new one first saves")
    return parser
