"""`dlbook export` of real section runs (1.10.4; 1.10.5 with each option that changes the model;
1.10.6): the model is rebuilt from the run's record, and each SavedModel, reloaded in a fresh
process WITHOUT dlbook or TensorLayer, computes what the trained TensorLayer model computes."""
import contextlib
import io
import json
import os
import shutil
import sys

import numpy as np
import pytest

from chapters.ch01 import s1_10_4_mnist_mlp as mlp_section
from chapters.ch01 import s1_10_5_cifar10_cnn as cnn_section
from chapters.ch01 import s1_10_6_chatbot as chat_section
from test_cifar10_cnn import _write_cifar
from test_chat_cli import PAIRS, TINY
from test_export import run_without_dlbook
from dlbook import cli, session
from dlbook.chat.store import load_chatbot
from dlbook.errors import CheckpointError, UsageError
from dlbook.files import savedmodel
from dlbook.files.checkpoints import load_weights
from dlbook.models import get_model_batchnorm

pytestmark = pytest.mark.filterwarnings("ignore:CIFAR-10.*training batches:UserWarning")
TIMEOUT = 300  # seconds for the fresh process on a loaded 2-core machine
#: 1.10.5 runs: the options, and the printed model's arguments they mean (written out, not read from dlbook)
CNN_RUNS = {"cnn": ([], {}), "cnn_no_bn": (["--batch-norm", "off"], {"batch_norm": False}),
            "cnn_dropout": (["--dense-keep", "0.5"], {"dense_keep": 0.5}),
            "cnn_no_augment": (["--augment", "off"], {})}
QUERIES = ["hello", "how are you", "what is your name", "zzz"]

FRESH = """
import json, sys
sys.modules["dlbook"] = sys.modules["tensorlayer"] = None   # importing either would fail
import numpy as np
import tensorflow as tf
root, out = sys.argv[1], {}
for name in json.load(open(root + "/images.json")):
    serve = tf.saved_model.load(root + "/" + name).signatures["serving_default"]
    out[name] = serve(images=tf.constant(np.load(root + "/" + name + "_x.npy")))["logits"].numpy()
chat = tf.saved_model.load(root + "/chat").signatures["serving_default"]
replies = chat(query=tf.constant(json.load(open(root + "/queries.json"))))["reply"].numpy()
np.savez(root + "/out.npz", replies=np.array([r.decode() for r in replies]), **out)
print(sorted(m for m in sys.modules if m.split(".")[0] in ("dlbook", "tensorlayer") and sys.modules[m]))
"""


def _quiet(main, argv):
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(argv) == 0


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One run of each section (one epoch on tiny data); {name: run directory}."""
    root = tmp_path_factory.mktemp("runs")
    data = _write_cifar(root / "cifar")
    found = {"mlp": root / "mlp", "chat": root / "chat"}
    _quiet(mlp_section.main, ["--epochs", "1", "--batch-size", "512", "--data-dir", str(root / "none"),
                              "--output-dir", str(found["mlp"])])
    for name, (options, _) in CNN_RUNS.items():
        found[name] = root / name
        _quiet(cnn_section.main, ["--data-dir", str(data), "--batch-size", "16", "--epochs", "1",
                                  "--output-dir", str(found[name]), *options])
    corpus = root / "pairs.tsv"
    corpus.write_text("".join(f"{q}\t{r}\n" for q, r in PAIRS), encoding="utf-8")
    _quiet(chat_section.main, ["--corpus", str(corpus), *TINY, "--epochs", "1", "--sample-every", "0",
                               "--output-dir", str(found["chat"])])
    return found


def _trained(name, run):
    """The model each run trained, built as its section builds it, with the run's model.h5."""
    if name == "mlp":
        model = mlp_section.get_model()
    else:
        model = get_model_batchnorm([None, 24, 24, 3], **CNN_RUNS[name][1])
    load_weights(model, run / "model.h5")
    model.eval()
    return model


def test_each_run_records_its_model(runs):
    records = {name: json.loads((run / "run.json").read_text())["options"]["model"] for name, run in runs.items()}
    assert records["mlp"] == {"builder": "mlp", "args": {"inputs_shape": [None, 784], "n_units": 800,
                                                         "n_classes": 10, "keep": [0.8, 0.5, 0.5]}}
    assert records["cnn"]["args"] == {"inputs_shape": [None, 24, 24, 3], "dense_keep": 1.0, "batch_norm": True}
    assert records["cnn_no_bn"]["args"]["batch_norm"] is False
    assert records["cnn_dropout"]["args"]["dense_keep"] == 0.5
    config = json.loads((runs["chat"] / "config.json").read_text())
    assert config["model"] == records["chat"] and records["chat"]["builder"] == "seq2seq"
    assert records["chat"]["args"]["n_units"] == 32 and records["chat"]["args"]["emb_dim"] == 16


