"""dlbook.models.mlp: the static (Listing 1.3 / 1.10.4) and dynamic (Listing 1.4) MLP."""
from dlbook.compat import tl
import numpy as np
import pytest
import tensorflow as tf

from dlbook.errors import ShapeError
from dlbook.models import MLPModel, get_mlp_model
from dlbook.models.mlp import BOOK_KEEP

BOOK_PARAMETERS = 784 * 800 + 800 + 800 * 800 + 800 + 800 * 10 + 10  # 1,276,810


def images(n=16, seed=0):
    return np.random.default_rng(seed).random((n, 784), dtype=np.float32)


def copy_weights(source, target):
    for target_weight, source_weight in zip(target.all_weights, source.all_weights, strict=True):
        target_weight.assign(source_weight)


def test_parameter_count_is_the_books():
    assert BOOK_PARAMETERS == 1_276_810
    for model in (get_mlp_model([None, 784]), get_mlp_model([None, 784], keep=BOOK_KEEP),
                  MLPModel(in_channels=784)):
        assert model.n_weights == BOOK_PARAMETERS
        assert [tuple(w.shape) for w in model.trainable_weights] == [
            (784, 800), (800,), (800, 800), (800,), (800, 10), (10,)]


def test_static_and_dynamic_are_the_same_function():
    static, dynamic = get_mlp_model([None, 784]), MLPModel(in_channels=784)
    static.eval(), dynamic.eval()
    x = images()
    assert not np.allclose(static(x), dynamic(x))  # independent initialisations differ
    copy_weights(static, dynamic)
    # The same TF ops on the same values: bit-equal (tolerance 0).
    np.testing.assert_array_equal(static(x).numpy(), dynamic(x).numpy())
    np.testing.assert_array_equal(static(x).numpy(), dynamic(x, foo=False).numpy())


def test_static_mlp_matches_a_keras_model_with_the_same_weights():
    """Oracle: Keras Dense layers (relu, relu, linear) with the TL weights copied in; atol 1e-5."""
    static = get_mlp_model([None, 784])
    static.eval()
    keras_mlp = tf.keras.Sequential([tf.keras.Input((784,)),
                                     tf.keras.layers.Dense(800, activation="relu"),
                                     tf.keras.layers.Dense(800, activation="relu"),
                                     tf.keras.layers.Dense(10)])
    keras_mlp.set_weights([w.numpy() for w in static.all_weights])
    x = images()
    np.testing.assert_allclose(static(x).numpy(), keras_mlp(x).numpy(), atol=1e-5)


def test_foo_switch_adds_a_softmax():
    """Oracle: tf.nn.softmax of the logits; atol 1e-7."""
    model = MLPModel(in_channels=784)
    model.eval()
    x = images()
    logits, probabilities = model(x), model(x, foo=True)
    np.testing.assert_allclose(probabilities.numpy(), tf.nn.softmax(logits).numpy(), atol=1e-7)
    assert logits.numpy().min() < 0  # logits, not ReLU outputs


def test_book_dropout_layers_and_modes():
    model = get_mlp_model([None, 784], keep=BOOK_KEEP)
    dropouts = [layer for layer in model.all_layers if isinstance(layer, tl.layers.Dropout)]
    assert [layer.keep for layer in dropouts] == [0.8, 0.5, 0.5]
    plain = get_mlp_model([None, 784])
    copy_weights(plain, model)
    x = images()
    model.eval(), plain.eval()
    np.testing.assert_array_equal(model(x).numpy(), plain(x).numpy())  # Dropout is identity in eval
    model.train()
    assert not np.allclose(model(x).numpy(), plain(x).numpy())


def test_printed_relu_on_the_logits_stops_learning():
    """errata mlp-logits-relu: with ReLU on the last layer, an example whose logits are all
    negative gives exactly zero gradient to every weight; with plain logits it does not."""
    x, y = images(8), np.arange(8, dtype=np.int32)
    gradients = {}
    for name, act in (("printed", tf.nn.relu), ("dlbook", None)):
        model = get_mlp_model([None, 784], logits_act=act)
        model.train()
        model.trainable_weights[-1].assign(tf.fill([10], -100.0))  # push every logit below 0
        with tf.GradientTape() as tape:
            loss = tl.cost.cross_entropy(model(x), y)
        gradients[name] = tape.gradient(loss, model.trainable_weights)
        if name == "printed":
            np.testing.assert_allclose(float(loss), np.log(10), rtol=1e-6)  # uniform softmax of 0s
    assert all(float(tf.reduce_max(tf.abs(g))) == 0.0 for g in gradients["printed"])
    assert all(float(tf.reduce_max(tf.abs(g))) > 0.0 for g in gradients["dlbook"])


@pytest.mark.parametrize("build", [lambda: get_mlp_model([None, 784]), lambda: MLPModel(784),
                                   lambda: get_mlp_model([None, 784], keep=BOOK_KEEP)],
                         ids=["static", "dynamic", "book-1.10.4"])
def test_wrong_input_shape_names_the_expected_shape(build):
    model = build()
    model.eval()
    for bad in (np.zeros((4, 28, 28), np.float32), np.zeros((4, 100), np.float32)):
        with pytest.raises(ShapeError, match=r"expects inputs of shape \[batch, 784\]") as info:
            model(bad)
        assert str(list(bad.shape)) in str(info.value)
    with pytest.raises(ShapeError, match="Flatten the images"):
        model(np.zeros((4, 28, 28), np.float32))
    # Inside tf.function too, as the same ShapeError (not autograph's StagingError).
    with pytest.raises(ShapeError, match=r"\[batch, 784\]"):
        tf.function(lambda x: model(x))(np.zeros((4, 28, 28, 1), np.float32))
    assert model(np.zeros((3, 784), np.float32)).shape == (3, 10)
