"""dlbook.train.fit / test / predict on tiny synthetic data (small MLPs, never MNIST)."""
import importlib
import os
import signal

import numpy as np
import pytest

from dlbook.files.checkpoints import load_checkpoint
from dlbook.compat import tl
from dlbook.errors import DataError, DlbookError, ShapeError, UsageError
from dlbook.metrics import accuracy
from dlbook.train import fit, predict, test

import tensorflow as tf  # noqa: E402  (after dlbook.compat)

RNG = np.random.default_rng(0)
X = RNG.normal(size=(23, 4)).astype(np.float32)
Y = ((X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 0)).astype(np.int64)  # 3 classes
CE = tl.cost.cross_entropy


def mlp(dropout=False, hidden=8):
    ni = tl.layers.Input([None, 4])
    nn = tl.layers.Dropout(keep=0.5)(ni) if dropout else ni
    nn = tl.layers.Dense(hidden, act=tf.nn.relu)(nn)
    return tl.models.Model(inputs=ni, outputs=tl.layers.Dense(3)(nn))


class DynamicMLP(tl.models.Model):
    def __init__(self):
        super().__init__()
        self.hidden = tl.layers.Dense(8, act=tf.nn.relu, in_channels=4)
        self.out = tl.layers.Dense(3, in_channels=8)

    def forward(self, x):
        return self.out(self.hidden(x))


def weights_of(model):
    return [w.numpy() for w in model.all_weights]


def copy_weights(source, target):
    for s, t in zip(source.all_weights, target.all_weights):
        t.assign(s)


def numpy_forward(model, x):
    """Oracle for the dropout-free mlp(): relu(x W1 + b1) W2 + b2 in float64 NumPy."""
    w1, b1, w2, b2 = (w.astype(np.float64) for w in weights_of(model))
    return np.maximum(x @ w1 + b1, 0) @ w2 + b2


