"""`dlbook export`: a trained chapter model as a TensorFlow SavedModel (signatures: docs/design.md)."""
import contextlib
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import tensorflow as tf

from dlbook.errors import CheckpointError, UsageError
from dlbook.files.schema import file_kind

FORMATS = ("savedmodel",)
DEFAULT_DIR_NAME = "savedmodel"
_SEARCH_DEPTH = 3  # how deep find_model looks for weights files under a directory
_EXPECTED = ("expected a 1.10.4 MLP (784x800, 800x800, 800x10 dense kernels), a 1.10.5 CNN "
             "(a 5x5x3x64 conv kernel first) or a 1.10.6 chatbot (GRU and embedding weights, with "
             "config.json and vocab.json beside them), in a weights .h5 or a checkpoint.h5")
KINDS = {"mlp": "the 1.10.4 MLP", "cnn": "the 1.10.5 CNN", "chatbot": "the 1.10.6 chatbot"}


# -- which model is it ------------------------------------------------------------------------

@dataclass
class FoundModel:
    """A chapter model on disk: ``kind`` ("mlp", "cnn", "chatbot"), the HDF5 file, the group
    holding the weights ("/" for a weights file, "model" in a checkpoint), and the weight shapes
    per layer."""
    kind: str
    path: Path
    group: str
    shapes: list

    @property
    def is_checkpoint(self):
        return self.group != "/"

    def describe(self):
        return f"{KINDS[self.kind]} in {self.path}"


def _classify(shapes):
    """The kind of model ("mlp", "cnn", "chatbot"; None: none of them) from the weight shapes of
    each layer, in file order."""
    if not shapes:
        return None
    gru = [ws for ws in shapes if len(ws) == 3 and len(ws[2]) == 2 and ws[2][0] == 2]
    if gru and any(len(ws) == 1 and len(ws[0]) == 2 for ws in shapes):  # GRU layers + an embedding
        return "chatbot"
    if len(shapes[0]) == 1 and len(shapes[0][0]) == 4:  # a conv kernel first
        return "cnn"
    dense = all(len(ws) == 2 and len(ws[0]) == 2 and ws[1] == ws[0][1:] for ws in shapes)
    chained = all(a[0][1] == b[0][0] for a, b in zip(shapes, shapes[1:]))
    return "mlp" if dense and chained and len(shapes) == 3 else None


def _read_shapes(path):
    """(group, weight shapes per layer) of a TL-layout HDF5 file or dlbook checkpoint, else None."""
    from dlbook.files.checkpoints import file_entries
    try:
        with h5py.File(path, "r") as f:
            for group in ("/", "model"):
                if group in f and "layer_names" in f[group].attrs:
                    return group, [[tuple(w.shape) for w in ws] for _, ws in file_entries(f[group])]
    except (OSError, KeyError, ValueError, TypeError):  # not HDF5, or not TensorLayer's layout
        return None
    return None


def _identify(path, root=None):
    """The FoundModel in ``path``, or None. Never opens what is not a regular file, nor (under a
    directory ``root``) a link leading out of ``root``."""
    mode = path.stat().st_mode if path.exists() else None
    if mode is None or not stat.S_ISREG(mode):
        raise CheckpointError(f"{path} is a {file_kind(mode) if mode else 'dangling link'}, not a weights file: "
                              f"refused, never opened")
    if root is not None and not path.resolve().is_relative_to(root.resolve()):
        raise CheckpointError(f"{path} is a link to {path.resolve()}, outside {root}: dlbook never follows a "
                              f"link out of a run directory")
    read = _read_shapes(path)
    if read is None:
        return None
    kind = _classify(read[1])
    return FoundModel(kind, Path(path), *read) if kind else None


def _h5_files(directory):
    """The .h5 files under ``directory`` (at most _SEARCH_DEPTH levels; hidden entries skipped)."""
    directory = Path(directory)
    found = []
    for root, dirs, files in os.walk(directory):
        depth = len(Path(root).relative_to(directory).parts)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and depth < _SEARCH_DEPTH - 1)
        found += [Path(root) / f for f in sorted(files) if f.endswith(".h5") and not f.startswith(".")]
    return found


