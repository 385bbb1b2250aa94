"""Weights files (TensorLayer's HDF5 layout) and training checkpoints (weights, optimizer, position), written atomically."""
import io
import json
import stat
from pathlib import Path

import h5py
import numpy as np

from dlbook.compat import h5_names, nested_layers  # TL's container recursion; str/bytes names
from dlbook.files import schema
from dlbook.errors import CheckpointError
from dlbook.files.atomic import atomic_path, atomic_write  # noqa: F401  (atomic_path re-exported)
from dlbook.files.schema import file_kind

CHECKPOINT_NAME = "checkpoint.h5"
_FORMAT = "dlbook-checkpoint-1"


# -- TensorLayer's HDF5 weights layout -------------------------------------------------------

def _bytes_array(names):
    return np.array([n.encode("utf8") for n in names], dtype="S")


def _write_layers(group, layers, value=lambda w: w.numpy()):
    group.attrs["layer_names"] = _bytes_array([layer.name for layer in layers])
    for layer in layers:
        g = group.create_group(layer.name)
        inner = nested_layers(layer)
        if inner is not None:
            _write_layers(g, inner, value)
            continue
        weights = layer.all_weights or []
        g.attrs["weight_names"] = _bytes_array([w.name for w in weights])
        for w in weights:
            g.create_dataset(w.name, data=value(w))


def _model_entries(layers, prefix=""):
    """[(layer path, [weight variables])] for the layers that have weights, in file order."""
    entries = []
    for layer in layers:
        inner = nested_layers(layer)
        if inner is not None:
            entries += _model_entries(inner, f"{prefix}{layer.name}/")
        elif layer.all_weights:
            entries.append((prefix + layer.name, list(layer.all_weights)))
    return entries


MAX_LAYERS, MAX_NAME = 10_000, 1_000  # far beyond any model of the chapter


def _link_kind(group, name):
    """None for a plain (hard) link inside the file, else what the link is, in words."""
    link = group.get(name, getlink=True)
    if link is None or isinstance(link, h5py.HardLink):
        return None
    if isinstance(link, h5py.ExternalLink):
        return f"an external link to {link.filename}:{link.path}"
    if isinstance(link, h5py.SoftLink):
        return f"a soft link to {link.path}"
    return "a user-defined link"


def _member(group, name, path, kind):
    """``group[name]``, a plain member of the file of type ``kind`` (h5py.Group or h5py.Dataset)."""
    where = f"{group.name.rstrip('/')}/{name}"
    if name not in group:
        raise CheckpointError(f"{path} lacks {where}: not a complete weights file or checkpoint")
    link = _link_kind(group, name)
    if link is not None:
        raise CheckpointError(f"{path}: {where} is {link}; weights are read only from the file itself: refused")
    member = group[name]
    if not isinstance(member, kind):
        raise CheckpointError(f"{path}: {where} is a {type(member).__name__.lower()}, expected a "
                              f"{kind.__name__.lower()}")
    return member


def plain_dataset(group, name, path, kinds="f"):
    """``group[name]`` when it is a plain dataset of the file holding numbers of ``kinds`` (numpy
    dtype kinds, "f": floats); external storage, external, soft and virtual datasets are refused."""
    data = _member(group, name, path, h5py.Dataset)
    where = data.name
    if data.is_virtual:
        raise CheckpointError(f"{path}: {where} is a virtual dataset (its data lives in other files): refused")
    if data.external:
        source = data.external[0][0]
        source = source.decode(errors="replace") if isinstance(source, bytes) else source
        raise CheckpointError(f"{path}: {where} uses external storage (its bytes live in {source}): refused")
    if data.dtype.kind not in kinds or data.dtype.fields is not None:
        raise CheckpointError(f"{path}: {where} holds {data.dtype} data, expected "
                              f"{'floats' if kinds == 'f' else 'numbers'}: not a weights file")
    return data


def names(attrs, key, path, where="/"):
    """The list of names in attribute ``key`` (checked: a list of at most MAX_LAYERS short strings)."""
    try:
        found = h5_names(attrs, key) if np.ndim(attrs[key]) == 1 else None
    except (TypeError, ValueError, UnicodeDecodeError, OSError):
        found = None
    if found is None or len(found) > MAX_LAYERS or any(not n or len(n) > MAX_NAME or n.startswith("/") for n in found):
        raise CheckpointError(f"{path}: attribute {key!r} of {where} must be a list of at most {MAX_LAYERS:,} "
                              f"names: not a TensorLayer weights file")
    return found


