"""JSON from elsewhere: read with bounds (regular file, size, depth, finite numbers), then checked
against a JSON schema, one line naming the file and the field (docs/robustness.md)."""
import json
import math
import os
import stat

from dlbook.errors import CheckpointError

MAX_DEPTH = 32  # far more than any file dlbook writes (run.json: 4 levels)
MAX_BYTES = 64 * 2**20


def _finite(text):
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text} is out of range")
    return value


def _refuse_constant(name):
    raise ValueError(f"{name} is not a number JSON allows")


def _depth(value):
    """The nesting depth of a parsed JSON value (iteratively: no recursion)."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, depth = todo.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            todo += [(v, depth + 1) for v in (item.values() if isinstance(item, dict) else item)]
    return deepest


def loads(text, where, error=CheckpointError):
    """Parse JSON ``text`` (str or bytes) of ``where`` with the bounds of :func:`read_json`."""
    try:
        value = json.loads(text, parse_float=_finite, parse_constant=_refuse_constant)
    except RecursionError:
        value = None
        problem = f"nested deeper than {MAX_DEPTH} levels"
    except (ValueError, UnicodeDecodeError) as exc:
        raise error(f"{where} is not valid JSON ({exc})") from None
    else:
        problem = f"nested deeper than {MAX_DEPTH} levels" if _depth(value) > MAX_DEPTH else None
    if problem:
        raise error(f"{where} is not a file dlbook wrote: its JSON is {problem}") from None
    return value


def read_json(path, max_bytes=MAX_BYTES, error=CheckpointError):
    """The JSON value in the regular file ``path``, read with bounds (module docstring)."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise error(f"{path} is not a regular file (a {file_kind(info.st_mode)}): refused, never opened")
        if info.st_size > max_bytes:
            raise error(f"{path} holds {info.st_size:,} bytes, more than the {max_bytes:,} such a file may "
                        f"have: not a file dlbook wrote")
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as exc:
        raise error(f"{path} cannot be read ({exc.strerror or exc})") from None
    return loads(data, path, error)


def file_kind(mode):
    """What a file of mode ``mode`` is, in words (for refusals of FIFOs, devices, sockets)."""
    for test, name in ((stat.S_ISDIR, "directory"), (stat.S_ISFIFO, "named pipe"), (stat.S_ISCHR, "character device"),
                       (stat.S_ISBLK, "block device"), (stat.S_ISSOCK, "socket"), (stat.S_ISLNK, "symlink")):
        if test(mode):
            return name
    return "regular file" if stat.S_ISREG(mode) else "special file"


def _field(error):
    parts = [str(p) for p in error.absolute_path]
    return ".".join(parts) if parts else "(the whole file)"


def check(value, schema, where, error=CheckpointError):
    """Validate ``value`` against the JSON ``schema``; ``error`` naming ``where`` and the field."""
    import jsonschema
    problems = sorted(jsonschema.Draft202012Validator(schema).iter_errors(value),
                      key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if problems:
        first = problems[0]
        found = json.dumps(first.instance)
        found = found if len(found) <= 40 else found[:37] + "..."
        raise error(f"{where}: field {_field(first)!r} {_reason(first)} (found {found})")
    return value


_REASONS = {"type": "must be of type {}", "minimum": "must be >= {}", "maximum": "must be <= {}",
            "required": "must hold the fields {}", "maxItems": "may hold at most {} items",
            "maxLength": "may be at most {} long", "maxProperties": "may hold at most {} fields",
            "additionalProperties": "holds a field such a file never has{}"}


def _reason(error):
    """A short reason, without jsonschema's repetition of the whole value."""
    expected = error.validator_value
    if error.validator == "required":
        expected = ", ".join(expected)
    elif error.validator == "additionalProperties":
        expected = ""
    template = _REASONS.get(error.validator)
    return template.format(expected) if template else error.message.split("\n")[0][:80]


# -- schemas ----------------------------------------------------------------------------------

COUNT = {"type": "integer", "minimum": 0, "maximum": 10**9}
NUMBERS = {"type": "array", "items": {"type": "number"}, "maxItems": 10**6}
HISTORY = {"type": "object", "additionalProperties": NUMBERS, "maxProperties": 100}
STATE = {"type": "object", "maxProperties": 100}
SUMS = {"anyOf": [{"type": "null"},
                  {"type": "object", "required": ["n"], "properties": {"n": COUNT},
                   "additionalProperties": {"type": "number"}, "maxProperties": 100}]}
MODEL_RECORD = {"type": "object", "required": ["builder"],
                "properties": {"builder": {"type": "string", "maxLength": 200}, "args": {"type": "object"}}}
RUN_RECORD = {  # run.json (dlbook.session)
    "type": "object", "required": ["epoch", "step", "options"],
    "properties": {"format": {"type": "string"}, "command": {"type": ["string", "null"], "maxLength": 100_000},
                   "options": {"type": "object", "maxProperties": 1000,
                               "properties": {"precision": {"enum": ["float32", "mixed_bfloat16"]}}},
                   "epoch": COUNT, "step": COUNT,
                   "history": HISTORY, "state": STATE, "model": MODEL_RECORD},
}
SESSION_EXTRA = {  # the 'extra' attribute of a checkpoint written by a session
    "type": "object", "required": ["history", "state", "sums"],
    "properties": {"history": HISTORY, "state": STATE, "sums": SUMS},
}
