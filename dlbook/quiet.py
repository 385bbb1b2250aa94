"""A quiet start: TensorFlow's start-up lines kept out of the terminal, everything else shown.

Importing TensorFlow 2.21 writes, from C++ straight to file descriptor 2, lines that no
environment variable silences (TF_CPP_MIN_LOG_LEVEL, ABSL_MIN_LOG_LEVEL, GLOG_minloglevel)::

    WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
    I0000 00:00:... port.cc:153] oneDNN custom operations are on. You may see ...

(twice), and the cpu_feature_guard notice. :func:`import_tensorflow` imports TensorFlow with fd 2
pointed at a temporary file, then restores it and writes back every line that is not one of
these (:data:`NOISE`): real warnings and errors still show, during the import and after it.
Nothing about TensorFlow changes here: no environment variable is set (TF_CPP_MIN_LOG_LEVEL stays
the user's), so the same warnings show.

    from dlbook.quiet import import_tensorflow
    import_tensorflow(debug="--debug" in sys.argv)   # before anything imports tensorflow

Importing :mod:`dlbook` installs :func:`hold_tensorflow_import`, so the same holds for every
other way in: ``python -m chapters.ch01.<section>``, a notebook, or your own code that imports
``dlbook`` before TensorFlow. TensorLayer's ``[TL]`` lines for each layer built (which it prints
in a notebook) are held back by :func:`hold_tensorlayer_layer_logs` (``tl.logging.set_verbosity``
brings them back). ``DLBOOK_DEBUG=1`` (or the CLI's ``--debug``) shows all of them.
"""
import contextlib
import importlib
import importlib.abc
import importlib.util
import os
import re
import sys
import tempfile

#: The start-up lines dropped (matched against each line without its newline).
NOISE = (
    re.compile(r"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"),
    re.compile(r"I\d{4} [\d:.]+ +\d+ port\.cc:\d+\] oneDNN custom operations are on\. .*"),
    re.compile(r"I\d{4} [\d:.]+ +\d+ cpu_feature_guard\.cc:\d+\] This TensorFlow binary is optimized .*"),
    re.compile(r"To enable the following instructions: .* rebuild TensorFlow with the appropriate compiler flags\."),
)


def is_noise(line):
    """True for one of TensorFlow's known start-up lines."""
    line = line.rstrip("\r\n")
    return any(pattern.fullmatch(line) for pattern in NOISE)


@contextlib.contextmanager
def held_stderr():
    """Send file descriptor 2 to a temporary file for the block, then write back to stderr all
    its lines but the known start-up noise (also when the block raises). Does nothing when fd 2
    cannot be redirected."""
    try:
        held = tempfile.TemporaryFile()
        saved = os.dup(2)
    except OSError:
        yield
        return
    with held:
        sys.stderr.flush()
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            kept = [line for line in held.read().decode("utf-8", "replace").splitlines(keepends=True)
                    if not is_noise(line)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


DEBUG_ENV = "DLBOOK_DEBUG"


def debug_asked():
    """True when ``DLBOOK_DEBUG`` is set to anything but empty or ``0``."""
    return os.environ.get(DEBUG_ENV, "") not in ("", "0")


class _HeldLoader(importlib.abc.Loader):
    """Runs a module's loader with stderr held (:func:`held_stderr`), then steps out of the way."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        try:
            with held_stderr():
                self.loader.exec_module(module)
        finally:  # the module keeps its own loader (resources, reloads)
            module.__loader__ = self.loader
            if getattr(module, "__spec__", None) is not None:
                module.__spec__.loader = self.loader


class _HoldTensorFlowImport(importlib.abc.MetaPathFinder):
    """A one-shot import hook: the first ``import tensorflow`` runs with stderr held."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        release()
        spec = importlib.util.find_spec(name)  # the real one, this hook gone
        if spec is not None and spec.loader is not None:
            spec.loader = _HeldLoader(spec.loader)
        return spec


def hold_tensorflow_import():
    """Until TensorFlow is imported, let its import run with stderr held (off with DLBOOK_DEBUG=1)."""
    if debug_asked() or "tensorflow" in sys.modules:
        return
    if not any(isinstance(finder, _HoldTensorFlowImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _HoldTensorFlowImport())


def release():
    """Remove the hook of :func:`hold_tensorflow_import` (TensorFlow then imports as usual)."""
    sys.meta_path[:] = [finder for finder in sys.meta_path if not isinstance(finder, _HoldTensorFlowImport)]


def import_tensorflow(debug=False, module="tensorflow"):
    """Import TensorFlow (``module``) without its start-up noise on stderr; returns the module.

    With ``debug`` or DLBOOK_DEBUG=1, or when it is already imported, this is a plain import.
    Either way the hook of :func:`hold_tensorflow_import` is removed first.
    """
    debug = debug or debug_asked()
    if debug or module == "tensorflow":
        release()  # held here (or, with debug, not at all): not a second time by the hook
    if debug or module in sys.modules:
        return importlib.import_module(module)
    with held_stderr():
        return importlib.import_module(module)


def hold_tensorlayer_layer_logs(tl):
    """TensorLayer's log at warnings and above, unless DLBOOK_DEBUG=1: no ``[TL] Dense dense_1:
    800 relu`` line per layer built (TensorLayer logs at INFO in a notebook). After the import,
    ``tl.logging.set_verbosity(tl.logging.INFO)`` brings them back."""
    if not debug_asked():
        tl.logging.set_verbosity(tl.logging.WARN)
