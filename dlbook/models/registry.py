"""The chapter's model builders by name: a run records ``{"builder": name, "args": {...}}``, rebuilt by :func:`build`."""
import inspect

from dlbook.errors import CheckpointError
from dlbook.models.cnn import get_model_batchnorm
from dlbook.models.mlp import get_mlp_model
from dlbook.models.seq2seq import get_seq2seq_model

_SIZE = 65_536


def _int(low, high):
    return (lambda v: type(v) is int and low <= v <= high), f"an integer from {low:,} to {high:,}"


def _is_keep(v):
    return type(v) in (int, float) and 0 < v <= 1


def _shape(rank):
    """A batch-first input shape of ``rank`` axes: None, then sizes."""
    def ok(v):
        return (type(v) is list and len(v) == rank and v[0] is None
                and all(type(n) is int and 1 <= n <= _SIZE for n in v[1:]))
    return ok, f"a list [null, {', '.join(['size'] * (rank - 1))}] of sizes from 1 to {_SIZE:,}"


_KEEP = _is_keep, "a keep probability in (0, 1]"
_KEEPS = ((lambda v: v is None or (type(v) is list and len(v) == 3 and all(map(_is_keep, v)))),
          "null or a list of 3 keep probabilities in (0, 1]")
_BOOL = (lambda v: type(v) is bool), "true or false"

#: name -> (function, {argument: (check, what it must be)}); the only models a record can name.
BUILDERS = {
    "mlp": (get_mlp_model, {"inputs_shape": _shape(2), "n_units": _int(1, _SIZE),
                            "n_classes": _int(1, _SIZE), "keep": _KEEPS}),
    "cnn_batchnorm": (get_model_batchnorm, {"inputs_shape": _shape(4), "dense_keep": _KEEP,
                                            "batch_norm": _BOOL}),
    "seq2seq": (get_seq2seq_model, {"vocabulary_size": _int(4, 10_000_000), "decoder_seq_length": _int(1, 10_000),
                                    "n_layer": _int(1, 100), "n_units": _int(1, _SIZE),
                                    "emb_dim": _int(1, _SIZE)}),
}


def _plain(value):
    """Tuples as lists, as JSON holds them."""
    return [_plain(v) for v in value] if isinstance(value, (list, tuple)) else value


def record(builder, *args, **kwargs):
    """The record of ``builder(*args, **kwargs)`` (a function of :data:`BUILDERS`), checked."""
    name = next((n for n, (fn, _) in BUILDERS.items() if fn is builder), None)
    if name is None:
        raise ValueError(f"{getattr(builder, '__name__', builder)!r} is not a registered model builder")
    bound = inspect.signature(builder).bind(*args, **kwargs)
    bound.apply_defaults()
    extra = sorted(set(bound.arguments) - set(BUILDERS[name][1]))
    if any(bound.arguments[key] is not None for key in extra):
        raise ValueError(f"a recorded {name} model takes no {', '.join(extra)}")
    made = {"builder": name, "args": {key: _plain(bound.arguments[key]) for key in BUILDERS[name][1]}}
    check(made, "the model record")
    return made


def check(made, source):
    """The builder and arguments of a record read from ``source``; CheckpointError naming what is wrong."""
    if type(made) is not dict or set(made) != {"builder", "args"} or type(made["args"]) is not dict:
        raise CheckpointError(f"{source}: the model record must be an object with 'builder' and 'args'")
    if made["builder"] not in BUILDERS:
        raise CheckpointError(f"{source}: unknown model builder {str(made['builder'])[:40]!r}; "
                              f"known: {', '.join(BUILDERS)}")
    builder, spec = BUILDERS[made["builder"]]
    if set(made["args"]) != set(spec):
        raise CheckpointError(f"{source}: the {made['builder']} model takes the arguments {', '.join(spec)}; "
                              f"the record gives {', '.join(sorted(map(str, made['args']))) or 'none'}")
    for key, (ok, what) in spec.items():
        if not ok(made["args"][key]):
            raise CheckpointError(f"{source}: model argument {key!r} must be {what}, "
                                  f"found {str(made['args'][key])[:40]}")
    return builder, made["args"]


def build(made, source="the model record"):
    """A fresh model (random weights) from a record read from ``source``, checked first."""
    builder, args = check(made, source)
    return builder(**args)