def test_exports_of_every_run_reload_without_dlbook_and_match(runs, tmp_path, capsys):
    exported = tmp_path / "exported"
    images = [name for name in runs if name != "chat"]
    rng = np.random.default_rng(0)
    for name in images:
        source = runs[name] / "model.h5" if name == "cnn" else runs[name]  # a file inside a run, too
        assert cli.main(["export", str(source), "--out", str(exported / name)]) == 0, capsys.readouterr().err
        shape = (16, 784) if name == "mlp" else (16, 24, 24, 3)
        np.save(exported / f"{name}_x.npy", rng.normal(size=shape).astype(np.float32))
    assert cli.main(["export", str(runs["chat"]), "--out", str(exported / "chat")]) == 0
    assert "the 1.10.5 CNN in" in capsys.readouterr().out
    (exported / "images.json").write_text(json.dumps(images))
    (exported / "queries.json").write_text(json.dumps(QUERIES))
    run_without_dlbook(FRESH, exported, tmp_path, timeout=TIMEOUT)
    out = np.load(exported / "out.npz")
    for name in images:
        want = _trained(name, runs[name])(np.load(exported / f"{name}_x.npy")).numpy()
        np.testing.assert_allclose(out[name], want, rtol=1e-5, atol=1e-5, err_msg=name)
    bot = load_chatbot(runs["chat"])
    assert out["replies"].tolist() == [" ".join(bot.reply(q, mode="greedy")[0][0]) for q in QUERIES]


def test_a_run_without_a_model_record(runs, tmp_path):
    """Runs saved before runs recorded their model: the 1.10.4 MLP is unambiguous and still
    exports; a 1.10.5 run says in one line how to get an exportable run."""
    for name in ("mlp", "cnn_no_bn"):
        old = tmp_path / name
        old.mkdir()
        meta = json.loads((runs[name] / "run.json").read_text())
        del meta["options"]["model"]
        (old / "run.json").write_text(json.dumps(meta))
        (old / "model.h5").write_bytes((runs[name] / "model.h5").read_bytes())
    assert savedmodel.find_model(tmp_path / "mlp").record["builder"] == "mlp"
    with pytest.raises(CheckpointError, match=r"does not record how to rebuild its model .*"
                                              r"train it again with `dlbook run 1\.10\.5 .*--overwrite`"):
        savedmodel.find_model(tmp_path / "cnn_no_bn")


@pytest.mark.parametrize("record, message", [
    ({"builder": "os.system", "args": {}}, "unknown model builder 'os.system'"),
    ({"builder": "cnn_batchnorm", "args": {"inputs_shape": [None, 24, 24, 3], "dense_keep": 0.5}},
     "takes the arguments inputs_shape, dense_keep, batch_norm"),
    ({"builder": "cnn_batchnorm", "args": {"inputs_shape": [None, 24, 24, 3], "dense_keep": 2.0,
                                           "batch_norm": True}}, "'dense_keep' must be a keep probability"),
    ({"builder": "mlp", "args": {"inputs_shape": [None, 10 ** 9], "n_units": 800, "n_classes": 10,
                                 "keep": None}}, "'inputs_shape' must be a list"),
    ("mlp", "must be an object with 'builder' and 'args'"),
])
def test_a_bad_record_is_refused_before_anything_is_built(runs, tmp_path, record, message):
    bad = tmp_path / "bad"
    bad.mkdir()
    meta = json.loads((runs["cnn"] / "run.json").read_text())
    meta["options"]["model"] = record
    (bad / "run.json").write_text(json.dumps(meta))
    (bad / "model.h5").write_bytes((runs["cnn"] / "model.h5").read_bytes())
    with pytest.raises(CheckpointError, match=message):
        savedmodel.find_model(bad)


def test_resume_rebuilds_the_recorded_model_only(runs, tmp_path):
    """Resuming a run with a model other than the recorded one is refused, naming the record
    (1.10.5's model options are also recipe options: the session's own check, through its API)."""
    copy = tmp_path / "cnn"
    shutil.copytree(runs["cnn"], copy, symlinks=True)
    run = session.open(copy, resume=True)
    run.record_model(get_model_batchnorm, [None, 24, 24, 3])  # the same model: accepted
    with pytest.raises(UsageError, match=r"cannot resume .*\(model: saved .*'batch_norm': True.*now .*'batch_norm': False"):
        run.record_model(get_model_batchnorm, [None, 24, 24, 3], batch_norm=False)
