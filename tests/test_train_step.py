"""dlbook.train's pieces on tiny data: the step against a hand-written GradientTape step, its
dropout key, the evaluation loop, the epoch loop's resume, early stopping and TensorBoard."""
import numpy as np
import pytest

from dlbook import session
from dlbook.compat import tl
from dlbook.metrics import accuracy
from dlbook.train import (POSITION, EarlyStopping, TensorBoard, eval_step, evaluate, position,
                          train_epochs, train_step)
from dlbook.train.batches import Batches
import tensorflow as tf

RNG = np.random.default_rng(0)
X = RNG.normal(size=(10, 4)).astype(np.float32)
Y = (X[:, 0] > 0).astype(np.int64)
CE = tl.cost.cross_entropy
SIGNATURE = [tf.TensorSpec([None, 4], tf.float32), tf.TensorSpec([None], tf.int64), POSITION]


def mlp(dropout=False, source=None):
    ni = tl.layers.Input([None, 4])
    nn = tl.layers.Dropout(keep=0.5)(ni) if dropout else ni
    model = tl.models.Model(inputs=ni, outputs=tl.layers.Dense(2)(tl.layers.Dense(8, act=tf.nn.relu)(nn)))
    for w, v in zip(model.all_weights, source.all_weights if source else ()):
        w.assign(v)
    return model


def weights(model):
    return [w.numpy() for w in model.all_weights]


