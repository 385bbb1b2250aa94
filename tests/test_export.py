"""dlbook export: the chapter models, rebuilt from their runs' records, as SavedModels that load in a
fresh process without dlbook and compute what the TensorLayer models compute (bit-equal logits;
the same greedy replies)."""
import json
import os
import random
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from dlbook import cli, session
from dlbook.files import savedmodel
from dlbook.chat.store import load_chatbot, save_run_files
from dlbook.chat.vocab import Vocabulary, tokenize
from dlbook.files.checkpoints import save_checkpoint, save_weights
from dlbook.compat import tl  # noqa: F401
from dlbook.errors import CheckpointError, DataError, UsageError
from dlbook.models import get_mlp_model, get_model_batchnorm, get_seq2seq_model
from dlbook.models import registry
from dlbook.models.mlp import BOOK_KEEP
import tensorflow as tf

TIMEOUT = 240  # seconds for the fresh process on a loaded 2-core machine
PAIRS = ["hello there how are you", "i am fine thanks", "what is your name", "my name is bot",
         "good night sleep well", "do you like tea yes i love tea"]
QUERIES = ["hello", "how are you", "What is your NAME?", "tea tea tea tea tea tea tea", "zzz unknown",
           "my name is bot and i like tea", "good night", "i am fine"]
CHAT_CONFIG = dict(decoder_seq_length=8, n_layer=2, n_units=16, embedding_size=8, query_len=5)


def _run(directory, model, builder, *args, **kwargs):
    """A run directory as a section's session writes it (run.json with the model record)."""
    run = session.open(directory, options={"program": "a test"})
    run.record_model(builder, *args, **kwargs)
    run.restore(model, tf.optimizers.Adam())
    run.save()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Run directories as 1.10.4, 1.10.5 and 1.10.6 write them, with seeded random weights;
    returns (root, {"mlp": model, "cnn": model})."""
    root = tmp_path_factory.mktemp("runs")
    tf.random.set_seed(1)
    mlp = get_mlp_model([None, 784], keep=BOOK_KEEP)  # the 1.10.4 model, Dropout included
    _run(root / "mlp", mlp, get_mlp_model, [None, 784], keep=BOOK_KEEP)
    cnn = get_model_batchnorm([None, 24, 24, 3])
    for w in cnn.all_weights:  # BatchNorm moving statistics other than the initial 0 and 1
        if "moving" in w.name:
            w.assign(tf.random.uniform(w.shape, 0.5, 1.5))
    _run(root / "cnn", cnn, get_model_batchnorm, [None, 24, 24, 3])
    vocab = Vocabulary.build(PAIRS)
    config = dict(CHAT_CONFIG, vocabulary_size=len(vocab))
    random.seed(2)  # Keras's GRU cells draw their initial weights' seeds from Python's generator
    tf.random.set_seed(2)  # weights whose greedy replies to QUERIES have many lengths, 0 and 8 included
    args = {k: v for k, v in config.items() if k not in ("query_len", "embedding_size")}
    bot = get_seq2seq_model(**args, emb_dim=config["embedding_size"])
    config["model"] = registry.record(get_seq2seq_model, **args, emb_dim=config["embedding_size"])
    save_run_files(root / "chat", config, vocab)
    save_weights(bot, root / "chat" / "model.h5")
    save_checkpoint(root / "chat", bot, tf.optimizers.Adam(), 1)
    mlp.eval()
    cnn.eval()
    return root, {"mlp": mlp, "cnn": cnn}


# --- which model is it ---------------------------------------------------------------------

def test_find_model_takes_the_model_from_the_run_record(runs):
    root, _ = runs
    for source, kind, name in [(root / "mlp", "mlp", "model.h5"),
                               (root / "mlp" / "checkpoint.h5", "mlp", "checkpoint.h5"),
                               (root / "mlp" / "model.h5", "mlp", "model.h5"),
                               (root / "cnn", "cnn_batchnorm", "model.h5"),
                               (root / "chat", "seq2seq", "model.h5"),
                               (root / "chat" / "checkpoint.h5", "seq2seq", "checkpoint.h5")]:
        found = savedmodel.find_model(source)
        assert (found.kind, found.path.name) == (kind, name), source
    assert savedmodel.find_model(root / "cnn").input_shape == (None, 24, 24, 3)


def test_find_model_errors_say_what_was_expected(runs, tmp_path):
    root, _ = runs
    with pytest.raises(UsageError, match="does not exist"):
        savedmodel.find_model(tmp_path / "nowhere")
    with pytest.raises(CheckpointError, match="holds no model.h5: give the --output-dir"):
        savedmodel.find_model(tmp_path)
    (tmp_path / "notes.h5").write_text("not HDF5")
    (tmp_path / "run.json").write_text((root / "mlp" / "run.json").read_text())
    with pytest.raises(CheckpointError, match="is not a weights file"):
        savedmodel.find_model(tmp_path / "notes.h5")
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    shutil.copy(root / "chat" / "model.h5", lonely / "model.h5")
    with pytest.raises(CheckpointError, match="holds no run.json, so not a run of dlbook"):
        savedmodel.find_model(lonely)
    (lonely / "config.json").write_text((root / "chat" / "config.json").read_text())
    with pytest.raises(DataError, match="vocabulary file not found: .*vocab.json"):
        savedmodel.load_model(savedmodel.find_model(lonely))


# --- the SavedModels -----------------------------------------------------------------------


def run_without_dlbook(script, exported, tmp_path, timeout=TIMEOUT):
    """Run ``script`` on ``exported`` in a fresh process without this checkout on its path; it
    prints, last, the dlbook/TensorLayer modules it loaded, which must be none."""
    path = tmp_path / "fresh.py"
    path.write_text(textwrap.dedent(script))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, str(path), str(exported)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"  # neither dlbook nor TensorLayer loaded

FRESH = """
import json, sys
sys.modules["dlbook"] = sys.modules["tensorlayer"] = None   # importing either would fail
import numpy as np
import tensorflow as tf
out = {}
for kind in ("mlp", "cnn"):
    serve = tf.saved_model.load(sys.argv[1] + "/" + kind).signatures["serving_default"]
    out[kind] = serve(images=tf.constant(np.load(sys.argv[1] + "/" + kind + "_x.npy")))["logits"].numpy()
