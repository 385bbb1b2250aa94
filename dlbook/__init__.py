"""dlbook: the runnable, tested companion to Chapter 1 of *Deep Reinforcement Learning*.

Importing ``dlbook`` itself is cheap and does not import TensorFlow, so ``dlbook --help`` and
``dlbook list`` stay fast. Modules that use TensorLayer (``dlbook.models``, ``dlbook.data``,
``dlbook.train``, ...) import it through :mod:`dlbook.compat`, which applies the fixes that make
TensorLayer 2.2.5 work on TensorFlow 2.21 / Keras 3 / numpy 2 / h5py 3 before anything uses it.
"""
from dlbook import precision as _precision, quiet as _quiet  # no TensorFlow import in either

_quiet.hold_tensorflow_import()
_precision.prefer_onednn()  # oneDNN's kernels on every x86-64 CPU (docs/design.md, "oneDNN")

__version__ = "0.1.0"
