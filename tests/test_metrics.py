"""dlbook.metrics.accuracy against the book's NumPy formula and Keras' own metric."""
import numpy as np
import pytest

from dlbook.metrics import accuracy

tf = pytest.importorskip("tensorflow")


def book_acc(_logits, y_batch):
    """The book's acc, verbatim."""
    return np.mean(np.equal(np.argmax(_logits, 1), y_batch))


@pytest.fixture
def logits_and_labels():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(37, 5)).astype(np.float32)
    logits[:6] = 1.0  # rows of ties: both np.argmax and tf.argmax pick the first maximum
    labels = rng.integers(0, 5, size=37)
    labels[:3] = 0
    return logits, labels


def test_numpy_inputs_give_the_books_value_as_a_float(logits_and_labels):
    logits, labels = logits_and_labels
    value = accuracy(logits, labels)
    assert isinstance(value, float)
    assert value == book_acc(logits, labels)  # exact: the same NumPy computation


def test_tensor_inputs_match_keras_sparse_categorical_accuracy(logits_and_labels):
    logits, labels = logits_and_labels
    keras_value = float(np.mean(tf.keras.metrics.sparse_categorical_accuracy(labels, logits)))
    value = accuracy(tf.constant(logits), tf.constant(labels))
    assert value.dtype == tf.float32
    assert float(value) == pytest.approx(keras_value, abs=1e-7)  # float32 mean of 0/1 values
    assert float(value) == pytest.approx(book_acc(logits, labels), abs=1e-7)


def test_works_inside_tf_function_with_int32_labels(logits_and_labels):
    logits, labels = logits_and_labels
    compiled = tf.function(accuracy)
    value = compiled(tf.constant(logits), tf.constant(labels, tf.int32))
    assert float(value) == pytest.approx(book_acc(logits, labels), abs=1e-7)


def test_docstring_example():
    assert accuracy(np.array([[0.1, 0.9], [2.0, -1.0]]), np.array([1, 1])) == 0.5
