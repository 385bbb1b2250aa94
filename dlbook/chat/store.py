"""A trained chatbot on disk: one folder, written by ``dlbook run 1.10.6``, read by ``dlbook chat``.

    <dir>/config.json      model hyper-parameters, length limits, corpus, loss per epoch
    <dir>/vocab.json       the vocabulary (dlbook.chat.vocab.Vocabulary)
    <dir>/model.h5         the weights (dlbook.checkpoints.save_weights, TensorLayer's HDF5 layout)
    <dir>/checkpoint.h5    weights + Adam state + epoch, for --resume (dlbook.checkpoints)

    <dir>/run.json         the run's options and history (dlbook.session)

Training writes them together, as one snapshot of a run directory (:mod:`dlbook.session`: the
names above are links into ``<dir>/current/``), so the folder never mixes two runs.
"""
import json
import os

from dlbook.chat.vocab import Vocabulary, write_json
from dlbook.errors import CheckpointError

CONFIG_NAME, VOCAB_NAME, WEIGHTS_NAME = "config.json", "vocab.json", "model.h5"
MODEL_KEYS = ("vocabulary_size", "decoder_seq_length", "n_layer", "n_units", "embedding_size")


def save_run_files(directory, config, vocab):
    """Write config.json and vocab.json into ``directory`` (created if needed)."""
    os.makedirs(directory, exist_ok=True)
    write_json(os.path.join(directory, CONFIG_NAME), config)
    vocab.save(os.path.join(directory, VOCAB_NAME))


def read_config(directory):
    """The config.json of a chatbot folder, or a CheckpointError saying what is missing."""
    path = os.path.join(directory, CONFIG_NAME)
    if not os.path.isfile(path):
        raise CheckpointError(f"no trained chatbot in {directory}: {CONFIG_NAME} not found "
                              f"(train one with `dlbook run 1.10.6 --output-dir {directory}`)")
    try:
        with open(path, encoding="utf-8") as f:
            config = json.load(f)
        missing = [k for k in MODEL_KEYS + ("query_len",) if k not in config]
    except ValueError as exc:
        raise CheckpointError(f"{path} is not valid JSON ({exc})") from None
    if missing:
        raise CheckpointError(f"{path} lacks {', '.join(missing)}: not a dlbook chatbot config")
    return config


def load_chatbot(directory):
    """A :class:`dlbook.chat.inference.Chatbot` from a folder written by ``dlbook run 1.10.6``."""
    from dlbook.chat.inference import Chatbot
    from dlbook.checkpoints import load_weights
    from dlbook.models.seq2seq import get_seq2seq_model

    config = read_config(directory)
    vocab = Vocabulary.load(os.path.join(directory, VOCAB_NAME))
    if len(vocab) != config["vocabulary_size"]:
        raise CheckpointError(f"{directory}: vocab.json has {len(vocab)} words but config.json says "
                              f"vocabulary_size {config['vocabulary_size']}; the folder is inconsistent")
    model = get_seq2seq_model(**{k: config[k] for k in MODEL_KEYS})
    load_weights(model, os.path.join(directory, WEIGHTS_NAME))
    return Chatbot(model, vocab, query_len=config["query_len"],
                   max_reply_len=config["decoder_seq_length"])
