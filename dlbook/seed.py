"""``set_seed``: one seed for Python, NumPy and TensorFlow (TensorFlow imported only when called)."""
import os
import random

import numpy as np


def set_seed(seed, deterministic=True):
    """Seed Python, NumPy and TensorFlow; with ``deterministic``, ask TF for deterministic ops.

    On CPU this makes runs repeatable: the same seed gives the same weights.
    """
    import tensorflow as tf  # here, not at the top: the sections that only seed stay light to import

    random.seed(seed)
    np.random.seed(seed)
    tf.random.set_seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
