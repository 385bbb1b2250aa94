"""dlbook.recipes and the options of the 1.10.5 model: each technique changes what it should,
checked against formulas written out here (no long training)."""
import dataclasses
import math

import numpy as np
import pytest

from dlbook import recipes, session, train
from dlbook.compat import tl
from dlbook.data import transforms
from dlbook.errors import UsageError
from dlbook.models import get_model_batchnorm
from dlbook.models.cnn import TRAINABLE_PARAMS_24x24, TRAINABLE_PARAMS_24x24_NO_BATCHNORM
from dlbook.recipes import BOOK, TECHNIQUES, TUNED, Recipe
import tensorflow as tf
from tensorlayer.layers import BatchNorm2d, Conv2d, Dense, Dropout


def _n_params(weights):
    return sum(int(np.prod(w.shape)) for w in weights)


def _images(n=4, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 24, 24, 3)).astype(np.float32)


# -- the recipes ----------------------------------------------------------------------------

def test_book_recipe_is_the_listing():
    assert (BOOK.optimizer, BOOK.learning_rate, BOOK.batch_size) == ("adam", 1e-4, 128)
    assert BOOK.schedule == "constant" and BOOK.weight_decay == 0 and BOOK.dense_keep == 1
    assert BOOK.batch_norm and BOOK.augment and BOOK.early_stopping == 0
    optimizer = recipes.build_optimizer(BOOK, steps_per_epoch=10)
    assert isinstance(optimizer, tf.optimizers.Adam)
    assert recipes.current_learning_rate(optimizer) == pytest.approx(1e-4)
    net = get_model_batchnorm([None, 24, 24, 3], dense_keep=BOOK.dense_keep, batch_norm=BOOK.batch_norm)
    assert _n_params(net.trainable_weights) == TRAINABLE_PARAMS_24x24 == 1_068_426
    assert not any(isinstance(layer, Dropout) for layer in net.all_layers)
    assert recipes.weight_penalty(BOOK, net) is None
    assert recipes.transforms(BOOK) == (transforms.train_transform, transforms.test_transform)


def test_tuned_recipe_uses_the_chapter_techniques():
    optimizer = recipes.build_optimizer(TUNED, steps_per_epoch=10)
    assert isinstance(optimizer, tf.optimizers.SGD) and optimizer.nesterov
    assert optimizer.momentum == TUNED.momentum
    assert TUNED.schedule == "cosine" and TUNED.weight_decay > 0


@pytest.mark.parametrize("technique", sorted(TECHNIQUES))
def test_swap_moves_exactly_one_technique(technique):
    off = recipes.swap(TUNED, technique, BOOK)
    changed = {f.name for f in dataclasses.fields(Recipe) if getattr(off, f.name) != getattr(TUNED, f.name)}
    assert changed <= set(TECHNIQUES[technique])
    assert recipes.swap(off, technique, TUNED) == TUNED
    on = recipes.swap(BOOK, technique, TUNED)
    assert all(getattr(on, f) == getattr(TUNED, f) for f in TECHNIQUES[technique])
    assert all(getattr(on, f.name) == getattr(BOOK, f.name) for f in dataclasses.fields(Recipe)
               if f.name not in TECHNIQUES[technique])


@pytest.mark.parametrize("change", [dict(optimizer="rmsprop"), dict(schedule="step"), dict(learning_rate=0),
                                    dict(dense_keep=0), dict(dense_keep=1.5), dict(weight_decay=-1),
                                    dict(schedule="cosine", warmup_epochs=30, epochs=30), dict(batch_size=0)])
def test_bad_recipe_raises_usage_error(change):
    with pytest.raises(UsageError):
        dataclasses.replace(BOOK, **change)


def test_unknown_technique_raises_usage_error():
    with pytest.raises(UsageError, match="weight_decay"):
        recipes.swap(BOOK, "mixup", TUNED)


# -- learning-rate schedule (1.6.2) ------------------------------------------------------------

def _cosine_with_warmup(step, peak, warmup, total):
    """The schedule written out: linear 0 -> peak over `warmup` steps, then half a cosine to 0."""
    if step < warmup:
        return peak * step / warmup
    progress = min(step - warmup, total - warmup) / (total - warmup)
    return peak * 0.5 * (1 + math.cos(math.pi * progress))


def test_cosine_schedule_with_warmup_matches_the_formula():
    recipe = Recipe(optimizer="sgd", learning_rate=0.05, schedule="cosine", warmup_epochs=2, epochs=10)
    steps_per_epoch = 7
    schedule = recipes.learning_rate(recipe, steps_per_epoch)
    warmup, total = 14, 70
    for step in (0, 1, 7, 13, 14, 15, 30, 42, 69, 70, 100):
        expected = _cosine_with_warmup(step, 0.05, warmup, total)
        assert float(schedule(step)) == pytest.approx(expected, abs=1e-7), step
    assert float(schedule(warmup)) == pytest.approx(0.05)  # the peak right after the warm-up
    assert float(schedule(total)) == pytest.approx(0.0, abs=1e-9)  # and 0 at the end


