"""Build hook: the wheel carries the tiny datasets and the recorded results as package data.

``data/tiny`` and ``docs/results`` live at the top of the repository (a clone reads them there);
a built wheel gets copies in ``dlbook/data/tiny`` and ``dlbook/results_data``, so that
``dlbook run 1.10.4``, ``dlbook notebook`` and ``dlbook figures`` work offline from ``pip install .``.
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
PACKAGE_DATA = {"data/tiny": "dlbook/data/tiny", "docs/results": "dlbook/results_data"}


class BuildPyWithData(build_py):
    """``build_py`` that also copies the repository's data folders into the built package."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):  # an editable install reads them in place
            return
        for source, target in PACKAGE_DATA.items():
            if (ROOT / source).is_dir():
                shutil.copytree(ROOT / source, Path(self.build_lib) / target, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildPyWithData})