def file_entries(group, prefix="", path=None):
    """[(layer path, [h5py datasets])] for the layers of a TL-layout group that have weights."""
    path = path or group.file.filename
    entries = []
    for name in names(group.attrs, "layer_names", path, group.name):
        g = _member(group, name, path, h5py.Group)
        if "layer_names" in g.attrs:
            entries += file_entries(g, f"{prefix}{name}/", path)
            continue
        weight_names = names(g.attrs, "weight_names", path, g.name) if "weight_names" in g.attrs else []
        if weight_names:
            entries.append((prefix + name, [plain_dataset(g, w, path) for w in weight_names]))
    return entries


def _shapes(entries):
    return [[tuple(w.shape) for w in ws] for _, ws in entries]


def _describe(entries):
    return "; ".join(f"{name} {[tuple(w.shape) for w in ws]}" for name, ws in entries) or "none"


def read_layers(group, model, path, assign=lambda var, data: var.assign(data)):
    """Check that the TL-layout HDF5 ``group`` fits ``model`` weight for weight, then ``assign``
    every value; ``path`` names the file in the CheckpointError raised on a mismatch."""
    # errata: weights-h5-check-first
    expected = _model_entries(model.all_layers)
    try:
        found = file_entries(group, path=path)
    except (KeyError, OSError) as e:
        raise CheckpointError(f"{path} is not a TensorLayer HDF5 weights file ({e})") from None
    if _shapes(expected) != _shapes(found):
        for i, ((m_name, m_ws), (f_name, f_ws)) in enumerate(zip(expected, found)):
            if _shapes([(m_name, m_ws)]) != _shapes([(f_name, f_ws)]):
                detail = (f"weighted layer #{i + 1}: the model's {m_name} has shapes "
                          f"{[tuple(w.shape) for w in m_ws]}, the file's {f_name} has "
                          f"{[tuple(w.shape) for w in f_ws]}")
                break
        else:
            detail = f"the model has {len(expected)} layers with weights, the file {len(found)}"
        raise CheckpointError(
            f"{path} was saved from another architecture ({detail}). "
            f"Expected: {_describe(expected)}. Found: {_describe(found)}")
    values = []  # every shape fits: read them all (sizes known to be the model's), then assign
    try:
        for (_, m_ws), (_, f_ws) in zip(expected, found):
            values += [(var, np.asarray(data)) for var, data in zip(m_ws, f_ws)]
    except OSError as e:
        raise CheckpointError(f"cannot read the weights in {path} (damaged file): {e}") from None
    for var, data in values:
        assign(var, data)


def _open(path):
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"weights file not found: {path}")
    mode = path.stat().st_mode
    if not stat.S_ISREG(mode):
        raise CheckpointError(f"{path} is a {file_kind(mode)}, not a weights file: refused, never opened")
    try:
        return h5py.File(path, "r")
    except OSError as e:
        raise CheckpointError(f"cannot read {path} as HDF5 (truncated or not a weights file): {e}") from None


def _h5_bytes(fill):
    """The bytes of an HDF5 file built in memory by ``fill(file)``.

    HDF5 never touches the disk: a full disk or a read-only directory then fails in the plain
    write of these bytes (one ``OSError`` naming the file), not inside HDF5, which keeps a file
    it failed to flush half-open and crashed the interpreter at exit (1.10.6 on a full disk).
    """
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        fill(f)
    return buffer.getvalue()


def weights_bytes(model, values=None):
    """``model``'s weights as the bytes of a TensorLayer-layout HDF5 file (see :func:`save_weights`).

    ``values``: arrays to write instead of the current ones, in ``model.all_weights`` order.
    """
    if values is None:
        return _h5_bytes(lambda f: _write_layers(f, model.all_layers))
    table = {id(w): v for w, v in zip(model.all_weights, values)}
    return _h5_bytes(lambda f: _write_layers(f, model.all_layers, lambda w: table[id(w)]))


def save_weights(model, path):
    """Write ``model``'s weights to ``path`` in TensorLayer's HDF5 layout, atomically."""
    atomic_write(path, weights_bytes(model))


def load_weights(model, path):
    """Load a file written by :func:`save_weights` or TL's ``save_weights`` into ``model``.

    Weights are matched in order (as TL's ``in_order=True``) over the layers that have weights,
    and every shape is checked before any value is assigned.
    """
    with _open(path) as f:
        if "layer_names" not in f.attrs:
            raise CheckpointError(f"{path} has no 'layer_names': not a TensorLayer weights file")
        read_layers(f, model, path)


def read_weights(model, path):
    """The weights in ``path`` as arrays in ``model.all_weights`` order, checked as by
    :func:`load_weights`, without assigning them."""
    found = {}
    with _open(path) as f:
        if "layer_names" not in f.attrs:
            raise CheckpointError(f"{path} has no 'layer_names': not a TensorLayer weights file")
        read_layers(f, model, path, assign=lambda var, data: found.__setitem__(id(var), data))
    return [found[id(w)] for w in model.all_weights]


