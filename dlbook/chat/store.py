"""A trained chatbot on disk: one run directory written by ``dlbook run 1.10.6``, read by ``dlbook chat``."""
import json
import os

from dlbook.chat.vocab import Vocabulary, write_json
from dlbook.errors import CheckpointError
from dlbook.options import INT_RANGES, check_fits, seq2seq_weights
from dlbook.files.schema import read_json
from dlbook.session.rundir import RunDir

CONFIG_NAME, VOCAB_NAME, WEIGHTS_NAME = "config.json", "vocab.json", "model.h5"
MODEL_KEYS = ("vocabulary_size", "decoder_seq_length", "n_layer", "n_units", "embedding_size")


def save_run_files(directory, config, vocab):
    """Write config.json and vocab.json into ``directory`` (created if needed)."""
    os.makedirs(directory, exist_ok=True)
    write_json(os.path.join(directory, CONFIG_NAME), config)
    vocab.save(os.path.join(directory, VOCAB_NAME))


# The fields the read side uses, with the range each must be in (type: int, never bool).
# One definition each, shared with the options that set them (dlbook.options.INT_RANGES).
CONFIG_FIELDS = {key: INT_RANGES[key] for key in (*MODEL_KEYS, "query_len")}


MAX_CONFIG_BYTES = 16 * 2**20  # the losses of a million epochs


def run_file(directory, name):
    """The path of the file ``name`` of a chatbot folder, or None when it has none.

    A plain file in the folder is read as it is (a folder of an older dlbook, or a copy that
    followed the links); a link must lead to that file of the snapshot in force: dlbook never
    follows a link out of a run directory.
    """
    path = os.path.join(directory, name)
    if os.path.lexists(path) and not os.path.islink(path):
        return path
    checked = RunDir(directory).file(name)  # a regular file of the snapshot in force, or None
    if not os.path.lexists(path):
        return checked
    if checked is None or os.path.realpath(path) != os.path.realpath(checked):
        raise CheckpointError(f"{path} is a link to {os.path.realpath(path)}, not to the {name} of the run's "
                              f"snapshot in force: dlbook never follows a link out of a run directory")
    return path


def read_config(directory):
    """The config.json of a chatbot folder, each field the reader uses checked (type and range).

    Raises CheckpointError naming the folder or the file (and the field) when ``directory`` is a
    file, holds no config.json, or its config.json is not JSON or has a field of the wrong kind.
    """
    if os.path.isfile(directory):
        parent = os.path.dirname(os.path.abspath(directory))
        shown = os.path.dirname(str(directory)) or "."
        hint = (f"; the folder that holds it, {shown}, has one" if os.path.isfile(os.path.join(parent, CONFIG_NAME))
                else "")
        raise CheckpointError(f"{directory} is a file, not a chatbot folder: give the folder that holds "
                              f"{CONFIG_NAME}, {VOCAB_NAME} and {WEIGHTS_NAME}{hint}")
    path = run_file(directory, CONFIG_NAME)
    if path is None:
        raise CheckpointError(f"no trained chatbot in {directory}: {CONFIG_NAME} not found "
                              f"(train one with `dlbook run 1.10.6 --output-dir {directory}`)")
    config = read_json(path, MAX_CONFIG_BYTES)
    if not isinstance(config, dict):
        raise CheckpointError(f"{path} holds a JSON {type(config).__name__}, expected an object with the "
                              f"fields {', '.join(CONFIG_FIELDS)}: not a dlbook chatbot config")
    missing = [k for k in CONFIG_FIELDS if k not in config]
    if missing:
        raise CheckpointError(f"{path} lacks {', '.join(missing)}: not a dlbook chatbot config")
    for key, (low, high) in CONFIG_FIELDS.items():
        value = config[key]
        if type(value) is not int or not low <= value <= high:
            raise CheckpointError(f"{path}: field {key!r} must be an integer from {low:,} to {high:,}, "
                                  f"found {json.dumps(value)[:40]} ({type(value).__name__})")
    return config


def chatbot_record(config, path):
    """The model record of a chatbot's config.json (its "model"; a config written before runs
    recorded their model gives the same record from its fields), checked."""
    from dlbook.models import registry
    made = config.get("model")
    if made is None:
        made = {"builder": "seq2seq", "args": {k: config[k] for k in MODEL_KEYS if k != "embedding_size"}}
        made["args"]["emb_dim"] = config["embedding_size"]  # the printed call's name for it
    registry.check(made, path)
    if made["builder"] != "seq2seq":
        raise CheckpointError(f"{path}: a chatbot's model record names {made['builder']!r}, not seq2seq")
    return made


def build_chatbot(directory):
    """A :class:`dlbook.chat.inference.Chatbot` with the model (rebuilt from config.json's record),
    vocabulary and limits of a folder written by ``dlbook run 1.10.6``, its weights not loaded yet."""
    from dlbook.chat.inference import Chatbot
    from dlbook.models import registry

    config = read_config(directory)
    made = chatbot_record(config, os.path.join(directory, CONFIG_NAME))
    args = made["args"]
    check_fits(seq2seq_weights(args["vocabulary_size"], args["n_layer"], args["n_units"], args["emb_dim"]),
               f"{os.path.join(directory, CONFIG_NAME)}'s sizes", training=False, error=CheckpointError)
    vocab_path = run_file(directory, VOCAB_NAME)
    vocab = Vocabulary.load(vocab_path or os.path.join(directory, VOCAB_NAME))
    if len(vocab) != args["vocabulary_size"]:
        raise CheckpointError(f"{directory}: vocab.json has {len(vocab)} words but config.json says "
                              f"vocabulary_size {made['args']['vocabulary_size']}; the folder is inconsistent")
    return Chatbot(registry.build(made), vocab, query_len=config["query_len"],
                   max_reply_len=made["args"]["decoder_seq_length"])


def load_chatbot(directory):
    """A :class:`dlbook.chat.inference.Chatbot` from a folder written by ``dlbook run 1.10.6``."""
    from dlbook.files.checkpoints import load_weights

    bot = build_chatbot(directory)
    load_weights(bot.model, run_file(directory, WEIGHTS_NAME) or os.path.join(directory, WEIGHTS_NAME))
    return bot
