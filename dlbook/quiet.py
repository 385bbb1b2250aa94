"""A quiet start: TensorFlow's start-up lines kept out of the terminal, everything else shown.

Importing TensorFlow 2.21 writes, from C++ straight to file descriptor 2, lines that no
environment variable silences (TF_CPP_MIN_LOG_LEVEL, ABSL_MIN_LOG_LEVEL, GLOG_minloglevel)::

    WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
    I0000 00:00:... port.cc:153] oneDNN custom operations are on. You may see ...

(twice), and with TF_CPP_MIN_LOG_LEVEL below 2 the cpu_feature_guard notice. :func:`import_tensorflow`
imports TensorFlow with fd 2 pointed at a temporary file, then restores it and writes back every
line that is not one of these (:data:`NOISE`): real warnings and errors still show. Nothing about
TensorFlow changes (TF_ENABLE_ONEDNN_OPTS is left alone, so the same kernels run).

    from dlbook.quiet import import_tensorflow
    import_tensorflow(debug="--debug" in sys.argv)   # before anything imports tensorflow

No TensorFlow import here until the function runs.
"""
import contextlib
import importlib
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


def import_tensorflow(debug=False, module="tensorflow"):
    """Import TensorFlow (``module``) without its start-up noise on stderr; returns the module.

    With ``debug``, or when it is already imported, this is a plain import.
    """
    if debug or module in sys.modules:
        return importlib.import_module(module)
    with held_stderr():
        return importlib.import_module(module)
