"""`dlbook export`: a trained chapter model as a TensorFlow SavedModel (signatures: docs/design.md)."""
import contextlib
import json
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
from dlbook.models import registry
from dlbook.files.schema import file_kind

FORMATS = ("savedmodel",)
DEFAULT_DIR_NAME = "savedmodel"
KINDS = {"mlp": "the 1.10.4 MLP", "cnn_batchnorm": "the 1.10.5 CNN", "seq2seq": "the 1.10.6 chatbot"}
_WHAT = "give the --output-dir of a 'dlbook run 1.10.4', 1.10.5 or 1.10.6, or a file in it"


# -- which model is it: the run's record ------------------------------------------------------

@dataclass
class FoundModel:
    """A trained chapter model on disk: its record (builder + args), the weights file, the group
    holding the weights ("/" for model.h5, "model" in a checkpoint) and the run's directory."""
    record: dict
    path: Path
    group: str
    directory: Path

    @property
    def kind(self):
        return self.record["builder"]

    @property
    def input_shape(self):
        return tuple(self.record["args"]["inputs_shape"])

    def describe(self):
        return f"{KINDS[self.kind]} in {self.path}"


def _read_run_json(path):
    """run.json as a dict with an "options" object; CheckpointError naming it otherwise."""
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
        options = meta["options"]
    except (OSError, ValueError, UnicodeDecodeError, TypeError, KeyError) as exc:
        raise CheckpointError(f"{path} is not the record of a dlbook run ({type(exc).__name__}: {exc})") from None
    if type(options) is not dict:
        raise CheckpointError(f"{path} is not the record of a dlbook run (its options are not an object)")
    return meta


def _legacy_record(meta, path):
    """The record of a run written before runs recorded their model: only where it is unambiguous."""
    if meta["options"].get("program") == "dlbook run 1.10.4":  # the listing's MLP, no option changes it
        from dlbook.models.mlp import BOOK_KEEP, get_mlp_model
        return registry.record(get_mlp_model, [None, 784], keep=BOOK_KEEP)
    command = str(meta.get("command") or "the run's command").replace(" --resume", "")
    raise CheckpointError(f"{path} does not record how to rebuild its model (a run saved by an older dlbook): "
                          f"train it again with `{command} --overwrite`, then export it")


def run_record(directory):
    """The model record of the run in ``directory``: run.json's, or config.json's for a chatbot."""
    from dlbook.chat.store import CONFIG_NAME, chatbot_record, read_config
    if (directory / CONFIG_NAME).is_file():
        return chatbot_record(read_config(directory), directory / CONFIG_NAME)
    path = directory / "run.json"
    if not path.is_file():
        raise CheckpointError(f"{directory} holds no run.json, so not a run of dlbook: {_WHAT}")
    meta = _read_run_json(path)
    made = meta["options"].get("model")
    made = _legacy_record(meta, path) if made is None else made
    registry.check(made, path)
    return made


def _weights_group(path):
    """"/" for a weights file, "model" for a checkpoint; CheckpointError when it is neither."""
    try:
        with h5py.File(path, "r") as f:
            for group in ("/", "model"):
                if group in f and "layer_names" in f[group].attrs:
                    return group
    except OSError:
        pass
    raise CheckpointError(f"{path} is not a weights file (TensorLayer's HDF5 layout): {_WHAT}")


def _regular_file(path, directory):
    """Refuse, unopened, what is not a regular file or is a link leading out of the run directory."""
    mode = path.stat().st_mode if path.exists() else None
    if mode is None or not stat.S_ISREG(mode):
        raise CheckpointError(f"{path} is a {file_kind(mode) if mode else 'dangling link'}, not a weights file: "
                              f"refused, never opened")
    if not path.resolve().is_relative_to(directory.resolve()):
        raise CheckpointError(f"{path} is a link to {path.resolve()}, outside {directory}: dlbook never follows a "
                              f"link out of a run directory")


def find_model(path):
    """The chapter model stored at ``path``: a run directory, or a file in one (model.h5,
    checkpoint.h5); the model comes from the run's record, never from the weights' shapes."""
    path = Path(path)
    if not os.path.lexists(path) or not path.exists():
        raise UsageError(f"{path} does not exist: {_WHAT}")
    directory = path if path.is_dir() else path.parent
    weights = path if path.is_file() and path.suffix == ".h5" else directory / "model.h5"
    if not os.path.lexists(weights):
        raise CheckpointError(f"{directory} holds no model.h5: {_WHAT}")
    _regular_file(weights, directory)
    made = run_record(directory)
    return FoundModel(made, weights, _weights_group(weights), directory)


# -- the TensorLayer model and its serving functions ------------------------------------------

def _load_into(model, found):
    from dlbook.files.checkpoints import read_layers
    with h5py.File(found.path, "r") as f:
        read_layers(f[found.group], model, found.path)
    model.eval()
    return model


def load_model(found):
    """The TensorLayer model of a :class:`FoundModel`, rebuilt from its record, with its weights,
    in eval mode (for the chatbot: a :class:`dlbook.chat.inference.Chatbot`)."""
    if found.kind != "seq2seq":
        return _load_into(registry.build(found.record, found.directory), found)
    from dlbook.chat.store import build_chatbot
    bot = build_chatbot(found.directory)
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
    if found.kind == "seq2seq":
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
    x = _probe_images(found.input_shape)
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
    if found.kind == "seq2seq":
        module = chatbot_module(model)
    else:
        module = serving_module(model, found.input_shape)
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
    from dlbook.options import make_parser

    parser = make_parser(prog="dlbook export",
                         description="Export a trained chapter model (1.10.4 MLP, 1.10.5 CNN, 1.10.6 "
                                     "chatbot) for use without dlbook, e.g. by TF Serving or "
                                     "tf.saved_model.load. The model is rebuilt from what the run recorded.")
    parser.add_argument("source", metavar="RUN_DIR",
                        help="the --output-dir of the run, or its model.h5 / checkpoint.h5")
    parser.add_argument("--format", choices=FORMATS, default="savedmodel", help="export format")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="where to write the SavedModel (default: RUN_DIR/savedmodel; TF Serving "
                             "wants MODEL_BASE/<version>, e.g. --out serving/mlp/1)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing export at --out")
    args = parser.parse_args(argv)
    export_savedmodel(args.source, args.out, overwrite=args.overwrite)
    return 0

