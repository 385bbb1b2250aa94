"""Sections 1.10.1-1.10.4: every listing runs and does what the book says, checked against oracles."""
import os
import re
import subprocess
import sys

from dlbook.compat import tl
import numpy as np
import pytest
import tensorflow as tf

from chapters.ch01 import s1_10_1_tensors, s1_10_2_models, s1_10_3_lambda, s1_10_4_mnist_mlp
from dlbook.files.checkpoints import load_weights, save_weights


# 1.10.1 -------------------------------------------------------------------------------------

def test_listing_1_1_matmul_is_eager_int32():
    c = s1_10_1_tensors.listing_1_1()
    assert isinstance(c, tf.Tensor) and c.dtype == tf.int32 and c.shape == (2, 1)
    np.testing.assert_array_equal(c.numpy(), np.matmul([[1, 2], [1, 2]], [[1], [2]]))
    assert c.numpy().tolist() == [[5], [5]]  # the value the book prints


def float64_mlp(n_in=5, n_hidden=7, n_out=3):
    """A small TL MLP in float64, so that finite differences are accurate to ~1e-10."""
    def init(shape, dtype=None):
        return tf.random.normal(shape, stddev=0.5, dtype=tf.float64)

    ni = tl.layers.Input([None, n_in], dtype=tf.float64)
    nn = tl.layers.Dense(n_hidden, act=tf.nn.relu, W_init=init, b_init=init)(ni)
    nn = tl.layers.Dense(n_hidden, act=tf.nn.relu, W_init=init, b_init=init)(nn)
    nn = tl.layers.Dense(n_out, W_init=init, b_init=init)(nn)
    return tl.models.Model(inputs=ni, outputs=nn)


def test_listing_1_2_applies_the_finite_difference_gradient():
    """One pass of train() with SGD(lr) over one batch moves the weights by -lr * grad.
    Oracle: central finite differences of loss_fn, per weight tensor along a random direction
    (float64, eps 1e-5): relative error <= 1e-6."""
    tf.random.set_seed(1)
    rng = np.random.default_rng(1)
    model = float64_mlp()
    model.train()  # no Dropout: train mode is deterministic
    x = rng.normal(size=(16, 5))
    y = rng.integers(0, 3, 16).astype(np.int32)
    before = [w.numpy() for w in model.trainable_weights]

    def loss_at(weights):
        for variable, value in zip(model.trainable_weights, weights):
            variable.assign(value)
        return float(s1_10_1_tensors.loss_fn(model(x), y))

    eps, lr = 1e-5, 0.5
    directions = [rng.normal(size=w.shape) for w in before]
    finite_differences = []
    for i, v in enumerate(directions):
        plus = [w + eps * v if j == i else w for j, w in enumerate(before)]
        minus = [w - eps * v if j == i else w for j, w in enumerate(before)]
        finite_differences.append((loss_at(plus) - loss_at(minus)) / (2 * eps))
    loss_at(before)

    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)  # one batch: one step
    s1_10_1_tensors.train(model, dataset, tf.optimizers.SGD(learning_rate=lr))
    after = [w.numpy() for w in model.trainable_weights]
    for v, w0, w1, fd in zip(directions, before, after, finite_differences):
        directional = float(np.sum((w0 - w1) / lr * v))  # <grad, v> read from the update
        assert directional == pytest.approx(fd, rel=1e-6, abs=1e-9)
    assert min(abs(fd) for fd in finite_differences) > 1e-3  # not trivially zero


