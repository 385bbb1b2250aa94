"""Command-line options shared by the sections and commands (no TensorFlow import here)."""
import argparse

from dlbook.errors import UsageError


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


SEED_RANGE = 2**32  # NumPy's seeds: 0 .. 2**32 - 1


def random_seed(text):
    """argparse type: a random seed, an integer from 0 to 2**32 - 1 (what NumPy accepts)."""
    what = f"an integer from 0 to {SEED_RANGE - 1}"
    value = _integer(text, 0, what, what)
    if value >= SEED_RANGE:
        raise argparse.ArgumentTypeError(f"must be {what}, got {value}")
    return value


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
    parser.add_argument("--output-dir", default=output_dir,
                        help="the run directory: weights, checkpoint and the run's other files, "
                             "saved together after every epoch and on Ctrl-C or SIGTERM")
    parser.add_argument("--epochs", type=positive_int, default=epochs, help="training epochs")
    parser.add_argument("--batch-size", type=positive_int, default=batch_size, help="batch size")
    add_seed_arg(parser, "initial weights, batch order, dropout and augmentation")
    parser.add_argument("--tensorboard", default=None, metavar="DIR",
                        help="write TensorBoard logs into DIR: every epoch's metrics as scalars "
                             "(view them with `tensorboard --logdir DIR`)")
    again = parser.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true",
                       help="continue the run saved in --output-dir (with the same options)")
    again.add_argument("--overwrite", action="store_true",
                       help="start a new run in --output-dir although one is saved there; the old "
                            "one is replaced when the new one first saves")
    return parser
