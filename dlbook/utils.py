"""Training utilities with the book's ``tl.utils`` API: ``fit``, ``test``, ``predict``.

(fit/test/predict are being written; ``set_seed`` is final.)
"""
import os
import random

import numpy as np

from dlbook.compat import tl  # noqa: F401  (applies the TensorLayer fixes before any use)
import tensorflow as tf


def set_seed(seed, deterministic=True):
    """Seed Python, NumPy and TensorFlow; with ``deterministic``, ask TF for deterministic ops.

    On CPU this makes runs repeatable: the same seed gives the same weights.
    """
    random.seed(seed)
    np.random.seed(seed)
    tf.random.set_seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