def test_the_step_is_listing_1_2_written_out():
    """Oracle: one hand-written SGD step on cross-entropy + an L2 penalty (the book's listing)."""
    reference = mlp()
    built, initial = mlp(source=reference), weights(reference)
    l2 = lambda model: lambda: 1e-2 * tf.add_n([tf.nn.l2_loss(w) for w in model.trainable_weights])  # noqa: E731
    reference.train()
    with tf.GradientTape() as tape:
        logits = reference(X)
        loss = CE(logits, Y)
        objective = loss + l2(reference)()
    grads = tape.gradient(objective, reference.trainable_weights)
    tf.optimizers.SGD(0.5).apply_gradients(zip(grads, reference.trainable_weights))

    step = train_step(built, tf.optimizers.SGD(0.5), CE, metric=accuracy, penalty=l2(built), signature=SIGNATURE)
    out = step(X, Y, position(0, 0, 0))
    assert float(out["loss"]) == pytest.approx(float(loss), rel=1e-6)  # the loss before the update
    assert float(out["acc"]) == pytest.approx(np.mean(np.argmax(logits, 1) == Y))
    for a, b in zip(weights(reference), weights(built)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert all(np.abs(a - b).max() > 1e-4 for a, b in zip(initial, weights(built)))  # the step did move them


def test_dropout_masks_are_keyed_by_seed_epoch_step_without_retracing():
    start = mlp(dropout=True)
    results = {}
    for key in [(1, 0, 0), (1, 0, 0), (1, 0, 1), (1, 1, 0), (2, 0, 0)]:
        model = mlp(dropout=True, source=start)
        step = train_step(model, tf.optimizers.SGD(0.1), CE, signature=SIGNATURE)
        step(X, Y, position(*key))
        results.setdefault(key, []).append(weights(model)[0])
    np.testing.assert_array_equal(*results[1, 0, 0])  # the same key: the same masks, the same update
    others = [results[k][0] for k in [(1, 0, 1), (1, 1, 0), (2, 0, 0)]]
    assert all(not np.array_equal(results[1, 0, 0][0], other) for other in others)
    model = mlp(dropout=True, source=start)
    step = train_step(model, tf.optimizers.SGD(0.1), CE, signature=SIGNATURE)
    for s in range(4):
        step(X, Y, position(3, 2, s))
    assert step.function.experimental_get_tracing_count() == 1
    expected = tf.random.experimental.stateless_fold_in(tf.constant([3, 2], tf.int64), tf.constant(5, tf.int64))
    from dlbook.train.step import dropout_key
    np.testing.assert_array_equal(dropout_key(position(3, 2, 5)), expected)


def test_evaluation_means_are_weighted_by_batch_size():
    model = mlp()
    out = evaluate(eval_step(model, CE, accuracy), Batches(X, Y, 4), prefix="val_")  # 4 + 4 + 2
    model.eval()
    logits = model(X).numpy()
    assert out["val_acc"] == pytest.approx(np.mean(np.argmax(logits, 1) == Y))
    assert out["val_loss"] == pytest.approx(float(CE(logits, Y)), rel=1e-6)


def _train(directory, n_epoch, model, hooks=lambda run, model: ()):
    run = session.open(directory, resume="auto")
    optimizer = tf.optimizers.Adam(0.05)
    run.restore(model, optimizer, verbose=False)
    step = train_step(model, optimizer, CE, metric=accuracy, signature=SIGNATURE)
    val = eval_step(model, CE, accuracy)
    return train_epochs(run, step, Batches(X, Y, 3, shuffle=True, seed=7), n_epoch, seed=7, verbose=0,
                        evaluation=lambda: evaluate(val, Batches(X, (Y + 1) % 2, 5), prefix="val_"),
                        hooks=hooks(run, model)), run


def test_the_loop_resumes_bit_exactly(tmp_path):
    start = mlp(dropout=True)
    straight, first = mlp(dropout=True, source=start), mlp(dropout=True, source=start)
    _train(None, 3, straight)
    _train(tmp_path, 2, first)
    resumed = mlp(dropout=True)
    history, _ = _train(tmp_path, 3, resumed)
    assert len(history["loss"]) == 3
    for a, b in zip(weights(straight), weights(resumed)):
        np.testing.assert_array_equal(a, b)


def test_early_stopping_keeps_the_best_weights_across_a_resume(tmp_path):
    """Validation labels contradict the training ones: val_acc falls; patience 1 stops the run,
    and the weights restored are those of a run trained to the best epoch only."""
    stoppers = []

    def hooks(run, model):
        stoppers.append(EarlyStopping(run, model, patience=1, monitor="val_acc", mode="max"))
        return stoppers[-1:]

    start = mlp()
    model = mlp(source=start)
    history, run = _train(tmp_path, 20, model, hooks)
    best = int(np.argmax(history["val_acc"]))
    assert len(history["val_acc"]) == best + 2 < 20  # one epoch without a better accuracy
    assert run.state["early_stopping"]["best_epoch"] == best and (tmp_path / "current" / "best.h5").is_file()
    assert stoppers[-1].restore() == best + 1
    reference = mlp(source=start)
    _train(None, best + 1, reference)
    for a, b in zip(weights(reference), weights(model)):
        np.testing.assert_array_equal(a, b)
    again = mlp()
    _, run = _train(tmp_path, 20, again, hooks)  # stopped: no epoch more; the best weights from best.h5
    assert run.epoch == best + 2 and stoppers[-1].restore() == best + 1
    for a, b in zip(weights(reference), weights(again)):
        np.testing.assert_array_equal(a, b)


def test_tensorboard_scalars_per_epoch_read_back(tmp_path):
    model = mlp()
    history, _ = _train(None, 2, model, lambda run, model: [TensorBoard(str(tmp_path))])
    scalars = {}
    for split in ("train", "validation"):
        (events,) = (tmp_path / split).glob("events.out.tfevents.*")
        for record in tf.compat.v1.train.summary_iterator(str(events)):
            for value in record.summary.value:
                scalars[split, value.tag, record.step] = float(tf.make_ndarray(value.tensor))
    for epoch in (1, 2):
        assert scalars["train", "loss", epoch] == pytest.approx(history["loss"][epoch - 1], rel=1e-6)
        assert scalars["validation", "acc", epoch] == pytest.approx(history["val_acc"][epoch - 1], rel=1e-6)
