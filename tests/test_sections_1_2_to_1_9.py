"""The section modules 1.2–1.9 run, exit 0, and print numbers that agree with dlbook.nn and
with TensorFlow (parsed from their output, not hard-coded)."""
import importlib
import re
import subprocess
import sys

import numpy as np
import pytest

from dlbook import cli
from dlbook.errors import UsageError
from dlbook.nn import backprop, logic_gates, regularization, rnn

MODULES = {s: m for s, m, _ in cli.SECTIONS if s in {"1.2", "1.3", "1.4", "1.5", "1.6", "1.7", "1.8", "1.9"}}


def run(section, capsys, *argv):
    module = importlib.import_module(f"chapters.ch01.{MODULES[section]}")
    assert module.main(list(argv)) == 0
    return capsys.readouterr().out


def floats(pattern, text):
    """Every number the pattern's groups capture, in order."""
    return [float(v) for match in re.findall(pattern, text)
            for v in (match if isinstance(match, tuple) else (match,))]


def test_every_section_module_is_registered_and_documented():
    assert len(MODULES) == 8
    for section, name in MODULES.items():
        module = importlib.import_module(f"chapters.ch01.{name}")
        assert module.__doc__.lstrip().startswith(f"Title: {section} ")
        assert "Prints" in module.__doc__ and cli.is_implemented(section)


def test_1_2_perceptron(capsys):
    out = run("1.2", capsys)
    assert "training accuracy 100%" in out
    assert re.search(r"mistakes per epoch \[[\d, ]*, 0\]", out)
    assert "crosses (1, 0) and (0, 0.5)" in out and "[2.  1.  0.5]" in out
    # (1.4) by hand: z_1 = 1*2 + 2*(-1) + (-1)*0.5 + 0.5 = 0, z_2 = 0.5*2 + 1 + 1.5 - 1 = 2.5
    assert "(1.5) z = Wx + b for x = [2.0, -1.0, 0.5]: [0.0, 2.5]" in out
    # (1.3): 1 only for z > 0, so z = 0 gives 0
    assert "(1.3) y = 1 if z > 0, 0 if z <= 0: y = [0, 1]" in out
    assert "on z = [-1, 0, 1]: [0, 0, 1]" in out


def test_1_3_logic_gates(capsys):
    out = run("1.3", capsys, "--epochs", "2000")
    assert out.count("(correct,") == 4 and "WRONG" not in out
    assert out.count("sum_i s_i [x_i; 1] = [0.0, 0.0, 0.0]") == 2 and "gets 75%" in out
    assert "rounded [0, 1, 1, 0]" in out
    outputs = logic_gates.learn_xor(epochs=2000).params
    assert str(np.round(backprop.predict(outputs, logic_gates.INPUTS)[:, 0], 3).tolist()) in out


def test_1_4_activations(capsys):
    out = run("1.4", capsys)
    for name in ("sigmoid", "tanh", "relu"):
        value, derivative = floats(rf"{name}: value (\S+), derivative (\S+)", out)[:2]
        assert value < 1e-12 and derivative < 1e-12
    assert "as written [nan nan nan]" in out and "0.6652" in out
    ours, tape = floats(r"d alpha = (\S+) \(tape: (\S+)\)", out)
    assert ours == tape


def test_1_5_losses(capsys):
    out = run("1.5", capsys)
    for line in re.findall(r"from probabilities.*", out)[:2]:
        values = floats(r"(?:probabilities|logits|tf\.nn|cross_entropy) (\d+\.\d+)", line)
        assert len(values) >= 3 and max(values) - min(values) < 1e-5
    assert "from probabilities inf, from logits 2000, tf.nn 2000" in out
    mse, keras = floats(r"MSE (\S+) \(Keras (\S+),", out)
    assert mse == keras == 0.625
    # (1.18) as printed, no root and a sum: x = y - y_hat = [-0.5, 1, 1, -0.5] by hand gives
    # 0.5 + 1 + 1 + 0.5 = 3, 0.25 + 1 + 1 + 0.25 = 2.5, 0.125 + 1 + 1 + 0.125 = 2.25
    lp = floats(r"\(1\.18\) L_\d = .* = (\S+) \(tf\.norm\(x, ord=\d\)\*\*\d (\S+)\)", out)
    assert lp == [3.0, 3.0, 2.5, 2.5, 2.25, 2.25]


