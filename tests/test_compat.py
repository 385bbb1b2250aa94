"""dlbook.compat: each TensorLayer fix works, and each bug comes back when its fix is switched off.

The "without the fix" half runs in ONE subprocess (TensorFlow's import costs seconds) with every
fix disabled through ``DLBOOK_COMPAT_DISABLE``; it runs each broken scenario and reports the error.
"""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from dlbook import compat
from dlbook.compat import FIX_NAMES, sample_top_n, tl
from dlbook.errors import UsageError
import tensorflow as tf

# Each scenario runs with every fix off; the Seq2seq one needs fix_rnn_forward back on first.
_UNFIXED_SCRIPT = textwrap.dedent('''
    import json, os, sys, tempfile
    import numpy as np
    from dlbook import compat
    from dlbook.compat import tl
    import tensorflow as tf
    sys.path.insert(0, os.environ["TESTS_DIR"])
    import test_compat as t
    report = {"applied": sorted(compat._applied)}
    work = tempfile.mkdtemp()

    def scenario(name, run):
        try:
            run()
            report[name] = "no error"
        except Exception as exc:
            report[name] = f"{type(exc).__name__}: {exc}"

    scenario("fix_rnn_forward", lambda: t.rnn_model(tf.keras.layers.GRUCell)(t.sequences()))
    scenario("fix_batchnorm_moving_stats", lambda: t.bn_train_step(t.static_bn_model())(t.images()))
    scenario("fix_hdf5_str_names", lambda: t.round_trip(os.path.join(work, "m.h5")))
    npz = os.path.join(work, "m.npz")
    scenario("fix_npz_ragged_save", lambda: t.round_trip(npz))
    scenario("npz_left_behind", lambda: np.load(npz, allow_pickle=True)["params"])
    compat.apply(skip=[n for n in compat.FIX_NAMES if n != "fix_rnn_forward"])
    scenario("fix_seq2seq_top_n", lambda: t.sample_seq2seq(t.seq2seq_with_logits([3.0, 1.0, -0.5, -2.0]), 1, 3))
    print("REPORT" + json.dumps(report))
''')


# The error each scenario raises when its fix is off (TL 2.2.5 on TF 2.21 / numpy 2 / h5py 3).
_ORIGINAL_ERRORS = {
    "fix_rnn_forward": "Shapes of all inputs must match",
    "fix_batchnorm_moving_stats": "Can not convert a NoneType into a Tensor",
    "fix_hdf5_str_names": "'str' object has no attribute 'decode'",
    "fix_npz_ragged_save": "inhomogeneous",
    "fix_seq2seq_top_n": "probabilities are not non-negative",
}


def test_each_bug_comes_back_without_its_fix():
    """One subprocess (TF's import costs seconds; one test, so pytest-xdist runs it once) with
    every fix disabled through DLBOOK_COMPAT_DISABLE: each scenario raises TL's original error."""
    env = dict(os.environ, DLBOOK_COMPAT_DISABLE=",".join(FIX_NAMES),
               TESTS_DIR=os.path.dirname(__file__), TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run([sys.executable, "-c", _UNFIXED_SCRIPT], env=env, capture_output=True,
                          text=True, timeout=300)
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("REPORT")]
    assert line, proc.stderr[-3000:]
    report = json.loads(line[-1][len("REPORT"):])
    assert report["applied"] == []
    for fix, error in _ORIGINAL_ERRORS.items():
        assert error in report[fix], (fix, report[fix])
    assert report["npz_left_behind"] != "no error"  # the failed save left a corrupt file


# -- scenarios (shared by the subprocess and the tests below) --------------------------------

def sequences(batch=4, steps=7, features=5, seed=0):
    return tf.constant(np.random.default_rng(seed).normal(size=(batch, steps, features)), tf.float32)


def rnn_model(cell_class, units=6):
    layer = tl.layers.RNN(cell=cell_class(units), in_channels=5, return_last_output=False,
                          return_last_state=True)

    class Net(tl.models.Model):
        def __init__(self):
            super().__init__()
            self.rnn = layer

        def forward(self, x):
            return self.rnn(x)

    net = Net()
    net.eval()
    return net


