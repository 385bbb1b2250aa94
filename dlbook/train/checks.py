"""fit's arrays checked against the model: cast, shapes, labels; each error names the array."""
import hashlib
import warnings

import numpy as np
import tensorflow as tf

from dlbook.errors import DataError, ShapeError, UsageError


def as_array(values, name):
    array = np.asarray(values)
    if array.dtype == np.float64:  # errata: fit-float64
        warnings.warn(f"{name} is float64: cast to float32, the dtype TensorLayer's layers compute in",
                      stacklevel=4)
        array = array.astype(np.float32)
    return array


def declared_input_shape(network):
    """The Input layer's shape of a static model, e.g. [None, 784]; None for dynamic models."""
    info = getattr(getattr(network, "_inputs", None), "_info", None)
    return list(info[0].layer.shape) if info else None


def check_x(network, X, name):
    """Cast and check ``X`` against the model; return it and the model's output for ``X[:1]``."""
    X = as_array(X, name)
    if X.ndim == 0 or len(X) == 0:
        raise DataError(f"{name} is empty (shape {X.shape}): give at least one example")
    declared = declared_input_shape(network)
    if declared is not None and (
            len(declared) != X.ndim
            or any(d is not None and d != s for d, s in zip(declared[1:], X.shape[1:]))):
        raise ShapeError(f"{name} has shape {X.shape}, but the model's Input expects "
                         f"{tuple(declared)} (None: any size); reshape {name} to match")
    network.eval()
    try:
        probe = network(X[:1])
    except (tf.errors.OpError, ValueError, TypeError) as e:
        if np.issubdtype(X.dtype, np.integer) or X.dtype == np.bool_:  # ids are fine for an Embedding
            raise ShapeError(f"{name} has dtype {X.dtype}, but the model computes in float32: convert it "
                             f"first, e.g. {name} = {name}.astype(np.float32) / 255 for raw pixel bytes") from None
        first_line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ShapeError(f"{name} (shape {X.shape}, dtype {X.dtype}) does not fit the model: "
                         f"{first_line}") from None
    return X, probe


def check_y(y, name, X, x_name, probe):
    y = as_array(y, name)
    if y.ndim == 0 or len(y) != len(X):
        raise ShapeError(f"{x_name} has {len(X)} examples but {name} has "
                         f"{'no length' if y.ndim == 0 else len(y)}: give one label per example")
    if np.issubdtype(y.dtype, np.integer) and y.dtype != np.int64:
        # int64, as the book's acc expects them (tf.convert_to_tensor(y_batch, tf.int64) refuses
        # an int32 tensor inside the compiled step); uint8 labels would not even fit TF's
        # sparse cross-entropy, which takes int32/int64 only
        y = y.astype(np.int64)
    if y.ndim == 1 and len(probe.shape) == 2 and probe.shape[-1] > 1 and not np.issubdtype(y.dtype, np.integer):
        raise DataError(f"{name} has dtype {y.dtype}, but the model outputs {int(probe.shape[-1])} class "
                        f"scores: class labels must be integers, e.g. {name} = {name}.astype(np.int64)")
    if np.issubdtype(y.dtype, np.integer) and y.ndim == 1 and len(probe.shape) == 2:
        n_classes = int(probe.shape[-1])
        low, high = int(y.min()), int(y.max())
        if low < 0 or high >= n_classes:
            raise DataError(f"{name} has labels from {low} to {high}, but the model outputs "
                            f"{n_classes} classes: labels must be integers 0..{n_classes - 1}")
    return y


def spec(array):
    return tf.TensorSpec((None,) + array.shape[1:], tf.as_dtype(array.dtype))


def fingerprint(X, y):
    """A short digest of a training set (its shape, labels and first rows): a resume must use the same."""
    digest = hashlib.sha256(repr((X.shape, str(X.dtype), y.shape)).encode())
    digest.update(np.ascontiguousarray(y).tobytes())
    digest.update(np.ascontiguousarray(X[:64]).tobytes())
    return digest.hexdigest()[:16]


def check_positive(**values):
    for name, value in values.items():
        if not (isinstance(value, (int, np.integer)) and value >= 1):
            raise UsageError(f"{name} must be a positive integer, got {value!r}")


def checked_fit_data(network, X_train, y_train, X_val, y_val, early_stopping):
    """fit's arrays, cast and checked against the model (X_val, y_val: both or None)."""
    if (X_val is None) != (y_val is None):
        raise UsageError("give both X_val and y_val, or neither")
    if early_stopping is not None:
        check_positive(early_stopping=early_stopping)
        if X_val is None:
            raise UsageError("early_stopping watches the validation loss: give X_val and y_val too")
    X_train, probe = check_x(network, X_train, "X_train")
    y_train = check_y(y_train, "y_train", X_train, "X_train", probe)
    if X_val is not None:
        X_val, probe = check_x(network, X_val, "X_val")
        y_val = check_y(y_val, "y_val", X_val, "X_val", probe)
    return X_train, y_train, X_val, y_val
