"""1.10.6 end to end on a tiny corpus: `dlbook run 1.10.6` trains (loss halves, replies learnt,
checkpoint each epoch, --resume), `dlbook chat` answers through a pipe and with --query."""
import contextlib
import io
import json
import subprocess
import sys

import pytest

from chapters.ch01 import s1_10_6_chatbot as chatbot
from dlbook import cli
from dlbook.chat import command as chat_command
from dlbook.chat.store import load_chatbot
from dlbook.errors import DlbookError, UsageError
from event_files import read_scalars
from step_wrapping import diverging, pressing_ctrl_c, wrapped_train_step

PAIRS = [("hello", "hi there"), ("how are you", "i am fine thanks"),
         ("what is your name", "my name is bot"), ("good night", "sleep well"),
         ("what time is it", "it is late"), ("do you like tea", "yes i love tea")]
TINY = ["--n-layer", "1", "--n-units", "32", "--emb-dim", "16", "--query-len", "5",
        "--decoder-seq-length", "6", "--batch-size", "2", "--learning-rate", "0.03"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "pairs.tsv"
    path.write_text("".join(f"{q}\t{r}\n" for q, r in PAIRS), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def trained(corpus, tmp_path_factory):
    """A chatbot trained for 15 epochs (45 steps) on the 6 pairs; returns (folder, stdout)."""
    out = str(tmp_path_factory.mktemp("chatbot"))
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        assert chatbot.main(["--corpus", corpus, *TINY, "--epochs", "15", "--output-dir", out,
                             "--sample-every", "5"]) == 0
    return out, stdout.getvalue()


def test_training_halves_the_loss_and_learns_the_replies(trained):
    out, stdout = trained
    losses = json.load(open(f"{out}/config.json"))["losses"]
    assert len(losses) == 15 and losses[-1] <= losses[0] / 2
    assert "Epoch 15/15" in stdout and " - loss: " in stdout
    assert "Query > happy birthday have a nice day" in stdout
    bot = load_chatbot(out)
    learnt = sum(" ".join(bot.reply(q, mode="greedy")[0][0]) == r for q, r in PAIRS)
    assert learnt >= 5, learnt


def test_resume_continues_exactly_where_training_stopped(corpus, tmp_path, trained, capsys):
    out = str(tmp_path)
    chatbot.main(["--corpus", corpus, *TINY, "--epochs", "2", "--output-dir", out, "--sample-every", "0"])
    chatbot.main(["--corpus", corpus, *TINY, "--epochs", "3", "--output-dir", out, "--sample-every", "0",
                  "--resume"])
    assert f"Resumed from {out}: 2 epoch(s) done" in capsys.readouterr().out
    resumed = json.load(open(f"{out}/config.json"))["losses"]
    straight = json.load(open(f"{trained[0]}/config.json"))["losses"][:3]
    # the same seed, batches, weights and Adam state: the same losses, bit for bit
    assert resumed == straight
    with pytest.raises(UsageError, match=r"n_units: saved 32, now 16"):
        chatbot.main(["--corpus", corpus, *TINY, "--n-units", "16", "--epochs", "4", "--output-dir", out,
                      "--resume"])


def test_ctrl_c_mid_epoch_saves_and_resume_continues_exactly(corpus, tmp_path, trained, capsys, monkeypatch):
    out = str(tmp_path)
    with pressing_ctrl_c(monkeypatch, at_call=5), pytest.raises(KeyboardInterrupt):  # 3 steps an epoch:
        chatbot.main(["--corpus", corpus, *TINY, "--epochs", "3", "--output-dir", out,  # epoch 2, step 2
                      "--sample-every", "0"])
    assert f"Stopped by SIGINT: the run is saved in {out} (1 epoch(s) done, 2 step(s) into epoch 2)" \
        in capsys.readouterr().out
    chatbot.main(["--corpus", corpus, *TINY, "--epochs", "3", "--output-dir", out, "--sample-every", "0",
                  "--resume"])
    assert "2 step(s) into epoch 2" in capsys.readouterr().out
    resumed = json.load(open(f"{out}/config.json"))["losses"]
    straight = json.load(open(f"{trained[0]}/config.json"))["losses"][:3]
    assert resumed == straight  # bit for bit


def test_non_finite_loss_stops_naming_epoch_and_step(corpus, tmp_path, monkeypatch):
    with diverging(monkeypatch, at_call=5, value=float("nan")), \
            pytest.raises(DlbookError, match=r"the loss became nan at epoch 2, step 2 of 3: training diverged "
                                             r"\(lower the learning rate.*stays as last saved \(1 epoch"):
        chatbot.main(["--corpus", corpus, *TINY, "--epochs", "3", "--output-dir", str(tmp_path),
                      "--sample-every", "0"])
    assert json.load(open(tmp_path / "config.json"))["losses"] != []  # epoch 1 was saved


def test_tensorboard_gets_the_loss_of_every_epoch(corpus, tmp_path):
    logs = tmp_path / "logs"
    chatbot.main(["--corpus", corpus, *TINY, "--epochs", "2", "--output-dir", str(tmp_path / "run"),
                  "--sample-every", "0", "--tensorboard", str(logs)])
    losses = json.load(open(tmp_path / "run" / "config.json"))["losses"]
    scalars = read_scalars(logs)
    assert sorted(scalars) == [("train", "loss", 1), ("train", "loss", 2)]
    assert [scalars["train", "loss", epoch] for epoch in (1, 2)] == pytest.approx(losses, rel=1e-6)


def test_chat_through_a_pipe(trained):
    out, _ = trained
    queries = "what is your name\n\n?!\nhow are zebras\n"
    result = subprocess.run([sys.executable, "-m", "dlbook", "chat", "--checkpoint", out, "--mode", "greedy"],
                            input=queries, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["Query > what is your name", "> my name is bot"]
    assert lines[2] == "Query > " and "empty query" in lines[3]  # a message, then it goes on
    assert lines[6] == "Query > how are zebras" and lines[7].startswith("> ")  # unknown word -> unk


def test_chat_query_once_with_beam_and_sample(trained, capsys):
    out, _ = trained
    assert chat_command.main(["--checkpoint", out, "--mode", "beam", "--replies", "3",
                              "--query", "good night"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and all(line.startswith("> ") for line in lines)
    assert lines[0].startswith("> sleep well   (log p = ")
    scores = [float(line.rsplit("= ", 1)[1].rstrip(")")) for line in lines]
    assert scores == sorted(scores, reverse=True) and len(set(lines)) == 3
    assert chat_command.main(["--checkpoint", out, "--replies", "4", "--query", "hello", "--seed", "1"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 4


def test_chat_errors_are_one_line(tmp_path, trained, capsys):
    assert cli.main(["chat", "--checkpoint", str(tmp_path / "none")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "config.json not found" in err and "dlbook run 1.10.6" in err
    assert cli.main(["chat", "--checkpoint", trained[0], "--query", "  "]) == 2
    assert "empty query" in capsys.readouterr().err


def test_retrain_into_a_chatbot_folder_never_leaves_one_chat_cannot_load(corpus, tmp_path, trained, monkeypatch,
                                                                        capsys):
    """A retrain with other options (n_units 16 instead of 32) into a trained chatbot's folder: a
    plain retrain is refused; with --overwrite, a failure before the first save leaves the old bot,
    and Ctrl-C in epoch 1 saves the new one whole (config.json, vocab.json and model.h5 at once).
    The old dlbook wrote the new config.json and vocab.json before the first epoch, model.h5 after
    it: Ctrl-C in between left a folder `dlbook chat` could not load."""
    import shutil
    import signal

    folder = tmp_path / "bot"
    shutil.copytree(trained[0], folder, symlinks=True)
    retrain = ["--corpus", corpus, *TINY, "--n-units", "16", "--epochs", "3", "--output-dir", str(folder),
               "--sample-every", "0"]
    assert cli.main(["run", "1.10.6", *retrain]) == 2
    assert "already holds a run of `dlbook run 1.10.6`" in capsys.readouterr().err

    def chat_answers():
        assert cli.main(["chat", "--checkpoint", str(folder), "--mode", "greedy", "--query", "good night"]) == 0
        return capsys.readouterr().out

    for stop, then in ((RuntimeError("killed before the first save"), "sleep well"), (signal.SIGINT, None)):
        def around(n, step, args, stop=stop):  # the first step of the new run
            if isinstance(stop, Exception):
                raise stop
            signal.raise_signal(stop)
            return step(*args)

        with wrapped_train_step(monkeypatch, around), pytest.raises((RuntimeError, KeyboardInterrupt)):
            chatbot.main([*retrain, "--overwrite"])
        capsys.readouterr()
        answer = chat_answers()  # the folder loads: old bot before the first save, the new one after
        config = json.load(open(folder / "config.json"))
        if then:
            assert config["n_units"] == 32 and answer.strip() == f"> {then}"
        else:
            assert config["n_units"] == 16 and answer.startswith("> ")
            assert json.load(open(folder / "run.json"))["step"] == 1