def test_cosine_schedule_without_warmup_starts_at_the_peak():
    recipe = Recipe(learning_rate=0.01, schedule="cosine", epochs=4)
    schedule = recipes.learning_rate(recipe, steps_per_epoch=5)
    for step in (0, 3, 10, 19, 20):
        assert float(schedule(step)) == pytest.approx(_cosine_with_warmup(step, 0.01, 0, 20), abs=1e-8)


def test_optimizer_steps_along_the_schedule():
    """The optimizer's learning rate after k updates is the schedule at step k."""
    recipe = Recipe(optimizer="sgd", learning_rate=0.1, schedule="cosine", warmup_epochs=1, epochs=3)
    optimizer = recipes.build_optimizer(recipe, steps_per_epoch=4)
    w = tf.Variable([1.0, -2.0])
    seen = []
    for _ in range(12):
        seen.append(recipes.current_learning_rate(optimizer))
        optimizer.apply_gradients([(tf.constant([0.5, 0.5]), w)])
    expected = [_cosine_with_warmup(k, 0.1, 4, 12) for k in range(12)]
    np.testing.assert_allclose(seen, expected, atol=1e-7)


def test_constant_schedule_is_a_float():
    assert recipes.learning_rate(BOOK, steps_per_epoch=100) == 1e-4


# -- weight decay (1.7.2, equation 1.23 with the L2 penalty) ----------------------------------

def test_weight_penalty_is_lambda_times_sum_of_squared_kernels():
    lam = 3e-3
    net = get_model_batchnorm([None, 24, 24, 3])
    penalty = recipes.weight_penalty(Recipe(weight_decay=lam), net)
    # written out independently: the kernels by their layers (conv filters, dense weights),
    # lambda * sum w^2 (no 1/2)
    kernel_layers = [layer for layer in net.all_layers if isinstance(layer, (Conv2d, Dense))]
    assert len(kernel_layers) == 5
    kernel_vars = [layer.all_weights[0] for layer in kernel_layers]
    expected = lam * sum(np.sum(w.numpy().astype(np.float64) ** 2) for w in kernel_vars)
    assert float(penalty()) == pytest.approx(expected, rel=1e-5)
    # biases and BatchNorm beta/gamma are not decayed
    assert {id(w) for w in recipes.kernels(net.trainable_weights)} == {id(w) for w in kernel_vars}


def test_weight_decay_adds_its_penalty_and_the_gradient_2_lambda_w():
    """The decayed loss is the loss plus lambda * sum w^2, and the penalty's gradient is 2 lambda w
    on the kernels and nothing on biases and BatchNorm parameters."""
    lam = 1e-2
    net = get_model_batchnorm([None, 24, 24, 3])
    net.eval()
    penalty = recipes.weight_penalty(Recipe(weight_decay=lam), net)
    X, y = _images(), np.array([0, 1, 2, 3], np.int32)
    loss = float(tl.cost.cross_entropy(net(X), y, name="loss"))
    kernels = [w.numpy().astype(np.float64) for w in net.trainable_weights if len(w.shape) >= 2]
    assert float(tl.cost.cross_entropy(net(X), y, name="loss") + penalty()) == pytest.approx(
        loss + lam * sum(np.sum(k ** 2) for k in kernels), rel=1e-6)
    with tf.GradientTape() as tape:
        value = penalty()
    grads = tape.gradient(value, net.trainable_weights, unconnected_gradients="zero")
    for w, g in zip(net.trainable_weights, grads):
        expected = 2 * lam * w.numpy() if len(w.shape) >= 2 else np.zeros(w.shape)
        np.testing.assert_allclose(g.numpy(), expected, rtol=1e-6, atol=1e-12)


# -- dropout on the dense layers (1.7.3) ---------------------------------------------------------

def test_dense_dropout_follows_each_hidden_dense_layer_and_adds_no_parameters():
    net = get_model_batchnorm([None, 24, 24, 3], dense_keep=0.5)
    drops = [layer for layer in net.all_layers if isinstance(layer, Dropout)]
    assert [d.keep for d in drops] == [0.5, 0.5]
    # each right after a hidden Dense layer (384, then 192 units)
    following = [net.all_layers[net.all_layers.index(d) - 1] for d in drops]
    assert [(type(layer), layer.n_units) for layer in following] == [(Dense, 384), (Dense, 192)]
    assert _n_params(net.trainable_weights) == TRAINABLE_PARAMS_24x24


