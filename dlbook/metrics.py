"""The accuracy metric of 1.10.4, with the book's calling convention ``metric(logits, y)``.

The book prints ``acc`` in TensorFlow ops::

    def acc(_logits, y_batch):
        return tf.reduce_mean(
            tf.cast(
                tf.equal(
                    tf.argmax(_logits, 1),
                    tf.convert_to_tensor(y_batch, tf.int64)),
                tf.float32),
            name='accuracy'
        )

:func:`accuracy` is that function with one line changed: the labels are cast to int64
(``tf.cast``) instead of converted (errata: acc-int64-labels). ``tf.convert_to_tensor(y, tf.int64)``
accepts NumPy labels but refuses a tensor of another dtype, and inside a compiled train step
(``dlbook.train``) the labels are tensors, int32 for MNIST.
"""
import tensorflow as tf


def accuracy(_logits, y_batch):
    """Fraction of rows whose arg-max over axis 1 equals the integer label in ``y_batch``.

    The book's ``acc`` (1.10.4) with its labels cast: NumPy arrays or tensors of any integer
    dtype in, a float32 scalar tensor named ``accuracy`` out; usable inside ``tf.function``.
    Example: logits [[0.1, 0.9], [2.0, -1.0]], labels [1, 1] -> 0.5.
    """
    return tf.reduce_mean(
        tf.cast(
            tf.equal(
                tf.argmax(_logits, 1),
                tf.cast(y_batch, tf.int64)),  # errata: acc-int64-labels
            tf.float32),
        name='accuracy'
    )