def find_model(path):
    """The chapter model stored at ``path``: a run directory, a weights .h5 or a checkpoint.h5.

    The model is recognized from its weight shapes, so any layout of a run directory works;
    when a directory holds several files of the same model, a final weights file is preferred
    to a checkpoint, then the newest. A chatbot needs its config.json and vocab.json beside the
    weights. Errors say what was expected.
    """
    path = Path(path)
    if not os.path.lexists(path) or not path.exists():
        raise UsageError(f"{path} does not exist: give the --output-dir of a 'dlbook run 1.10.4', "
                         f"1.10.5 or 1.10.6, or a weights .h5 / checkpoint.h5 in it")
    root = None if path.is_file() or not path.is_dir() else path
    candidates = _h5_files(path) if root else [path]
    found = [m for m in (_identify(c, root) for c in candidates) if m is not None]
    if not found:
        what = "holds no chapter model" if root else "is not a weights file"
        raise CheckpointError(f"{path} {what}: {_EXPECTED}")
    kinds = sorted({m.kind for m in found})
    if len(kinds) > 1:
        listed = []
        for kind in kinds:
            files = [str(m.path) for m in found if m.kind == kind]
            more = f" and {len(files) - 2} more" if len(files) > 2 else ""
            listed.append(f"{KINDS[kind]} in {', '.join(files[:2])}{more}")
        raise UsageError(f"{path} holds several models ({'; '.join(listed)}): give the weights file "
                         f"or run directory to export")
    best = max(found, key=lambda m: (not m.is_checkpoint, m.path.stat().st_mtime))
    if best.kind == "chatbot":
        missing = [n for n in ("config.json", "vocab.json") if not (best.path.parent / n).is_file()]
        if missing:
            raise CheckpointError(f"{best.path} holds a 1.10.6 chatbot's weights but "
                                  f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not "
                                  f"beside it: export the folder 'dlbook run 1.10.6' wrote")
    return best


# -- the TensorLayer model and its serving functions ------------------------------------------

def _load_into(model, found):
    from dlbook.files.checkpoints import read_layers
    with h5py.File(found.path, "r") as f:
        read_layers(f[found.group], model, found.path)
    model.eval()
    return model


def input_shape(found):
    """The image input shape of an MLP or CNN, batch first, from its weight shapes."""
    kernel = found.shapes[0][0]
    if found.kind == "mlp":
        return (None, kernel[0])
    channels = [ws[0] for ws in found.shapes if len(ws[0]) == 4][-1][-1]  # out of the last conv
    flat = next(ws[0][0] for ws in found.shapes if len(ws[0]) == 2)  # into the first dense layer
    side = 4 * int(round((flat / channels) ** 0.5))  # two stride-2 pools: 24x24 -> 6x6
    return (None, side, side, kernel[2])


def load_model(found):
    """The TensorLayer model of a :class:`FoundModel` with its weights, in eval mode (for the
    chatbot: a :class:`dlbook.chat.inference.Chatbot`)."""
    if found.kind == "mlp":
        from dlbook.models import get_mlp_model
        (n_units,), (n_classes,) = found.shapes[0][1], found.shapes[-1][1]
        return _load_into(get_mlp_model(input_shape(found), n_units=n_units, n_classes=n_classes), found)
    if found.kind == "cnn":
        from dlbook.models import get_model_batchnorm
        return _load_into(get_model_batchnorm(list(input_shape(found))), found)
    from dlbook.chat.store import build_chatbot
    bot = build_chatbot(found.path.parent)
    _load_into(bot.model, found)
    return bot


class ServingModule(tf.Module):
    """A ``tf.Module`` holding a model's weights (``weights``) and its serving ``tf.function``s."""

    def __init__(self, weights, signature_names):
        super().__init__()
        self.weights = list(weights)  # tracked: the SavedModel stores these variables
        self._signature_names = dict(signature_names)  # signature -> attribute of the function

    def signatures(self):
        """``{signature name: tf.function}`` for ``tf.saved_model.save(..., signatures=...)``."""
        return {name: getattr(self, attr) for name, attr in self._signature_names.items()}


def serving_module(model, input_shape):
    """A ``tf.Module`` holding a TensorLayer model's weights, with a ``serving_default``
    ``tf.function`` that maps ``images`` (float32 ``input_shape``, batch first) to ``logits``.

    Save it with ``tf.saved_model.save(module, path, signatures=module.signatures())``.
    """
    model.eval()
    module = ServingModule(model.all_weights, {"serving_default": "serve"})

    @tf.function(input_signature=[tf.TensorSpec([None, *input_shape[1:]], tf.float32, name="images")])
    def serve(images):
        return {"logits": model(images)}

    module.serve = serve
    return module


