"""Chapter 1's sections, one module each (see dlbook.cli.SECTIONS)."""
import sys

if sys.argv[:1] == ["-m"] and any(arg.startswith(("--strategy", "--cpu-devices")) for arg in sys.argv[1:]):
    # `python -m chapters.ch01.<section> --strategy ...`: devices must be set up before the
    # section imports TensorLayer (errata: tl-import-initialises-tf)
    from dlbook.distribute import setup_from_argv
    setup_from_argv(sys.argv[1:])