def test_dense_dropout_changes_training_outputs_not_evaluation_outputs():
    tf.random.set_seed(0)
    plain = get_model_batchnorm([None, 24, 24, 3])
    dropped = get_model_batchnorm([None, 24, 24, 3], dense_keep=0.5)
    for target, source in zip(dropped.all_weights, plain.all_weights):
        target.assign(source)
    X = _images(8)
    plain.eval(), dropped.eval()
    np.testing.assert_allclose(dropped(X).numpy(), plain(X).numpy(), rtol=1e-6, atol=1e-6)
    plain.train(), dropped.train()
    reference = plain(X).numpy()  # batch statistics, no dropout
    first, second = dropped(X).numpy(), dropped(X).numpy()
    assert np.abs(first - reference).max() > 1e-3 and np.abs(first - second).max() > 1e-3
    # without dropout, train mode is deterministic: the difference above is the dropout
    np.testing.assert_allclose(plain(X).numpy(), reference, rtol=1e-6, atol=1e-6)


def test_bad_dense_keep_raises_usage_error():
    with pytest.raises(UsageError, match="keep"):
        get_model_batchnorm([None, 24, 24, 3], dense_keep=0.0)


# -- batch normalization switchable (1.7.4) -----------------------------------------------------

def test_model_without_batchnorm():
    net = get_model_batchnorm([None, 24, 24, 3], batch_norm=False)
    assert not any(isinstance(layer, BatchNorm2d) for layer in net.all_layers)
    convs = [layer for layer in net.all_layers if isinstance(layer, Conv2d)]
    for conv, in_channels in zip(convs, (3, 64), strict=True):
        assert [tuple(w.shape) for w in conv.all_weights] == [(5, 5, in_channels, 64), (64,)]
        assert conv.act is tf.nn.relu
    # the printed count, less beta and gamma of two 64-channel BatchNorm layers, plus two conv biases
    assert _n_params(net.trainable_weights) == TRAINABLE_PARAMS_24x24 - 2 * 2 * 64 + 2 * 64
    assert TRAINABLE_PARAMS_24x24_NO_BATCHNORM == 1_068_298
    assert _n_params(net.all_weights) == TRAINABLE_PARAMS_24x24_NO_BATCHNORM  # no moving statistics
    net.eval()
    assert net(_images(2)).shape == (2, 10)


def test_recipe_switches_batchnorm_and_augmentation():
    recipe = Recipe(batch_norm=False, augment=False)
    net = get_model_batchnorm([None, 24, 24, 3], dense_keep=recipe.dense_keep, batch_norm=recipe.batch_norm)
    assert not any(isinstance(layer, BatchNorm2d) for layer in net.all_layers)
    assert recipes.transforms(recipe) == (transforms.test_transform, transforms.test_transform)


# -- early stopping with the best weights restored (1.7.5) ----------------------------------------

def _stopper(net, patience):
    """The 1.10.5 early stopping (dlbook.train's hook on val_acc) in a run that saves nothing."""
    return train.EarlyStopping(session.open(None), net, patience=patience, monitor="val_acc", mode="max")


def test_early_stopping_stops_after_patience_and_restores_the_best_weights():
    net = get_model_batchnorm([None, 24, 24, 3])
    stopper = _stopper(net, Recipe(early_stopping=2).early_stopping)
    snapshots, stopped_after = [], None
    for epoch, val_acc in enumerate([0.30, 0.50, 0.45, 0.49, 0.60]):
        for k, w in enumerate(net.all_weights):  # "training": every weight changes each epoch
            w.assign(tf.fill(w.shape, float(epoch * 100 + k)))
        snapshots.append([w.numpy().copy() for w in net.all_weights])
        if stopper.end_epoch(epoch, {"val_acc": val_acc}):
            stopped_after = epoch
            break
    assert stopped_after == 3  # two epochs without beating 0.50
    assert stopper.restore() == 2  # epoch 2 (1-based): the second
    for w, best in zip(net.all_weights, snapshots[1]):  # moving statistics included
        np.testing.assert_array_equal(w.numpy(), best)


def test_early_stopping_restores_the_best_epoch_when_training_runs_to_the_end():
    net = get_model_batchnorm([None, 24, 24, 3])
    stopper = _stopper(net, 5)
    for epoch, val_acc in enumerate([0.2, 0.7, 0.6]):
        for w in net.all_weights:
            w.assign(tf.fill(w.shape, float(epoch)))
        assert not stopper.end_epoch(epoch, {"val_acc": val_acc})
    stopper.restore()
    assert all(np.all(w.numpy() == 1.0) for w in net.all_weights)