def test_1_6_optimization(capsys):
    out = run("1.6", capsys)
    assert floats(r"GradientTape\| = (\S+)", out)[0] < 1e-12
    assert floats(r"largest difference (\S+)", out)[0] < 1e-10
    paper, keras, book = floats(
        r"paper (\S+) lr, Keras (\S+) lr, the book's sqrt\(v_hat \+ eps\) (\S+) lr", out)
    assert paper == 0.9999 and abs(keras - paper) < 0.01 and book == 0.7071
    diverging = floats(r"lr = 1.05\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)", out)
    assert abs(diverging[-1]) > abs(diverging[0])
    assert floats(r"training accuracy (\S+)%", out)[0] > 95


def test_1_7_regularization(capsys):
    out = run("1.7", capsys, "--patience", "100")
    X, y, _ = regularization.sparse_regression_data(n_features=20, n_informative=3, seed=0)
    zeros = int(np.sum(regularization.fit_weight_decay(X, y, "l1", 0.1) == 0))
    assert f"L1: {zeros} weights exactly 0" in out and "L2: 0 weights exactly 0" in out and zeros >= 15
    es = regularization.early_stopping_run(patience=100)
    assert f"lowest at epoch {es.best_epoch} " in out and f"stopped at epoch {es.stopped_epoch} " in out
    assert "unit L1 ball at (1.000, 0.000)" in out


def test_1_8_cnn(capsys):
    out = run("1.8", capsys)
    rows = re.findall(r"^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$", out, re.M)
    assert len(rows) == 8 and all(r[4] == r[5] for r in rows)
    ours, theirs = re.search(r"output \(by hand\): (\S.*\]), tf.nn.conv2d: (\S.*\])", out).groups()
    assert ours == theirs
    assert "max pooling: [[6.0, 8.0], [3.0, 4.0]]" in out and "has 456 parameters" in out


def test_1_9_rnn(capsys):
    out = run("1.9", capsys)
    diffs = floats(r"largest difference (\S+)\)", out)
    assert len(diffs) == 4 and max(diffs) < 1e-12
    # the forms as printed: (1.25) linear with x_t first, (1.26) on [h_{t-1}; x_t]
    assert "(1.25): h_t = W[x_t; h_{t-1}] + b   (as printed: linear)" in out
    assert "tanh: h_t = tanh(W[x_t; h_{t-1}] + b)" in out
    assert "LSTM (1.26): f_t, i_t, o_t = sigma(W_g[h_{t-1}; x_t] + b_g)" in out
    params = rnn.init_simple_cell(4, 3, seed=0)
    xs = np.random.default_rng(0).normal(size=(6, 3))
    h = np.zeros(4)
    for x in xs:   # (1.25) by hand
        h = params["W"][:, :3] @ x + params["W"][:, 3:] @ h + params["b"]
    assert floats(r"\(1\.25\).*\n\s+by hand: \[(\S+),", out)[0] == pytest.approx(h[0], abs=1e-6)
    row = floats(r"linear, lambda 1.2:\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)", out)
    assert row[-1] == pytest.approx(1.2 ** 50, rel=1e-3)
    W = rnn.recurrent_matrix(4, 0.8, seed=0)
    assert floats(r"linear, lambda 0.8:\s+(\S+)\s+(\S+)", out)[1] == pytest.approx(
        rnn.gradient_through_time(W, 10, np.full(4, 0.1))[0][-1], rel=1e-3)


def test_bad_option_is_a_usage_error():
    module = importlib.import_module("chapters.ch01.s1_03_logic_gates")
    with pytest.raises(UsageError, match="--epochs"):
        module.main(["--epochs", "0"])


def test_runs_as_a_module_and_through_the_cli():
    as_module = subprocess.run([sys.executable, "-m", "chapters.ch01.s1_02_perceptron"],
                               capture_output=True, text=True)
    assert as_module.returncode == 0 and "training accuracy 100%" in as_module.stdout
    bad = subprocess.run([sys.executable, "-m", "dlbook", "run", "1.2", "--seed", "x"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "--seed" in bad.stderr