# -- training checkpoints --------------------------------------------------------------------

def _ensure_built(optimizer, model):
    if not optimizer.built:
        optimizer.build(model.trainable_weights)


def checkpoint_bytes(model, optimizer, epoch, step=0, extra=None):
    """The bytes of a training checkpoint file (see :func:`save_checkpoint`)."""
    _ensure_built(optimizer, model)

    def fill(f):
        f.attrs["format"] = _FORMAT
        f.attrs["epoch"] = int(epoch)
        f.attrs["step"] = int(step)
        f.attrs["extra"] = json.dumps(extra)
        _write_layers(f.create_group("model"), model.all_layers)
        g = f.create_group("optimizer")
        g.attrs["class"] = type(optimizer).__name__
        g.attrs["variable_names"] = _bytes_array([v.path for v in optimizer.variables])
        for i, v in enumerate(optimizer.variables):
            g.create_dataset(str(i), data=np.asarray(v.numpy()))
    return _h5_bytes(fill)


def save_checkpoint(directory, model, optimizer, epoch, step=0, extra=None):
    """Write ``<directory>/checkpoint.h5`` atomically and return its path.

    ``epoch`` is the number of completed epochs, ``step`` the number of steps already done in
    the next one (0 at an epoch boundary); ``extra`` is any JSON-able value, returned unchanged
    by :func:`load_checkpoint`. The previous checkpoint stays in place until the new one is complete.
    """
    path = Path(directory) / CHECKPOINT_NAME
    atomic_write(path, checkpoint_bytes(model, optimizer, epoch, step, extra))
    return path


def load_checkpoint(directory, model, optimizer):
    """Restore the checkpoint in ``directory`` into ``model`` and ``optimizer``.

    Returns None when there is none (start from scratch), else a dict with ``epoch``
    (completed epochs), ``step``, ``extra`` and ``path``. Builds the optimizer on
    ``model.trainable_weights`` first when needed. Everything is checked before anything is assigned.
    All the optimizer's variables are restored, its step counter and learning rate included.
    """
    path = Path(directory) / CHECKPOINT_NAME
    if not path.is_file():
        return None
    _ensure_built(optimizer, model)
    with _open(path) as f:
        epoch, step, extra = _checkpoint_attrs(f, path)
        g = _member(f, "optimizer", path, h5py.Group)
        if not isinstance(g.attrs.get("class"), str):
            raise CheckpointError(f"{path}: attribute 'class' of /optimizer must be a class name: not a dlbook "
                                  f"training checkpoint")
        saved = [plain_dataset(g, str(i), path, kinds="fiu")
                 for i in range(len(names(g.attrs, "variable_names", path, "/optimizer")))]
        current = list(optimizer.variables)
        if (g.attrs["class"] != type(optimizer).__name__
                or [tuple(d.shape) for d in saved] != [tuple(v.shape) for v in current]):
            raise CheckpointError(
                f"{path} holds the state of an optimizer of class {g.attrs['class']} with variables "
                f"{[tuple(d.shape) for d in saved]}, but the optimizer given is of class "
                f"{type(optimizer).__name__} with {[tuple(v.shape) for v in current]}. "
                f"Resume with the same optimizer and model, or use another checkpoint directory")
        read_layers(_member(f, "model", path, h5py.Group), model, path)
        for var, data in zip(current, saved):
            var.assign(np.asarray(data))
        return {"epoch": epoch, "step": step, "extra": extra, "path": str(path)}


def _checkpoint_attrs(f, path):
    """(epoch, step, extra) of an open checkpoint, each checked (type, range, JSON bounds)."""
    if f.attrs.get("format") != _FORMAT:
        raise CheckpointError(f"{path} is not a dlbook training checkpoint (no format '{_FORMAT}')")
    counts = []
    for key in ("epoch", "step"):
        value = f.attrs.get(key)
        if not isinstance(value, (int, np.integer)) or isinstance(value, (bool, np.bool_)) or not 0 <= value <= 10**9:
            raise CheckpointError(f"{path}: attribute {key!r} must be an integer from 0 to 1,000,000,000, found "
                                  f"{value!r}: not a checkpoint dlbook wrote")
        counts.append(int(value))
    extra = f.attrs.get("extra")
    if not isinstance(extra, (str, bytes)) or len(extra) > schema.MAX_BYTES:
        raise CheckpointError(f"{path}: attribute 'extra' must be a JSON text: not a checkpoint dlbook wrote")
    return (*counts, schema.loads(extra, f"{path} (attribute 'extra')"))