def images(seed=1):
    return tf.constant(np.random.default_rng(seed).normal(2.0, 3.0, size=(8, 6, 6, 2)), tf.float32)


def static_bn_model():
    """Conv2d -> BatchNorm2d -> Flatten, built statically (which runs one training forward)."""
    ni = tl.layers.Input([None, 6, 6, 2])
    nn = tl.layers.Conv2d(3, (3, 3), (1, 1), in_channels=2)(ni)
    nn = tl.layers.BatchNorm2d(decay=0.9)(nn)
    return tl.models.Model(ni, tl.layers.Flatten()(nn))


def bn_train_step(model):
    optimizer = tf.optimizers.SGD(0.01)

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(model(x) ** 2)
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_weights), model.trainable_weights))
        return loss

    model.train()
    return step


def mlp():
    ni = tl.layers.Input([None, 6])
    nn = tl.layers.Dense(5, act=tf.nn.relu)(ni)
    nn = tl.layers.Dropout(keep=0.8)(nn)
    nn = tl.layers.BatchNorm()(nn)
    return tl.models.Model(ni, tl.layers.Dense(3)(nn))


def round_trip(path, **load_kwargs):
    """Save a random MLP's weights to ``path``, load them into a fresh MLP: both outputs."""
    saved, loaded = mlp(), mlp()
    saved.save_weights(path)
    loaded.load_weights(path, **load_kwargs)
    saved.eval(), loaded.eval()
    x = np.random.default_rng(2).normal(size=(4, 6)).astype(np.float32)
    return saved(x).numpy(), loaded(x).numpy()


def seq2seq(cell_class=tf.keras.layers.GRUCell, vocabulary=12, units=16, n_layer=3, decoder_steps=5):
    """The book's Seq2seq call (1.10.6) with small sizes (n_layer=3 as printed by default)."""
    return tl.models.Seq2seq(
        decoder_seq_length=decoder_steps, cell_enc=cell_class, cell_dec=cell_class, n_layer=n_layer,
        n_units=units,
        embedding_layer=tl.layers.Embedding(vocabulary_size=vocabulary, embedding_size=8))


def seq2seq_with_logits(logits):
    """A Seq2seq whose output logits are ``logits`` at every step (zero kernel, bias = logits)."""
    model = seq2seq(vocabulary=len(logits))
    model.dense_layer.W.assign(tf.zeros_like(model.dense_layer.W))
    model.dense_layer.b.assign(tf.constant(logits, tf.float32))
    model.eval()
    return model


def sample_seq2seq(model, batch, steps, top_n=3):
    encoder = np.arange(1, 1 + 4 * batch).reshape(batch, 4) % model.vocabulary_size
    return model(inputs=[encoder], seq_length=steps, start_token=1, top_n=top_n).numpy()


# -- the switch --------------------------------------------------------------------------------

def test_every_fix_is_applied_on_import():
    assert compat._applied == set(FIX_NAMES)


def test_apply_is_idempotent():
    forward = tl.layers.RNN.forward
    compat.apply()
    assert tl.layers.RNN.forward is forward


def test_unknown_fix_name_is_a_usage_error():
    with pytest.raises(UsageError, match="fix_typo.*known: fix_rnn_forward"):
        compat.apply(skip=["fix_typo"])


# -- fix_rnn_forward ---------------------------------------------------------------------

@pytest.mark.parametrize("cell_class", [tf.keras.layers.GRUCell, tf.keras.layers.LSTMCell,
                                        tf.keras.layers.SimpleRNNCell])
