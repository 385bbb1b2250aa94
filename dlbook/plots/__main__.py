"""``python -m dlbook.plots``: the same as ``dlbook figures``."""
from dlbook.cli.entry import run_section
from dlbook.plots import main

run_section(main)
