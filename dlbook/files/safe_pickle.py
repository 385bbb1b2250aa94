"""Read pickles from elsewhere without running their code: exact allow-lists of globals (docs/robustness.md)."""
import pickle
from collections import Counter
from pathlib import Path

import numpy as np

from dlbook.errors import DataError

try:  # numpy >= 2
    from numpy._core.multiarray import _reconstruct
except ImportError:  # numpy 1.x
    from numpy.core.multiarray import _reconstruct


class FreqDist(Counter):
    """Stand-in for ``nltk.probability.FreqDist`` (itself a ``Counter`` subclass).

    A pickled FreqDist is ``FreqDist(dict_of_counts)`` (Counter's ``__reduce__``), with no state
    to restore; a file that tries to set attributes on it (BUILD) is refused.
    """

    def __setstate__(self, state):
        raise pickle.UnpicklingError("a FreqDist with extra state (BUILD), which nltk never writes")


def latin1_encode(text, encoding):
    """Stand-in for ``_codecs.encode``, which Python 3 names to pickle ``bytes`` at protocol 2
    (``_codecs.encode(text, 'latin1')``); only that form is admitted, so it builds bytes and
    can do nothing else."""
    if type(text) is not str or encoding != "latin1":
        raise pickle.UnpicklingError(f"_codecs.encode with {type(text).__name__}, {encoding!r}: only "
                                     f"(str, 'latin1'), the form of bytes pickled at protocol 2, is allowed")
    return text.encode("latin1")


CIFAR10_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,  # written by numpy 1.x (the official files)
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,  # written by numpy 2
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): latin1_encode,  # bytes re-pickled by Python 3 at protocol 2
}

TL_METADATA_GLOBALS = {
    ("nltk.probability", "FreqDist"): FreqDist,
}


class RefusedGlobal(pickle.UnpicklingError):
    """The pickle names a global that is not on the allow-list."""

    def __init__(self, module, name):
        super().__init__(f"{module}.{name}")
        self.module, self.name = module, name


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler whose globals come only from ``allowed``: ``{(module, name): object}``."""

    def __init__(self, file, allowed, *, encoding="latin1"):
        super().__init__(file, encoding=encoding)
        self._allowed = dict(allowed)

    def find_class(self, module, name):
        try:
            return self._allowed[(module, name)]
        except (KeyError, TypeError):
            raise RefusedGlobal(module, name) from None

    def persistent_load(self, pid):
        raise pickle.UnpicklingError(f"persistent id {pid!r}: a plain data file has none")


class BadPickle(DataError):
    """A pickle that cannot be used; ``problem`` is what is wrong, without the file's name or the fix."""

    def __init__(self, message, problem):
        super().__init__(message)
        self.problem = problem


def load(path, allowed, *, what, fix, shown=None, encoding="latin1"):
    """The object pickled in the file ``path``, built with the globals in ``allowed`` only.

    ``what`` names the kind of file in messages ("CIFAR-10 file"), ``fix`` says what to do about
    a bad one, ``shown`` is the path as messages show it (default ``path``). ``encoding`` decodes
    Python 2 ``str`` (latin1 keeps every byte, as numpy needs for arrays pickled by Python 2).

    Raises :class:`BadPickle` (a DataError: one line naming the file) when the file is missing,
    empty, not a pickle, truncated, or names a global that is not allowed; in the last case
    nothing in the file has been called.
    """
    shown = str(path) if shown is None else shown
    try:
        with open(path, "rb") as f:
            return RestrictedUnpickler(f, allowed, encoding=encoding).load()
    except FileNotFoundError:
        raise BadPickle(f"{what} not found: {shown}", "is missing") from None
    except RefusedGlobal as refused:
        problem = (f"refers to {refused.module}.{refused.name}, which such a file never holds: refused "
                   f"before anything in it ran (allowed: {_names(allowed)})")
    except EOFError:
        problem = f"is empty or truncated ({_size(path)})"
    except OSError as exc:
        problem = f"cannot be read ({exc.strerror or exc})"
    except Exception as exc:  # unpickling garbage can raise almost anything
        problem = f"is not a readable pickle ({type(exc).__name__}: {exc})"
    raise BadPickle(f"{what} {shown} {problem}; {fix}", problem)


def _names(allowed):
    return ", ".join(f"{m}.{n}" for m, n in allowed) or "no globals"


def _size(path):
    try:
        return f"{Path(path).stat().st_size:,} bytes"
    except OSError:
        return "size unknown"