def test_rnn_matches_keras_rnn(cell_class):
    """Oracle: Keras' own RNN layer on the same cell; tolerance 1e-5 (float32, 7 steps)."""
    x = sequences()
    net = rnn_model(cell_class)
    outputs, state = net(x)
    keras_rnn = tf.keras.layers.RNN(net.rnn.cell, return_sequences=True, return_state=True)
    expected = keras_rnn(x)
    np.testing.assert_allclose(outputs.numpy(), expected[0].numpy(), atol=1e-5)
    for got, want in zip(state, expected[1:]):
        np.testing.assert_allclose(got.numpy(), want.numpy(), atol=1e-5)


def _seq2seq_train(model, steps):
    """``steps`` Adam steps on one fixed batch, eagerly: the losses."""
    rng = np.random.default_rng(0)
    encoder, decoder = rng.integers(1, 12, (6, 4)), rng.integers(1, 12, (6, 5))
    target = np.roll(decoder, -1, axis=1)
    optimizer = tf.optimizers.Adam(0.03)
    model.train()
    losses = []
    for _ in range(steps):
        with tf.GradientTape() as tape:
            logits = model(inputs=[encoder, decoder])
            loss = tl.cost.cross_entropy_seq_with_mask(
                logits=tf.reshape(logits, [-1, 12]), target_seqs=target, input_mask=np.ones_like(target))
        grads = tape.gradient(loss, model.trainable_weights)
        assert all(g is not None for g in grads)
        optimizer.apply_gradients(zip(grads, model.trainable_weights))
        losses.append(float(loss))
    assert logits.shape == (6, 5, 12)
    return losses, encoder


def test_seq2seq_book_call_with_gru_trains_and_infers():
    """The book's Seq2seq(GRUCell, n_layer=3) learns a fixed batch eagerly, then infers token ids."""
    tf.keras.utils.set_random_seed(0)  # Keras 3 initializers draw from Python's `random`
    model = seq2seq(tf.keras.layers.GRUCell)
    losses, encoder = _seq2seq_train(model, steps=8)
    assert losses[-1] < 0.92 * losses[0]
    model.eval()
    replies = model(inputs=[encoder[:2]], seq_length=4, start_token=1).numpy()
    assert replies.shape == (2, 4) and replies.min() >= 0 and replies.max() < 12


def test_seq2seq_trains_inside_tf_function():
    """Same loss compiled as eager (tolerance 1e-5), then a compiled training loop lowers it.
    (Two layers and three steps: tracing cost grows with layers x steps.)"""
    tf.keras.utils.set_random_seed(2)
    model = seq2seq(tf.keras.layers.GRUCell, n_layer=2, decoder_steps=3)
    model.train()
    rng = np.random.default_rng(4)
    encoder, decoder = tf.constant(rng.integers(1, 12, (6, 3))), tf.constant(rng.integers(1, 12, (6, 3)))
    target = tf.roll(decoder, -1, axis=1)
    optimizer = tf.optimizers.Adam(0.03)

    def loss_fn():
        logits = model(inputs=[encoder, decoder])
        return tl.cost.cross_entropy_seq_with_mask(
            logits=tf.reshape(logits, [-1, 12]), target_seqs=target, input_mask=tf.ones_like(target))

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = loss_fn()
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_weights), model.trainable_weights))
        return loss

    eager_loss = float(loss_fn())
    losses = [float(step()) for _ in range(8)]
    assert abs(losses[0] - eager_loss) < 1e-5
    assert losses[-1] < 0.92 * losses[0]


def _padded_sequences():
    """Random steps, then all-zero steps from each sequence's length on (lengths 7, 3, 5, 1)."""
    x = sequences().numpy()
    for row, length in enumerate([7, 3, 5, 1]):
        x[row, length:] = 0.0
    return tf.constant(x)


