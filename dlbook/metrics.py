"""Metrics with the book's calling convention ``metric(logits, y)``.

The book's accuracy is written in NumPy::

    def acc(_logits, y_batch):
        return np.mean(np.equal(np.argmax(_logits, 1), y_batch))

NumPy cannot run on the symbolic tensors inside a ``tf.function`` (the compiled train step of
``tl.utils.fit`` and ``dlbook.utils.fit``), so :func:`accuracy` computes the same number with
TensorFlow ops when given tensors, and with NumPy when given arrays.
"""
import numpy as np
import tensorflow as tf


def accuracy(logits, y):
    """Fraction of rows whose arg-max over the last axis equals the integer label in ``y``.

    With NumPy inputs returns a Python float (the book's ``acc`` exactly, ties resolved to the
    first maximum as ``np.argmax`` does); with tensors, a float32 scalar tensor, usable inside
    ``tf.function``. Example: logits [[0.1, 0.9], [2.0, -1.0]], labels [1, 1] -> 0.5.
    """
    if not (tf.is_tensor(logits) or tf.is_tensor(y)):
        return float(np.mean(np.equal(np.argmax(logits, -1), y)))
    predicted = tf.argmax(logits, axis=-1)
    labels = tf.cast(tf.convert_to_tensor(y), predicted.dtype)
    return tf.reduce_mean(tf.cast(tf.equal(predicted, labels), tf.float32))