def tokenize_tf(texts):
    """:func:`dlbook.chat.vocab.tokenize` in TensorFlow ops: string [batch] -> ragged words.

    Lower case, ’ read as ', words are runs of letters and digits with inner apostrophes.
    """
    t = tf.strings.lower(texts, encoding="utf-8")
    t = tf.strings.regex_replace(t, "\u2019", "'")
    t = tf.strings.regex_replace(t, r"[^\pL\pN']+", " ")  # keep letters, digits, apostrophes
    t = tf.strings.regex_replace(t, r"''+", " ")  # a word has single inner apostrophes only
    t = tf.strings.regex_replace(t, r"(^| )'", " ")  # ... not leading
    t = tf.strings.regex_replace(t, r"'( |$)", " ")  # ... nor trailing
    return tf.strings.split(t)


def chatbot_module(bot):
    """A ``tf.Module`` with the chatbot's weights and vocabulary and two greedy-reply signatures,
    ``serving_default(query)`` and ``reply_ids(encoder_ids)`` (see the module docstring)."""
    from dlbook.models.seq2seq import decode_step, encode

    model, vocab = bot.model, bot.vocab
    model.eval()
    query_len, max_len = bot.query_len, bot.max_reply_len
    start_id, end_id, pad_id = vocab.start_id, vocab.end_id, vocab.pad_id
    module = ServingModule(model.all_weights, {"serving_default": "serve", "reply_ids": "reply_ids"})
    module.table = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(tf.constant(vocab.idx2w), tf.range(len(vocab), dtype=tf.int64)),
        default_value=vocab.unk_id)
    words = tf.constant(vocab.idx2w)

    def greedy(encoder_ids):
        """dlbook.chat.inference.greedy_decode in graph ops: the most likely word each step."""
        batch = tf.shape(encoder_ids)[0]
        states = encode(model, encoder_ids)
        tokens = tf.fill([batch], start_id)
        done = tf.zeros([batch], tf.bool)
        ids, columns = tf.fill([batch, max_len], end_id), tf.range(max_len)
        for step in tf.range(max_len):
            logits, states = decode_step(model, tokens, states)
            tokens = tf.argmax(logits, axis=-1, output_type=tf.int32)
            # column `step` of ids (a select, not a TensorArray + transpose: no int transpose in oneDNN)
            ids = tf.where(tf.equal(columns, step), tf.where(done, end_id, tokens)[:, None], ids)
            done = done | tf.equal(tokens, end_id)
            if tf.reduce_all(done):
                break
        return ids

    @tf.function(input_signature=[tf.TensorSpec([None, query_len], tf.int32, name="encoder_ids")])
    def reply_ids(encoder_ids):
        return {"reply_ids": greedy(encoder_ids)}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="query")])
    def serve(query):
        ids = module.table.lookup(tokenize_tf(query))[:, :query_len]  # as pad_query: the first words
        lengths = ids.row_lengths()
        right_padded = ids.to_tensor(default_value=pad_id, shape=[None, query_len])
        encoder_ids = tf.reverse(tf.reverse_sequence(right_padded, lengths, seq_axis=1), axis=[1])
        encoder_ids = tf.cast(encoder_ids, tf.int32)
        reply = greedy(encoder_ids)
        keep = tf.equal(tf.cumsum(tf.cast(tf.equal(reply, end_id), tf.int32), axis=1), 0)
        keep &= tf.not_equal(reply, pad_id)  # as Vocabulary.decode: up to the end token, no pads
        text = tf.strings.reduce_join(tf.ragged.boolean_mask(tf.gather(words, reply), keep),
                                      axis=1, separator=" ")
        return {"reply": tf.where(lengths > 0, text, "")}

    module.serve, module.reply_ids = serve, reply_ids
    return module


# -- checking the export ----------------------------------------------------------------------

def _probe_images(shape, n=8):
    return np.random.default_rng(0).normal(size=(n, *shape[1:])).astype(np.float32)