@pytest.mark.parametrize("cell_class", [tf.keras.layers.GRUCell, tf.keras.layers.LSTMCell])
@pytest.mark.parametrize("last_output, seq_2d", [(False, False), (False, True), (True, False)])
def test_rnn_forward_equals_tl_original(cell_class, last_output, seq_2d):
    """TL's own forward (given the zero state it cannot build) is the oracle: equal bit for bit,
    including its rule that trailing all-zero input steps are padding."""
    layer = tl.layers.RNN(cell=cell_class(6), in_channels=5, return_last_output=last_output,
                          return_seq_2d=seq_2d, return_last_state=True)
    layer.is_train = False
    x = _padded_sequences()
    zeros = layer.cell.get_initial_state(batch_size=4)
    ours = layer.forward(x)
    original = tl.layers.RNN.forward.__wrapped__(layer, x, initial_state=zeros)
    np.testing.assert_array_equal(ours[0].numpy(), original[0].numpy())
    for got, want in zip(ours[1], original[1]):
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_rnn_honours_a_given_sequence_length():
    """Oracle: Keras' RNN on each sequence cut to its length (tolerance 1e-5). TL's own forward
    ignores the lengths and returns the full-length state."""
    layer = tl.layers.RNN(cell=tf.keras.layers.GRUCell(6), in_channels=5, return_last_output=True)
    layer.is_train = False
    x, lengths = sequences(), [7, 3, 5, 1]
    output, (state,) = layer.forward(x, sequence_length=lengths)
    keras_rnn = tf.keras.layers.RNN(layer.cell)
    for row, length in enumerate(lengths):
        expected = keras_rnn(x[row:row + 1, :length])[0].numpy()
        np.testing.assert_allclose(output[row].numpy(), expected, atol=1e-5)
        np.testing.assert_allclose(state[row].numpy(), expected, atol=1e-5)
    _, (tl_state,) = tl.layers.RNN.forward.__wrapped__(
        layer, x, sequence_length=lengths, initial_state=layer.cell.get_initial_state(batch_size=4))
    np.testing.assert_allclose(tl_state[1].numpy(), keras_rnn(x[1:2])[0].numpy(), atol=1e-5)


@pytest.mark.parametrize("lengths, error", [([7, 3, 5], ValueError), ([7, 3, 5, 8], ValueError),
                                           ([7, 3, 5, -1], ValueError), ([7.0, 3.0, 5.0, 1.0], TypeError),
                                           (1, TypeError), ("7", TypeError)])
def test_rnn_rejects_a_wrong_sequence_length(lengths, error):
    """The exception types are TensorLayer's (its own forward raises the same), except for a
    negative length, which TL lets through and we refuse as a value."""
    layer = tl.layers.RNN(cell=tf.keras.layers.GRUCell(6), in_channels=5)
    with pytest.raises(error, match="sequence_length should"):
        layer.forward(sequences(), sequence_length=lengths)
    if lengths != [7, 3, 5, -1]:
        with pytest.raises(error):
            tl.layers.RNN.forward.__wrapped__(layer, sequences(), sequence_length=lengths,
                                              initial_state=layer.cell.get_initial_state(batch_size=4))


def test_tl_rnn_forward_is_eager_only_even_with_a_zero_state():
    layer = tl.layers.RNN(cell=tf.keras.layers.GRUCell(6), in_channels=5)
    layer.is_train = False
    zeros = layer.cell.get_initial_state(batch_size=4)
    with pytest.raises(tf.errors.OperatorNotAllowedInGraphError):
        tf.function(lambda x: tl.layers.RNN.forward.__wrapped__(layer, x, initial_state=zeros))(sequences())
    assert tf.function(lambda x: layer.forward(x))(sequences())[0].shape == (4, 7, 6)


# -- fix_batchnorm_moving_stats ----------------------------------------------------------------

def _pre_bn(model, x):
    conv = model.all_layers[1]
    return tf.nn.conv2d(x, conv.W, 1, conv.padding) + conv.b


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "tf.function"])
def test_batchnorm_updates_moving_stats_by_the_decay_formula(compiled):
    """moving = 0.9 * moving + 0.1 * batch statistic, two training calls; tolerance 1e-6."""
    model = static_bn_model()
    bn = model.all_layers[2]
    model.train()
    forward = tf.function(lambda x: model(x)) if compiled else model
    mean, var = bn.moving_mean.numpy(), bn.moving_var.numpy()
    for seed in (3, 4):  # the second tf.function call reuses the trace
        x = images(seed)
        batch_mean, batch_var = tf.nn.moments(_pre_bn(model, x), [0, 1, 2])
        forward(x)
        mean = 0.9 * mean + 0.1 * batch_mean.numpy()
        var = 0.9 * var + 0.1 * batch_var.numpy()
        np.testing.assert_allclose(bn.moving_mean.numpy(), mean, atol=1e-6)
        np.testing.assert_allclose(bn.moving_var.numpy(), var, atol=1e-6)
    assert bn.moving_mean is bn.all_weights[2] and bn.moving_var is bn.all_weights[3]


