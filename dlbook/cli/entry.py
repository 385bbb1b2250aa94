"""Running a command with dlbook's error handling: user errors as one line, exit codes."""
import signal
import sys

from dlbook.errors import DlbookError, UsageError


def guarded(func, argv):
    """Call ``func(argv)``; user errors become one line on stderr (a traceback with --debug).

    Returns the exit code: 0 ok, 1 a user error (data, shapes, checkpoints, unusable paths, a
    failed save), 2 a usage error, 128 + the signal's number when stopped by a signal (130 for
    Ctrl-C, 143 for SIGTERM).
    """
    debug = "--debug" in argv
    try:
        return int(func(argv) or 0)
    except DlbookError as exc:
        if debug:
            raise
        print(f"dlbook: error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, UsageError) else 1
    except KeyboardInterrupt as exc:
        if debug:
            raise
        signum = getattr(exc, "signum", signal.SIGINT)
        print("dlbook: interrupted" if signum == signal.SIGINT
              else f"dlbook: stopped by {signal.Signals(signum).name}", file=sys.stderr)
        return 128 + signum
    except BrokenPipeError:
        # The reader went away (e.g. 'dlbook list | head'): stop quietly, as Unix tools do.
        sys.stdout = None
        return 0
    except OSError as exc:
        # A path the user gave cannot be used (a file where a directory should be, no permission,
        # disk full): one line naming the path; OSErrors without a path are bugs and keep their traceback.
        if debug or exc.filename is None:
            raise
        print(f"dlbook: error: cannot use {exc.filename}: {exc.strerror}; check the path and its "
              f"permissions or give another one (--debug shows the traceback)", file=sys.stderr)
        return 1


def run_section(main_func):
    """``python -m chapters.ch01.<module>`` entry: run ``main_func`` with the CLI's error handling.

    The last cell of a section's notebook calls it too. In a Jupyter kernel the options are the
    ``options`` dict of the notebook's parameters cell (the caller's global, see
    :mod:`dlbook.cli.notebook`), not the kernel's own command line, and a failed run raises an
    error in the cell instead of ending the kernel.
    """
    from dlbook.cli.notebook import in_jupyter_kernel  # light: Jupyter is imported only when used
    if in_jupyter_kernel():
        from dlbook.cli.notebook import run_in_notebook
        return run_in_notebook(main_func, sys._getframe(1).f_globals.get("options", {}))
    sys.exit(guarded(main_func, sys.argv[1:]))
