"""Test helper: the scalars of TensorBoard event files, read back with TensorFlow's own reader."""
import tensorflow as tf


def read_scalars(directory):
    """{(split, tag, step): value} for every event file under ``directory``/<split>/."""
    scalars = {}
    for events in sorted(directory.glob("*/events.out.tfevents.*")):
        for record in tf.compat.v1.train.summary_iterator(str(events)):
            for value in record.summary.value:
                scalars[events.parent.name, value.tag, record.step] = float(tf.make_ndarray(value.tensor))
    return scalars