def test_section_1_10_1_trains(capsys):
    assert s1_10_1_tensors.main(["--epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert "[[5]\n [5]]" in out and "int32" in out
    losses = [float(v) for v in re.findall(r"loss (\d+\.\d+)", out)]
    accuracies = [float(v) for v in re.findall(r"accuracy (\d+\.\d+)", out)]
    assert len(losses) == 2
    assert abs(losses[0] - np.log(3)) < 0.2  # chance level before training
    assert losses[-1] < losses[0] / 2 and accuracies[-1] > 0.85


# 1.10.2 -------------------------------------------------------------------------------------

def test_section_1_10_2_static_equals_dynamic(capsys):
    assert s1_10_2_models.main([]) == 0
    out = capsys.readouterr().out
    assert "parameters: static 1,276,810, dynamic 1,276,810" in out
    assert "max |static - dynamic| over a batch of 8: 0.0" in out
    assert "sum to 1.000000 .. 1.000000" in out


def test_printed_listings_1_3_and_1_4_are_the_library_models():
    """The listings' models and dlbook.models' have the same layers: with the weights copied
    over, bit-equal logits; the printed forward's foo switch adds exactly tf.nn.softmax."""
    from dlbook.models import MLPModel, get_mlp_model
    x = np.random.default_rng(3).random((5, 784), dtype=np.float32)
    pairs = [(s1_10_2_models.get_mlp_model([None, 784]), get_mlp_model([None, 784])),
             (s1_10_2_models.MLPModel(), MLPModel(in_channels=784))]
    for listing, library in pairs:
        assert [w.shape for w in listing.all_weights] == [w.shape for w in library.all_weights]
        s1_10_2_models.copy_weights(library, listing)
        listing.eval(), library.eval()
        np.testing.assert_array_equal(listing(x).numpy(), library(x).numpy())
    dynamic = pairs[1][0]
    np.testing.assert_allclose(dynamic(x, foo=True).numpy(), tf.nn.softmax(dynamic(x)).numpy(), rtol=1e-6)
    assert float(tf.reduce_min(dynamic(x))) < 0  # logits of both signs: no ReLU on the last layer


# 1.10.3 -------------------------------------------------------------------------------------

def test_lambda_function_and_fn_args():
    x = np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32)
    ni, y, z = s1_10_3_lambda.lambda_layers()
    for output, factor in ((y, 2), (z, 42)):
        model = tl.models.Model(inputs=ni, outputs=output)
        model.eval()
        np.testing.assert_allclose(model(x).numpy(), factor * x, rtol=1e-6)


def test_fn_args_is_what_gives_foo_its_value():
    """customize_fn(input, foo) has no default for foo: the 42 can only come from fn_args."""
    import inspect
    ni, _, z = s1_10_3_lambda.lambda_layers()
    model = tl.models.Model(inputs=ni, outputs=z)
    (layer,) = [la for la in model.all_layers if isinstance(la, tl.layers.Lambda)]
    assert layer.fn_args == {'foo': 42}
    assert inspect.signature(layer.fn).parameters["foo"].default is inspect.Parameter.empty
    with pytest.raises(TypeError, match="foo"):
        layer.fn(tf.ones([8, 3]))  # the function alone, without fn_args
    layer.fn_args = {'foo': 7}  # the layer passes whatever fn_args holds
    model.eval()
    np.testing.assert_allclose(model(np.ones([8, 3], np.float32)).numpy(), 7.0)


def test_lambda_fn_weights_are_trained():
    a, ni, y = s1_10_3_lambda.lambda_with_weights()
    model = tl.models.Model(inputs=ni, outputs=y)
    model.train()
    assert len(model.trainable_weights) == 1 and model.trainable_weights[0] is a
    assert float(a.numpy()) == 1.0
    x = np.ones([8, 3], np.float32)
    np.testing.assert_allclose(model(x).numpy(), x + 1.0)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(model(x))  # d loss / d a = 1
    tf.optimizers.SGD(learning_rate=0.1).apply_gradients(
        zip(tape.gradient(loss, model.trainable_weights), model.trainable_weights))
    assert float(a.numpy()) == pytest.approx(0.9, abs=1e-7)  # 1 - 0.1 * 1
    np.testing.assert_allclose(model(x).numpy(), x + 0.9, rtol=1e-6)


def test_keras_model_in_a_lambda_is_trained_with_the_tl_model():
    tf.random.set_seed(0)
    perceptron, CustomizeModel = s1_10_3_lambda.keras_in_lambda()
    model = CustomizeModel()
    keras_weights = perceptron.trainable_variables
    assert len(keras_weights) == 6
    tl_ids = {id(w) for w in model.trainable_weights}
    assert all(id(w) in tl_ids for w in keras_weights)
    assert len(model.trainable_weights) == 8  # + the TL Dense's W and b
    before = [w.numpy() for w in keras_weights]
    data_x = np.linspace(-1, 1, 100, dtype=np.float32)[:, None]
    first, last = s1_10_3_lambda.train_customize_model(model, data_x, data_x ** 2, steps=10)
    assert last < first
    assert all(not np.array_equal(w0, w.numpy()) for w0, w in zip(before, keras_weights))
    # the TL model's output is the Keras model applied to the TL Dense's output
    model.eval()
    np.testing.assert_allclose(model(data_x).numpy(), perceptron(model.dense(data_x)).numpy(), rtol=1e-6)


def test_section_1_10_3_runs(capsys):
    assert s1_10_3_lambda.main([]) == 0
    out = capsys.readouterr().out
    assert "Lambda(lambda x: 2*x), first row: [2. 2. 2.]" in out
    assert "def customize_fn(input, foo): return foo * input" in out
    assert "Lambda(customize_fn, fn_args={'foo': 42}), first row: [42. 42. 42.]" in out
    assert "a before one SGD step 1.000, after 0.900" in out
    assert "8 trainable weights (2 TL Dense + 6 Keras)" in out


# 1.10.4 -------------------------------------------------------------------------------------

def test_reload_gives_bit_equal_logits(tmp_path):
    """save_weights('model.h5') then load into a fresh 1.10.4 model: bit-equal logits."""
    trained = s1_10_4_mnist_mlp.get_model()
    rng = np.random.default_rng(0)
    for w in trained.all_weights:  # weights unlike any fresh initialisation
        w.assign(rng.normal(scale=0.05, size=w.shape).astype(np.float32))
    save_weights(trained, tmp_path / "model.h5")
    fresh = s1_10_4_mnist_mlp.get_model()
    x = rng.random((64, 784), dtype=np.float32)
    trained.eval(), fresh.eval()
    assert not np.array_equal(trained(x).numpy(), fresh(x).numpy())
    load_weights(fresh, tmp_path / "model.h5")
    np.testing.assert_array_equal(trained(x).numpy(), fresh(x).numpy())


def test_main_job_trains_on_the_tiny_data_and_reloads(tmp_path):
    """The README's main job, `dlbook run 1.10.4`, run from a directory with no data: it says it
    uses the tiny subset, trains, saves model.h5, reloads it bit-equal and prints the accuracy."""
    env = {k: v for k, v in os.environ.items() if k != "DLBOOK_DATA_DIR"}
    result = subprocess.run(
        [sys.executable, "-m", "dlbook", "run", "1.10.4", "--epochs", "2", "--output-dir", "out"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "Real MNIST not found" in out and "using the tiny subset" in out
    assert "training on 2,500 images, validating on 500, testing on 600" in out
    assert len(re.findall(r"^Epoch \d+/2$", out, re.M)) == 2
    assert (tmp_path / "out" / "model.h5").is_file()
    assert "bit-equal logits" in out
    final = re.search(r"^test accuracy: (\d\.\d+)$", out, re.M)
    assert final and float(final.group(1)) > 0.25  # 10 classes: chance is 0.1
