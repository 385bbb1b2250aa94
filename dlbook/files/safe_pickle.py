"""Read pickles that come from elsewhere without running any of their code.

A pickle is a small program: its GLOBAL, STACK_GLOBAL and INST opcodes import any callable by
name, and REDUCE, OBJ, NEWOBJ, NEWOBJ_EX, INST and BUILD call it. ``pickle.load`` on a file from
elsewhere therefore runs whatever the file says (``os.system``, ``builtins.eval``, even a numpy
helper such as ``numpy.testing._private.utils.runstring``). Every name a pickle can call goes
through :meth:`pickle.Unpickler.find_class`, so :class:`RestrictedUnpickler` answers it from an
explicit allow-list of ``(module, name)`` pairs, mapped to the object to use; anything else is
refused before the first call, and nothing is imported by name.

The lists hold exactly the globals the real files reference (read with ``pickletools``; see
docs/robustness.md, "Files from elsewhere"):

- :data:`CIFAR10_GLOBALS`: the official CIFAR-10 batches (Python 2, protocol 2, numpy 1.x) name
  ``numpy.core.multiarray._reconstruct``, ``numpy.ndarray`` and ``numpy.dtype``; re-pickles
  written under numpy 2 name ``numpy._core.multiarray._reconstruct`` instead. ``batches.meta``
  names none.
- :data:`TL_METADATA_GLOBALS`: TensorLayer's Twitter chatbot ``metadata.pkl`` (a dict of
  ``w2idx``, ``idx2w``, ``limit`` and ``freq_dist``) names only ``nltk.probability.FreqDist``,
  whichever Python and protocol wrote it; it is mapped to :class:`FreqDist`, a plain
  ``Counter`` subclass, so nltk is neither needed nor imported. Dicts, lists, tuples, strings and
  numbers are built by opcodes that call nothing.

Persistent ids (a hook for the caller's own objects) are refused as well.
"""
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


CIFAR10_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,  # written by numpy 1.x (the official files)
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,  # written by numpy 2
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
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
