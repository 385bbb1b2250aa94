"""dlbook.metrics.accuracy (the book's acc of 1.10.4, in TF ops) against independent oracles:
the mean of 0/1 matches counted in NumPy, and Keras' own metric."""
import numpy as np
import pytest

from dlbook.metrics import accuracy

tf = pytest.importorskip("tensorflow")


def numpy_oracle(logits, labels):
    """Matches counted one row at a time in float64 (not the code under test)."""
    hits = [int(np.argmax(row) == label) for row, label in zip(np.asarray(logits), np.asarray(labels))]
    return sum(hits) / len(hits)


def printed_acc(_logits, y_batch):
    """1.10.4's acc exactly as printed, to show what acc-int64-labels changes."""
    return tf.reduce_mean(
        tf.cast(
            tf.equal(
                tf.argmax(_logits, 1),
                tf.convert_to_tensor(y_batch, tf.int64)),
            tf.float32),
        name='accuracy'
    )


@pytest.fixture
def logits_and_labels():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(37, 5)).astype(np.float32)
    labels = rng.integers(0, 5, size=37).astype(np.int32)
    labels[:12] = np.argmax(logits[:12], axis=1)  # enough hits that a wrong row count shows
    return logits, labels


def test_numpy_inputs_give_the_oracle_value_as_a_float32_tensor(logits_and_labels):
    logits, labels = logits_and_labels
    value = accuracy(logits, labels)
    assert tf.is_tensor(value) and value.dtype == tf.float32 and value.shape == ()
    # float32 mean of 37 zeros and ones: within 1e-7 of the exact fraction
    assert float(value) == pytest.approx(numpy_oracle(logits, labels), abs=1e-7)
    assert float(value) == pytest.approx(float(printed_acc(logits, labels)), abs=0)  # same as printed


def test_tensor_inputs_match_keras_sparse_categorical_accuracy(logits_and_labels):
    logits, labels = logits_and_labels
    keras_value = float(np.mean(tf.keras.metrics.sparse_categorical_accuracy(labels, logits)))
    value = accuracy(tf.constant(logits), tf.constant(labels, tf.int64))
    assert value.dtype == tf.float32
    assert float(value) == pytest.approx(keras_value, abs=1e-7)  # float32 mean of 0/1 values
    assert float(value) == pytest.approx(numpy_oracle(logits, labels), abs=1e-7)


def test_works_inside_tf_function_with_int32_labels(logits_and_labels):
    """The labels of a compiled train step are int32 tensors (MNIST's dtype): the printed
    tf.convert_to_tensor(y_batch, tf.int64) refuses them (errata: acc-int64-labels)."""
    logits, labels = logits_and_labels
    compiled = tf.function(accuracy)
    value = compiled(tf.constant(logits), tf.constant(labels, tf.int32))
    assert float(value) == pytest.approx(numpy_oracle(logits, labels), abs=1e-7)
    with pytest.raises(ValueError, match="requested dtype int64 for Tensor with dtype int32"):
        tf.function(printed_acc)(tf.constant(logits), tf.constant(labels, tf.int32))


def test_the_graph_op_is_named_accuracy(logits_and_labels):
    logits, labels = logits_and_labels
    graph = tf.function(accuracy).get_concrete_function(
        tf.TensorSpec([None, 5], tf.float32), tf.TensorSpec([None], tf.int32)).graph
    assert "accuracy" in [op.name for op in graph.get_operations()]


def test_docstring_example():
    assert float(accuracy(np.array([[0.1, 0.9], [2.0, -1.0]]), np.array([1, 1]))) == 0.5
