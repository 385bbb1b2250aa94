"""Running a command with dlbook's error handling: user errors as one line, exit codes."""
import contextlib
import errno
import os
import signal
import sys
from pathlib import Path

from dlbook.errors import DlbookError, UsageError


def guarded(func, argv):
    """Call ``func(argv)``; user errors become one line on stderr (a traceback with --debug).

    Returns the exit code: 0 ok, 1 a user error (data, shapes, checkpoints, unusable paths, a
    failed save), 2 a usage error, 128 + the signal's number when stopped by a signal (130 for
    Ctrl-C, 143 for SIGTERM).
    """
    try:
        return _guarded(func, argv)
    finally:
        rundir = sys.modules.get("dlbook.session.rundir")
        if rundir is not None:  # the command's run directories are free again
            rundir.release_all()


_OUTPUT_ERRORS = (errno.ENOSPC, errno.EIO, errno.EBADF, errno.EDQUOT, errno.EFBIG)


def robust_output():
    """Make printing never raise for an encoding: what a narrow terminal encoding (e.g.
    PYTHONIOENCODING=ascii) cannot show is printed as backslash escapes."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            with contextlib.suppress(ValueError, OSError):
                stream.reconfigure(errors="backslashreplace")


def _say(line):
    """Print ``line`` on stderr; a closed or full stderr is ignored (there is nowhere else to say it)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        print(line, file=sys.stderr, flush=True)


def _drop_stdout():
    """Stop writing to a stdout that failed, so that the flush at exit does not fail again."""
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.stdout = None


def _guarded(func, argv):
    debug = "--debug" in argv
    robust_output()
    try:
        code = int(func(argv) or 0)
        if sys.stdout is not None:
            sys.stdout.flush()  # a full or closed stdout fails here, inside the handlers below
        return code
    except DlbookError as exc:
        if debug:
            raise
        _say(f"dlbook: error: {exc}")
        return 2 if isinstance(exc, UsageError) else 1
    except KeyboardInterrupt as exc:
        if debug:
            raise
        signum = getattr(exc, "signum", signal.SIGINT)
        _say("dlbook: interrupted" if signum == signal.SIGINT else f"dlbook: stopped by {signal.Signals(signum).name}")
        return 128 + signum
    except BrokenPipeError:
        # The reader went away (e.g. 'dlbook list | head'): stop quietly, as Unix tools do.
        _drop_stdout()
        return 0
    except OSError as exc:
        # A path the user gave cannot be used (a file where a directory should be, no permission,
        # disk full): one line naming the path. Without a path: the output (stdout on a full disk,
        # /dev/full) failed; any other OSError without a path is a bug and keeps its traceback.
        if debug or (exc.filename is None and exc.errno not in _OUTPUT_ERRORS):
            raise
        if exc.filename is None:
            _drop_stdout()
            _say(f"dlbook: error: cannot write the output: {exc.strerror}; free some space or send it elsewhere")
            return 1
        _say(f"dlbook: error: cannot use {exc.filename}: {exc.strerror}; check the path and its "
             f"permissions or give another one (--debug shows the traceback)")
        return 1


def run_section(main_func):
    """``python -m chapters.ch01.<module>`` entry: run ``main_func`` with the CLI's error handling.

    The last cell of a section's notebook calls it too. In a Jupyter kernel the options are the
    ``options`` dict of the notebook's parameters cell (the caller's global, see
    :mod:`dlbook.cli.notebook`), not the kernel's own command line, and a failed run raises an
    error in the cell instead of ending the kernel.
    """
    if in_jupyter_kernel():
        return run_in_notebook(main_func, sys._getframe(1).f_globals.get("options", {}))
    sys.exit(guarded(main_func, sys.argv[1:]))


# --- in a notebook: the section's options from its parameters cell ------------------------------

def in_jupyter_kernel():
    """True in a Jupyter kernel (ipykernel's launcher is the process's command), False on the
    command line and under ``%run`` (whose ``sys.argv`` is the script's)."""
    return "ipykernel" in sys.modules and Path(sys.argv[0] if sys.argv else "").stem.startswith("ipykernel")


def options_to_argv(options):
    """``{"epochs": 2, "batch_size": 64, "overwrite": True, "data_dir": None}`` ->
    ``["--epochs", "2", "--batch-size", "64", "--overwrite"]``.

    Keys are the options' names with underscores for dashes; ``True`` gives the flag alone,
    ``False`` and ``None`` leave the option out (its default), a list or tuple repeats it.
    """
    argv = []
    for name, value in dict(options).items():
        flag = "--" + name.replace("_", "-")
        if value is True:
            argv.append(flag)
        elif value is False or value is None:
            continue
        elif isinstance(value, (list, tuple)):
            for item in value:
                argv += [flag, str(item)]
        else:
            argv += [flag, str(value)]
    return argv


def run_in_notebook(main_func, options):
    """Run ``main_func`` with ``options`` (see :func:`options_to_argv`) and the CLI's error
    handling; a non-zero exit code raises, so the cell (and nbclient) reports the failure."""
    argv = options_to_argv(options)
    print("options:", " ".join(argv) if argv else "(the defaults)")
    code = guarded(main_func, argv)
    if code:
        raise RuntimeError(f"the section ended with exit code {code} (the error is above)")
    return None