def numpy_ce(logits, y):
    """Oracle: mean sparse softmax cross-entropy in float64."""
    shifted = logits - logits.max(1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    return float(-log_p[np.arange(len(y)), y].mean())


def test_partial_last_batch_is_trained_on_and_weighted_exactly():
    model = mlp()
    optimizer = tf.optimizers.SGD(learning_rate=0.0)  # weights stay put: loss is a fixed function
    history = fit(model, optimizer, CE, X, Y, acc=accuracy, batch_size=10, n_epoch=2, verbose=0)
    assert int(optimizer.iterations) == 2 * 3  # 23 rows, batch 10 -> 10 + 10 + 3
    logits = numpy_forward(model, X)
    # Mean over ALL 23 rows (batch means weighted by batch size); float32 steps vs float64 oracle.
    assert history["loss"][0] == pytest.approx(numpy_ce(logits, Y), rel=1e-5)
    assert history["acc"][1] == pytest.approx(np.mean(logits.argmax(1) == Y), abs=1e-6)


def test_sets_smaller_than_a_batch_and_history_keys():
    model = mlp()
    optimizer = tf.optimizers.Adam(0.01)
    history = fit(model, optimizer, CE, X[:5], Y[:5], acc=accuracy, batch_size=100, n_epoch=3,
                  X_val=X[5:8], y_val=Y[5:8], eval_train=False, verbose=0)
    assert int(optimizer.iterations) == 3
    assert sorted(history) == ["acc", "loss", "time", "val_acc", "val_loss"]
    assert all(len(values) == 3 for values in history.values())
    logits = numpy_forward(model, X[5:8])
    assert history["val_loss"][-1] == pytest.approx(numpy_ce(logits, Y[5:8]), rel=1e-5)
    no_acc = fit(mlp(), tf.optimizers.Adam(), CE, X, Y, batch_size=8, n_epoch=1, verbose=0)
    assert sorted(no_acc) == ["loss", "time"]


def test_second_fit_in_one_process_new_model_and_optimizer(capsys):
    for make in (mlp, DynamicMLP, mlp):  # TL's fit fails on the second call (notes item 8)
        model = make()
        before = weights_of(model)
        history = fit(model, tf.optimizers.Adam(0.05), CE, X, Y, acc=accuracy, batch_size=8, n_epoch=2,
                      print_freq=1, verbose=2)
        assert history["loss"][1] < history["loss"][0]
        assert not np.array_equal(before[0], weights_of(model)[0])
    out = capsys.readouterr().out
    assert out.count("Epoch 2/2") == 3 and "loss:" in out and "acc:" in out


def test_float64_inputs_are_cast_with_one_warning_and_uint8_labels_work():
    model = mlp()
    with pytest.warns(UserWarning, match="X_train is float64: cast to float32") as warned:
        history = fit(model, tf.optimizers.Adam(), CE, X.astype(np.float64), Y.astype(np.uint8),
                      batch_size=8, n_epoch=1, verbose=0)
    assert len([w for w in warned if "X_train" in str(w.message)]) == 1
    assert np.isfinite(history["loss"][0])


def test_bad_data_raises_errors_naming_the_array():
    model = mlp()
    optimizer = tf.optimizers.Adam()
    with pytest.raises(ShapeError, match="X_train has 23 examples but y_train has 20"):
        fit(model, optimizer, CE, X, Y[:20], n_epoch=1, verbose=0)
    with pytest.raises(ShapeError, match=r"X_train has shape \(23, 5\).*Input expects \(None, 4\)"):
        fit(model, optimizer, CE, np.ones((23, 5), np.float32), Y, n_epoch=1, verbose=0)
    with pytest.raises(ShapeError, match=r"X_val \(shape \(3, 5\).*does not fit the model"):
        fit(DynamicMLP(), optimizer, CE, X, Y, X_val=np.ones((3, 5), np.float32), y_val=Y[:3],
            n_epoch=1, verbose=0)
    with pytest.raises(DataError, match="y_train has labels from 0 to 3.*outputs 3 classes"):
        fit(model, optimizer, CE, X, np.where(Y == 2, 3, Y), n_epoch=1, verbose=0)
    with pytest.raises(UsageError, match="early_stopping.*X_val"):
        fit(model, optimizer, CE, X, Y, early_stopping=2, verbose=0)


def test_predict_returns_all_rows_in_eval_mode_and_test_returns_accuracy(capsys):
    model = mlp(dropout=True)
    outputs = predict(model, X, batch_size=10)  # 10 + 10 + 3 rows
    assert outputs.shape == (23, 3)
    dense_only = mlp()
    copy_weights(model, dense_only)  # same Dense weights: eval-mode dropout is the identity
    np.testing.assert_allclose(outputs, numpy_forward(dense_only, X), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(predict(model, X), outputs)
    value = test(model, accuracy, X, Y, batch_size=10, cost=CE)
    assert value == pytest.approx(np.mean(outputs.argmax(1) == Y), abs=1e-6)
    out = capsys.readouterr().out
    assert "test loss:" in out and "test acc:" in out


def test_resume_is_bit_identical_to_an_uninterrupted_run(tmp_path):
    """2 epochs in one go == 1 epoch, then a fresh model + optimizer resuming for epoch 2 (dropout on)."""
    straight, first_half = mlp(dropout=True), mlp(dropout=True)
    copy_weights(straight, first_half)
    args = dict(acc=accuracy, batch_size=8, seed=3, verbose=0)
    fit(straight, tf.optimizers.Adam(0.01), CE, X, Y, n_epoch=2, **args)
    fit(first_half, tf.optimizers.Adam(0.01), CE, X, Y, n_epoch=1, checkpoint_dir=tmp_path, **args)
    resumed = mlp(dropout=True)  # another init, as in a new process: everything comes from the file
    history = fit(resumed, tf.optimizers.Adam(0.01), CE, X, Y, n_epoch=2, checkpoint_dir=tmp_path, **args)
    assert len(history["loss"]) == 2
    for a, b in zip(weights_of(straight), weights_of(resumed)):
        np.testing.assert_array_equal(a, b)


def test_ctrl_c_saves_a_checkpoint_mid_epoch_and_the_run_resumes_exactly(tmp_path, capsys):
    calls = []

    def acc_that_presses_ctrl_c(logits, y):  # NumPy-only metric: runs once per step
        if isinstance(logits, np.ndarray):  # not fit's try with symbolic tensors
            calls.append(1)
        if len(calls) == 4:  # epoch 2, step 1 (3 steps per epoch)
            signal.raise_signal(signal.SIGINT)
        return np.mean(np.argmax(logits, 1) == y)

    straight, interrupted = mlp(dropout=True), mlp(dropout=True)  # dropout: its masks must be redrawn too
    copy_weights(straight, interrupted)
    args = dict(batch_size=8, n_epoch=3, seed=5, verbose=0)
    fit(straight, tf.optimizers.Adam(0.01), CE, X, Y, acc=accuracy, **args)
    with pytest.raises(KeyboardInterrupt):
        fit(interrupted, tf.optimizers.Adam(0.01), CE, X, Y, acc=acc_that_presses_ctrl_c,
            checkpoint_dir=tmp_path, **args)
    assert "run the same training again to resume" in capsys.readouterr().out
    state = load_checkpoint(tmp_path, mlp(dropout=True), tf.optimizers.Adam(0.01))
    # pressed in epoch 2's step 1: the run is saved after the compiled call under way, which runs
    # both full batches of the epoch (fit's PER_CALL steps a call); the partial third is left
    assert (state["epoch"], state["step"]) == (1, 2)
    resumed = mlp(dropout=True)
    history = fit(resumed, tf.optimizers.Adam(0.01), CE, X, Y, acc=accuracy, checkpoint_dir=tmp_path, **args)
    assert len(history["loss"]) == 3
    for a, b in zip(weights_of(straight), weights_of(resumed)):
        np.testing.assert_array_equal(a, b)


def test_steps_run_several_to_a_call_train_exactly_as_one_to_a_call(monkeypatch):
    """fit's loop in the graph (PER_CALL steps a call) changes nothing but speed: the same weights,
    bit for bit, and the same per-epoch history as one step per call (dropout on, partial batch)."""
    fit_module = importlib.import_module("dlbook.train.fit")  # the module (the package exports the function)
    models = mlp(dropout=True), mlp(dropout=True)
    copy_weights(*models)
    runs = []
    for model, per_call in zip(models, (1, 2)):
        monkeypatch.setattr(fit_module, "PER_CALL", per_call)
        X6, Y6 = np.concatenate([X, X, X]), np.concatenate([Y, Y, Y])  # 69: 8 full batches of 8, then 5
        runs.append(fit(model, tf.optimizers.Adam(0.01), CE, X6, Y6, acc=accuracy, batch_size=8, n_epoch=2,
                        seed=7, verbose=0))
        assert model.__dict__["_dlbook_compiled"].popitem()[1][0].per_call == per_call
    assert runs[0]["loss"] == runs[1]["loss"] and runs[0]["acc"] == runs[1]["acc"]
    for a, b in zip(*map(weights_of, models)):
        np.testing.assert_array_equal(a, b)


def test_seeded_fit_with_dropout_traces_its_step_once():
    """Exact resume costs nothing: the masks come from (seed, epoch, step) given to ONE compiled
    step, not from re-tracing it every epoch (which made the seeded fit 28% slower)."""
    model, optimizer = mlp(dropout=True), tf.optimizers.Adam(0.01)
    first = fit(model, optimizer, CE, X, Y, batch_size=8, n_epoch=4, seed=3, verbose=0)
    fit(model, optimizer, CE, X, Y, batch_size=8, n_epoch=2, seed=4, verbose=0)  # another fit, same step
    steps = [train.function for train, _ in model.__dict__["_dlbook_compiled"].values()]
    assert len(steps) == 1 and steps[0].experimental_get_tracing_count() == 1
    # the seed decides the masks: the same seed on the same start gives the same run
    a, b = mlp(dropout=True), mlp(dropout=True)
    copy_weights(a, b)
    runs = [fit(m, tf.optimizers.Adam(0.01), CE, X, Y, batch_size=8, n_epoch=2, seed=3, verbose=0) for m in (a, b)]
    assert runs[0]["loss"] == runs[1]["loss"] and len(first["loss"]) == 4
    for x, y in zip(weights_of(a), weights_of(b)):
        np.testing.assert_array_equal(x, y)


def test_early_stopping_restores_the_best_weights_also_after_a_resume(tmp_path):
    # Validation labels contradict the training labels: val_loss soon rises.
    args = dict(batch_size=8, seed=1, verbose=0, shuffle=False)
    val_labels = (Y + 1) % 3
    model, reference = mlp(), mlp()
    copy_weights(model, reference)
    history = fit(model, tf.optimizers.Adam(0.05), CE, X, Y, n_epoch=10, X_val=X, y_val=val_labels,
                  early_stopping=2, checkpoint_dir=tmp_path, **args)
    best_epoch = int(np.argmin(history["val_loss"]))
    assert len(history["val_loss"]) == best_epoch + 3  # stopped after 2 epochs without improvement
    fit(reference, tf.optimizers.Adam(0.05), CE, X, Y, n_epoch=best_epoch + 1, **args)
    for a, b in zip(weights_of(reference), weights_of(model)):
        np.testing.assert_array_equal(a, b)
    # Running the same call again: already stopped, no more epochs, best weights from best.h5.
    rerun = mlp()
    again = fit(rerun, tf.optimizers.Adam(0.05), CE, X, Y, n_epoch=10, X_val=X, y_val=val_labels,
                early_stopping=2, checkpoint_dir=tmp_path, **args)
    assert again == history
    for a, b in zip(weights_of(reference), weights_of(rerun)):
        np.testing.assert_array_equal(a, b)


def test_nan_loss_names_epoch_and_step_and_keeps_the_checkpoint(tmp_path):
    steps = tf.Variable(0)

    def cost_that_turns_nan(logits, y):  # NaN from the 5th step on: epoch 2, step 2
        steps.assign_add(1)
        return CE(logits, y) + tf.where(steps >= 5, np.nan, 0.0)

    with pytest.raises(DlbookError, match=f"nan at epoch 2, step 2 of 3.*the run in {tmp_path} stays as "
                                          r"last saved \(1 epoch\(s\) done\)"):
        fit(mlp(), tf.optimizers.Adam(), cost_that_turns_nan, X, Y, batch_size=8, n_epoch=3,
            checkpoint_dir=tmp_path, verbose=0)
    restored = mlp()
    state = load_checkpoint(tmp_path, restored, tf.optimizers.Adam())
    assert (state["epoch"], state["step"]) == (1, 0)
    assert all(np.isfinite(w).all() for w in weights_of(restored))
    assert len(os.listdir(tmp_path / "snapshots")) == 1  # one snapshot, no half-written one beside it


def test_tensorboard_dir_gets_the_history_as_scalars(tmp_path):
    history = fit(mlp(), tf.optimizers.Adam(), CE, X, Y, acc=accuracy, batch_size=8, n_epoch=2,
                  X_val=X[:6], y_val=Y[:6], eval_train=False, tensorboard_dir=str(tmp_path), verbose=0)
    scalars = {}
    for split in ("train", "validation"):
        (events,) = (tmp_path / split).glob("events.out.tfevents.*")
        for record in tf.compat.v1.train.summary_iterator(str(events)):
            for value in record.summary.value:
                if value.tag in ("loss", "acc"):
                    scalars[split, value.tag, record.step] = float(tf.make_ndarray(value.tensor))
    assert scalars["train", "loss", 2] == pytest.approx(history["loss"][1], rel=1e-6)
    assert scalars["validation", "acc", 1] == pytest.approx(history["val_acc"][0], rel=1e-6)


def test_integer_token_ids_into_an_embedding_model_are_accepted():
    """Integer X is refused only when the model cannot take it (raw pixel bytes into Dense)."""
    ni = tl.layers.Input([None, 5], dtype=tf.int32)
    nn = tl.layers.Embedding(vocabulary_size=20, embedding_size=4)(ni)
    nn = tl.layers.Flatten()(nn)
    nn = tl.layers.Dense(n_units=3, in_channels=20)(nn)
    model = tl.models.Model(inputs=ni, outputs=nn)
    ids = np.random.default_rng(0).integers(0, 20, (40, 5)).astype(np.int32)
    labels = (ids[:, 0] % 3).astype(np.int64)
    history = fit(model, tf.optimizers.Adam(0.01), tl.cost.cross_entropy, ids, labels,
                  batch_size=16, n_epoch=2, verbose=0)
    assert len(history["loss"]) == 2 and all(np.isfinite(history["loss"]))


def test_fit_with_a_strategy_resumes_exactly_too(tmp_path):
    """The data-parallel path (one compiled call per batch) gets the same (seed, epoch, step)
    dropout seeds: 1 epoch + resume == 2 epochs, bit for bit (one-device MirroredStrategy)."""
    from dlbook import distribute

    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    args = dict(batch_size=8, seed=2, verbose=0, strategy=strategy)

    def new_model():
        with distribute.scope(strategy):
            return mlp(dropout=True), tf.optimizers.Adam(0.01)

    straight, optimizer = new_model()
    initial = weights_of(straight)
    fit(straight, optimizer, CE, X, Y, n_epoch=2, **args)
    first, optimizer = new_model()
    for var, value in zip(first.all_weights, initial):
        var.assign(value)
    fit(first, optimizer, CE, X, Y, n_epoch=1, checkpoint_dir=tmp_path, **args)
    resumed, optimizer = new_model()  # everything comes from the run directory
    fit(resumed, optimizer, CE, X, Y, n_epoch=2, checkpoint_dir=tmp_path, **args)
    for a, b in zip(weights_of(straight), weights_of(resumed)):
        np.testing.assert_array_equal(a, b)