def test_batchnorm_tape_step_in_tf_function_then_eval_uses_moving_stats():
    model = static_bn_model()
    bn = model.all_layers[2]
    step = bn_train_step(model)
    before = bn.moving_mean.numpy()
    losses = [float(step(images(seed))) for seed in (5, 6, 7)]
    assert np.all(np.isfinite(losses))
    assert not np.allclose(bn.moving_mean.numpy(), before)
    model.eval()
    x = images(8)
    # Oracle: TensorFlow's batch normalization with the moving statistics; tolerance 1e-5.
    expected = tf.nn.batch_normalization(_pre_bn(model, x), bn.moving_mean, bn.moving_var,
                                         bn.beta, bn.gamma, bn.epsilon)
    got = tf.function(lambda x: model(x))(x)
    np.testing.assert_allclose(got.numpy(), tf.reshape(expected, [8, -1]).numpy(), atol=1e-5)
    frozen = bn.moving_mean.numpy()
    model(x)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), frozen)


# -- fix_hdf5_str_names ------------------------------------------------------------------------

def test_h5_round_trip_in_order(tmp_path):
    saved, loaded = round_trip(str(tmp_path / "m.h5"))
    np.testing.assert_array_equal(saved, loaded)


def test_h5_load_by_name_and_in_order_functions(tmp_path):
    path = str(tmp_path / "m.h5")
    model = mlp()
    model.save_weights(path)
    original = [w.numpy() for w in model.all_weights]
    for load in (lambda: model.load_weights(path, in_order=False),
                 lambda: tl.files.load_hdf5_to_weights(path, model),
                 lambda: tl.files.load_hdf5_to_weights_in_order(path, model)):
        for w in model.all_weights:
            w.assign(tf.zeros_like(w))
        load()
        for w, value in zip(model.all_weights, original):
            np.testing.assert_array_equal(w.numpy(), value)


def test_h5_by_name_unknown_layer_raises_unless_skip(tmp_path):
    path = str(tmp_path / "m.h5")
    mlp().save_weights(path)
    other = mlp()  # TL's global counter gives its layers other names
    with pytest.raises(RuntimeError, match="not found in network"):
        other.load_weights(path, in_order=False)
    other.load_weights(path, skip=True)  # loads nothing, as in TL


# -- fix_npz_ragged_save -----------------------------------------------------------------------

def test_npz_round_trip(tmp_path):
    saved, loaded = round_trip(str(tmp_path / "m.npz"))
    np.testing.assert_array_equal(saved, loaded)


def test_save_npz_appends_suffix_and_tl_loaders_read_it(tmp_path):
    model = mlp()
    tl.files.save_npz(model.all_weights, name=str(tmp_path / "weights"))
    params = tl.files.load_npz(name=str(tmp_path / "weights.npz"))
    assert [p.shape for p in params] == [tuple(w.shape) for w in model.all_weights]
    fresh = mlp()
    tl.files.load_and_assign_npz(name=str(tmp_path / "weights.npz"), network=fresh)
    for w, value in zip(fresh.all_weights, params):
        np.testing.assert_array_equal(w.numpy(), value)