chat = tf.saved_model.load(sys.argv[1] + "/chat")
queries = json.load(open(sys.argv[1] + "/queries.json"))
replies = chat.signatures["serving_default"](query=tf.constant(queries))["reply"].numpy()
out["ids"] = chat.signatures["reply_ids"](encoder_ids=tf.constant(np.load(sys.argv[1] + "/enc.npy")))["reply_ids"].numpy()
np.savez(sys.argv[1] + "/out.npz", replies=np.array([r.decode() for r in replies]), **out)
print(sorted(m for m in sys.modules if m.split(".")[0] in ("dlbook", "tensorlayer") and sys.modules[m]))
"""


def test_exports_reload_in_a_fresh_process_without_dlbook_and_match(runs, tmp_path, capsys):
    root, models = runs
    exported = tmp_path / "exported"
    assert cli.main(["export", str(root / "mlp"), "--format", "savedmodel"]) == 0  # default --out
    assert (root / "mlp" / "savedmodel" / "saved_model.pb").is_file()
    shutil.move(root / "mlp" / "savedmodel", exported / "mlp")
    assert cli.main(["export", str(root / "cnn" / "checkpoint.h5"), "--out",
                     str(exported / "cnn")]) == 0
    savedmodel.export_savedmodel(root / "chat", exported / "chat", log=lambda line: None)
    stdout = capsys.readouterr().out
    assert "exporting the 1.10.4 MLP in" in stdout and "logits bit-equal" in stdout

    rng = np.random.default_rng(0)
    inputs = {"mlp": rng.uniform(0, 1, (32, 784)).astype(np.float32),
              "cnn": rng.normal(size=(16, 24, 24, 3)).astype(np.float32)}
    for kind, x in inputs.items():
        np.save(exported / f"{kind}_x.npy", x)
    bot = load_chatbot(root / "chat")
    (exported / "queries.json").write_text(json.dumps(QUERIES))
    encoder_ids = np.concatenate([bot.encode_query(q) for q in QUERIES])
    np.save(exported / "enc.npy", encoder_ids)
    run_without_dlbook(FRESH, exported, tmp_path)
    out = np.load(exported / "out.npz")

    for kind, x in inputs.items():  # the TensorLayer models that were saved, in eval mode
        np.testing.assert_array_equal(out[kind], models[kind](x).numpy())
    want = [" ".join(bot.reply(q, mode="greedy")[0][0]) for q in QUERIES]
    assert out["replies"].tolist() == want
    # the seeded weights give replies of every kind: empty, stopped by the end token, cut at the limit
    lengths = {len(r.split()) for r in want}
    assert 0 in lengths and CHAT_CONFIG["decoder_seq_length"] in lengths and len(lengths) > 3, lengths
    from dlbook.chat.inference import greedy_decode
    v = bot.vocab
    ids, _ = greedy_decode(bot.model, encoder_ids, v.start_id, v.end_id, bot.max_reply_len)
    np.testing.assert_array_equal(out["ids"], ids)


def test_empty_query_gets_an_empty_reply(runs, tmp_path):
    root, _ = runs
    bot = savedmodel.load_model(savedmodel.find_model(root / "chat"))
    module = savedmodel.chatbot_module(bot)
    replies = module.serve(query=tf.constant(["?!", "", "hello"]))["reply"].numpy()
    assert replies[:2].tolist() == [b"", b""]
    assert replies[2].decode() == " ".join(bot.reply("hello", mode="greedy")[0][0])
    with pytest.raises(UsageError, match="empty query"):  # what dlbook's Chatbot says instead
        bot.reply("?!", mode="greedy")


def test_tokenizer_in_tf_ops_matches_the_python_one():
    texts = ["Hi, how's it going?", "it\u2019s rock'n'roll!", "a''b 'c' d' 'e f'g'", "snake_case and CamelCase",
             "\u00dcn\u00efc\u00f6d\u00e9 \u00c9T\u00c9 stra\u00dfe", "\u65e5\u672c\u8a9e 123 \u0663\u0664",
             "x\u00b2+y\u00b3=z", "'''", "", "   ", "don't stop", "h\u00e9llo\u2014w\u00f6rld\u2026ok",
             "A1B2 c-3", "\U0001f44d good", "''a''", "it's'", "o'clock's", "tab\there\nnewline"]
    got = savedmodel.tokenize_tf(tf.constant(texts)).to_list()
    assert [[w.decode() for w in words] for words in got] == [tokenize(t) for t in texts]


# --- writing -------------------------------------------------------------------------------

def test_export_refuses_to_clobber_and_a_failed_export_leaves_the_previous_one(runs, tmp_path, capsys,
                                                                               monkeypatch):
    root, _ = runs
    out = tmp_path / "mlp"
    savedmodel.export_savedmodel(root / "mlp", out, log=lambda line: None)
    before = (out / "saved_model.pb").read_bytes()
    assert cli.main(["export", str(root / "mlp"), "--out", str(out)]) == 2
    assert "already exists: give another --out, or --overwrite" in capsys.readouterr().err

    def disk_full(module, path, signatures=None):  # TensorFlow's file errors are OpErrors
        (tf.io.gfile.GFile(os.path.join(path, "saved_model.pb"), "wb")).write(b"half")
        raise tf.errors.ResourceExhaustedError(None, None, f"{path}/variables; No space left on device")

    monkeypatch.setattr(tf.saved_model, "save", disk_full)
    assert cli.main(["export", str(root / "mlp"), "--out", str(out), "--overwrite"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"dlbook: error: cannot write the SavedModel {out}: ")
    assert "No space left on device; free some space or give another --out" in err[0]
    assert (out / "saved_model.pb").read_bytes() == before  # the previous export, untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlp"]  # no temporary left behind
    monkeypatch.undo()

    savedmodel.export_savedmodel(root / "cnn", out, overwrite=True, log=lambda line: None)
    assert (out / "saved_model.pb").read_bytes() != before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlp"]
    assert tf.saved_model.load(str(out)).signatures["serving_default"].structured_input_signature[1][
        "images"].shape.as_list() == [None, 24, 24, 3]

    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    with pytest.raises(UsageError, match="not a SavedModel: refusing to replace it"):
        savedmodel.export_savedmodel(root / "mlp", precious, overwrite=True)
    assert (precious / "notes.txt").read_text() == "keep me"


def test_export_cli_usage_errors(capsys):
    assert cli.main(["export", "somewhere", "--format", "onnx"]) == 2
    assert "invalid choice: 'onnx'" in capsys.readouterr().err
