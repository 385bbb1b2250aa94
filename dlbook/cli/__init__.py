"""The ``dlbook`` command: ``list``, ``run <section>``, ``figures``, ``chat``, ``download``, ``export``, ``notebook``."""
import importlib
import importlib.util
import sys

from dlbook import __version__
from dlbook.cli.entry import guarded
from dlbook.errors import UsageError

from dlbook.cli.sections import SECTION_MODULES, SECTIONS  # (section, module, title) in book order

USAGE = f"""usage: dlbook [--version] [--debug] <command> [options]

The runnable companion to Chapter 1, "Introduction to Deep Learning" (dlbook {__version__}).

commands:
  list                      every section of the chapter and whether it is implemented
  run SECTION [options]     run one section, e.g. 'dlbook run 1.10.4 --epochs 1'
                            ('dlbook run SECTION --help' lists its options)
  figures [--out DIR]       regenerate the chapter's computed figures as PNG files
  chat --checkpoint DIR     talk to a trained 1.10.6 chatbot ('dlbook chat --help')
  download mnist|cifar10    download a real dataset into the data directory ('dlbook download --help')
  notebook SECTION|all      write a section's notebook (.ipynb) to open in Jupyter
                            ('dlbook notebook --help')
  export RUN_DIR            write a trained 1.10.4/1.10.5/1.10.6 model as a TensorFlow SavedModel
                            ('dlbook export --help')

options:
  --debug                   show full tracebacks for errors, and TensorFlow's start-up lines
  --version                 print the version and exit
"""


def is_implemented(section):
    """True when the section's module exists (checked without importing it)."""
    try:
        return importlib.util.find_spec(SECTION_MODULES[section]) is not None
    except ModuleNotFoundError:
        return False


def cmd_list():
    width = max(len(s) for s, _, _ in SECTIONS)
    for section, _, title in SECTIONS:
        state = "implemented" if is_implemented(section) else "not yet"
        print(f"  {section:<{width}}  {title:<52}  {state}")
    return 0


_debug = False  # --debug anywhere on the command line (set by main)


def _quiet_start():
    """Import TensorFlow now, its start-up lines held off the terminal (see dlbook.quiet)."""
    from dlbook.quiet import import_tensorflow
    import_tensorflow(debug=_debug)


def _call(module_name, func_name, argv, tensorflow=True):
    if tensorflow:
        _quiet_start()
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise UsageError(f"'{module_name}' is not implemented yet (see 'dlbook list')") from None
        raise
    return getattr(module, func_name)(argv)


def cmd_run(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: dlbook run SECTION [options]   (sections: "
              + ", ".join(s for s, _, _ in SECTIONS) + ")")
        return 0
    section, rest = argv[0], argv[1:]
    if section not in SECTION_MODULES:
        raise UsageError(f"unknown section '{section}'; known sections: "
                         + ", ".join(s for s, _, _ in SECTIONS) + " (see 'dlbook list')")
    if not is_implemented(section):
        raise UsageError(f"section {section} is not implemented yet (see 'dlbook list')")
    _quiet_start()
    if any(arg.startswith(("--strategy", "--cpu-devices")) for arg in rest):
        from dlbook.distribute import setup_from_argv  # before the section imports TensorLayer
        setup_from_argv(rest)
    return _call(SECTION_MODULES[section], "main", rest)


COMMANDS = {
    "list": lambda argv: cmd_list(),
    "run": cmd_run,
    "figures": lambda argv: _call("dlbook.plots", "main", argv, tensorflow=False),
    "chat": lambda argv: _call("dlbook.chat.command", "main", argv),
    "download": lambda argv: _call("dlbook.data.download", "main", argv, tensorflow=False),
    "export": lambda argv: _call("dlbook.files.savedmodel", "main", argv),
    "notebook": lambda argv: _call("dlbook.cli.notebook", "main", argv, tensorflow=False),
}


def _dispatch(argv):
    if argv and argv[0] == "--debug":
        argv = argv[1:]
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE, end="")
        return 0
    if argv[0] == "--version":
        print(f"dlbook {__version__}")
        return 0
    command = COMMANDS.get(argv[0])
    if command is None:
        raise UsageError(f"unknown command '{argv[0]}'; commands: "
                         + ", ".join(COMMANDS) + " (see 'dlbook --help')")
    return command(argv[1:])


def main(argv=None):
    """Entry point of the ``dlbook`` console script; returns the exit code."""
    global _debug
    argv = list(sys.argv[1:] if argv is None else argv)
    _debug = "--debug" in argv
    return guarded(_dispatch, argv)


if __name__ == "__main__":
    sys.exit(main())