def test_failed_npz_save_keeps_previous_file(tmp_path, monkeypatch):
    path = str(tmp_path / "m.npz")
    model = mlp()
    tl.files.save_npz(model.all_weights, name=path)
    before = open(path, "rb").read()

    def broken_savez(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        tl.files.save_npz(model.all_weights, name=path)
    assert open(path, "rb").read() == before
    assert os.listdir(tmp_path) == ["m.npz"]


# -- fix_seq2seq_top_n -------------------------------------------------------------------------

def _softmax(values):
    e = np.exp(np.asarray(values) - np.max(values))
    return e / e.sum()


def test_sample_top_n_frequencies_match_softmax_over_top_n():
    """20,000 draws, fixed seed; tolerance 0.015 (about 4 standard errors at these sizes)."""
    logits = np.array([0.5, -1.0, 2.0, -3.0, 1.5, -0.2])
    rng = np.random.default_rng(0)
    draws = np.array([sample_top_n(logits, 3, rng) for _ in range(20000)])
    top3 = [2, 4, 0]
    freqs = np.bincount(draws, minlength=6) / draws.size
    np.testing.assert_allclose(freqs[top3], _softmax(logits[top3]), atol=0.015)
    assert freqs[[1, 3, 5]].sum() == 0


def test_seq2seq_top_n_with_all_negative_logits_prefers_the_argmax():
    """Logits -1, -2, -3, -4 at every step; top_n=3 draws from softmax([-1, -2, -3]).

    TL's p = logits / sum(logits) gave the ranking reversed (1/6, 2/6, 3/6).
    """
    np.random.seed(0)
    model = seq2seq_with_logits([-1.0, -2.0, -3.0, -4.0])
    tokens = sample_seq2seq(model, batch=40, steps=11)
    assert (tokens[:, 0] == 0).all()  # the first word is the argmax, as in TL
    freqs = np.bincount(tokens[:, 1:].ravel(), minlength=4) / tokens[:, 1:].size
    assert freqs[3] == 0 and freqs[0] > freqs[1] > freqs[2]
    # 400 draws: tolerance 0.08 is more than 3 standard errors.
    np.testing.assert_allclose(freqs[:3], _softmax([-1.0, -2.0, -3.0]), atol=0.08)


def test_seq2seq_top_n_with_mixed_sign_logits_runs():
    tokens = sample_seq2seq(seq2seq_with_logits([3.0, 1.0, -0.5, -2.0]), batch=3, steps=6)
    assert tokens.shape == (3, 6) and set(np.unique(tokens)) <= {0, 1, 2}


def test_seq2seq_greedy_inference_equals_tl_original():
    """top_n=None is TL's argmax decoding, token for token (TL's own inference as the oracle)."""
    tf.random.set_seed(1)
    model = seq2seq()
    model.eval()
    encoder = tf.constant(np.random.default_rng(3).integers(1, 12, (3, 4)))
    ours = model(inputs=[encoder], seq_length=6, start_token=1)  # first call fixes TL's layer nodes
    original, _ = tl.models.Seq2seq.inference.__wrapped__(model, [encoder], 6, 1, None)
    np.testing.assert_array_equal(ours.numpy(), original.numpy())


def test_fast_layer_introspection_keeps_tl_checks():
    """fix_fast_layer_introspection: same recorded layer args, protected methods still protected."""
    import inspect

    import tensorlayer.decorators.method_decorator as method_decorator
    import tensorlayer.layers.core as layers_core
    from dlbook.compat import _ShallowInspect

    def build():
        return tl.layers.Dense(n_units=7, act=tf.nn.relu, in_channels=3, name="d_introspect")

    assert isinstance(layers_core.inspect, _ShallowInspect)
    fast_args = build().layer_args
    method_decorator.inspect = layers_core.inspect = inspect  # TL's original
    try:
        slow_args = build().layer_args
    finally:
        method_decorator.inspect = layers_core.inspect = _ShallowInspect()
    assert fast_args == slow_args and fast_args["n_units"] == 7 and fast_args["act"] == "relu"

    class Outsider:
        def peek(self, layer):
            return layer._get_init_args()

    with pytest.raises(RuntimeError, match="protected method"):
        Outsider().peek(build())  # another class may not call it