def _check(loaded, found, model):
    """Compare the reloaded SavedModel with the TensorLayer model; CheckpointError if they differ.
    Returns a short description of what was checked."""
    if found.kind == "chatbot":
        bot, v = model, model.vocab
        from dlbook.chat.inference import greedy_decode
        queries = [q for q in (" ".join(v.idx2w[4:7]), " ".join(v.idx2w[4:4 + 2 * bot.query_len]),
                               v.idx2w[-1]) if v.encode(q)] or [v.unk]
        for query in queries:
            want, _ = greedy_decode(bot.model, bot.encode_query(query), v.start_id, v.end_id, bot.max_reply_len)
            got = loaded.signatures["serving_default"](query=tf.constant([query]))["reply"][0].numpy()
            if got.decode("utf-8") != " ".join(v.decode(want[0])):
                raise CheckpointError(f"the exported chatbot replies {got.decode('utf-8')!r} to {query!r}, "
                                      f"the trained one {' '.join(v.decode(want[0]))!r}: export failed")
        return f"greedy replies to {len(queries)} queries as the trained model's"
    x = _probe_images(input_shape(found))
    want = model(x).numpy()
    got = loaded.signatures["serving_default"](images=tf.constant(x))["logits"].numpy()
    if np.array_equal(got, want):
        return "logits bit-equal to the TensorLayer model's"
    diff = float(np.max(np.abs(got - want)))
    if not np.allclose(got, want, rtol=1e-5, atol=1e-5):
        raise CheckpointError(f"the exported model's logits differ from the trained model's by up to "
                              f"{diff:.3g}: export failed")
    return f"logits within {diff:.1g} of the TensorLayer model's"


# -- writing ----------------------------------------------------------------------------------

def _fsync_tree(directory):
    for root, _, files in os.walk(directory):
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                os.fsync(f.fileno())


@contextlib.contextmanager
def atomic_directory(target, overwrite=False):
    """Yield a temporary directory beside ``target``; it becomes ``target`` when the block succeeds.

    An existing ``target`` is refused unless ``overwrite``, and even then only when it is a
    SavedModel (it holds saved_model.pb). On any error the temporary directory is removed and
    ``target`` is left as it was.
    """
    target = Path(target)
    if target.exists():
        if not overwrite:
            raise UsageError(f"{target} already exists: give another --out, or --overwrite to replace it")
        if not (target / "saved_model.pb").is_file():
            raise UsageError(f"{target} exists and is not a SavedModel: refusing to replace it; "
                             f"give another --out")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    old = None
    try:
        yield tmp
        _fsync_tree(tmp)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o777 & ~mask)  # mkdtemp's directory is private (0700)
        if target.exists():
            old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".old"))
            os.replace(target, old)
        os.rename(tmp, target)
    except BaseException:
        if old is not None and not target.exists():
            os.replace(old, target)  # put the previous export back
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def default_out(source):
    """Where an export of ``source`` goes by default: ``savedmodel`` in the run directory."""
    source = Path(source)
    return (source.parent if source.is_file() else source) / DEFAULT_DIR_NAME


def export_savedmodel(source, out=None, overwrite=False, log=print):
    """Export the chapter model at ``source`` (see :func:`find_model`) as a SavedModel at ``out``
    (default :func:`default_out`), atomically; returns the path written."""
    found = find_model(source)
    out = Path(out) if out is not None else default_out(source)
    if out.exists() and not overwrite:  # before the model is built: fail fast
        raise UsageError(f"{out} already exists: give another --out, or --overwrite to replace it")
    log(f"exporting {found.describe()}")
    model = load_model(found)
    if found.kind == "chatbot":
        module = chatbot_module(model)
    else:
        module = serving_module(model, input_shape(found))
    with atomic_directory(out, overwrite) as tmp:
        try:
            tf.saved_model.save(module, str(tmp), signatures=module.signatures())
        except tf.errors.OpError as exc:  # e.g. the disk is full: TensorFlow's error, not an OSError
            raise CheckpointError(f"cannot write the SavedModel {out}: {exc.message}; free some space "
                                  f"or give another --out (nothing was changed at {out})") from None
        checked = _check(tf.saved_model.load(str(tmp)), found, model)
    signatures = ", ".join(module.signatures())
    log(f"SavedModel written to {out} (signatures: {signatures}); reloaded: {checked}")
    return out


def main(argv=None):
    """``dlbook export RUN_DIR [--format savedmodel] [--out DIR] [--overwrite]``."""
    from dlbook.cli.options import make_parser

    parser = make_parser(prog="dlbook export",
                         description="Export a trained chapter model (1.10.4 MLP, 1.10.5 CNN, 1.10.6 "
                                     "chatbot) for use without dlbook, e.g. by TF Serving or "
                                     "tf.saved_model.load. The model is recognized from its weights.")
    parser.add_argument("source", metavar="RUN_DIR",
                        help="the --output-dir of the run, or a weights .h5 / checkpoint.h5 in it")
    parser.add_argument("--format", choices=FORMATS, default="savedmodel", help="export format")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="where to write the SavedModel (default: RUN_DIR/savedmodel; TF Serving "
                             "wants MODEL_BASE/<version>, e.g. --out serving/mlp/1)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing export at --out")
    args = parser.parse_args(argv)
    export_savedmodel(args.source, args.out, overwrite=args.overwrite)
    return 0

