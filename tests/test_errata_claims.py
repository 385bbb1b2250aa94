"""Runs behind the errata of the chapter's text (docs/errata.md): each test shows what the book's
sentence gets wrong, computed with TensorFlow / TensorLayer or written out independently."""
import numpy as np
import pytest

from dlbook.compat import tl
from dlbook.nn import conv, optimizers, rnn
import tensorflow as tf


def test_tf2_tensors_hold_their_value_and_print_it(capsys):
    """tf1-tensors, listing-1.1-output: an eager tensor has its value at once, no session."""
    a = tf.constant([[1, 2], [1, 2]])
    c = tf.matmul(a, tf.constant([[1], [2]]))
    assert tf.executing_eagerly() and not hasattr(tf, "Session")
    np.testing.assert_array_equal(c.numpy(), [[5], [5]])
    print(a)
    assert capsys.readouterr().out == "tf.Tensor(\n[[1 2]\n [1 2]], shape=(2, 2), dtype=int32)\n"


def test_mae_is_differentiable_but_at_one_point_where_tf_takes_a_subgradient():
    """mae-kink: |u| has the subgradient 0 at u = 0 in TensorFlow, and MAE still trains."""
    u = tf.Variable([0.0, 2.0, -3.0])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.abs(u))
    np.testing.assert_array_equal(tape.gradient(loss, u).numpy(), [0.0, 1.0, -1.0])
    y = np.array([1.0, 2.0, 7.0])   # subgradient descent on the MAE reaches the median
    path = optimizers.gradient_descent(lambda t: -np.mean(np.sign(y - t)), 0.0, 0.01, 1000)
    assert path[-1][0] == pytest.approx(2.0, abs=0.02)


def test_adam_lines_7_and_8_correct_a_bias_they_do_not_average():
    """adam-bias-correction: for a constant gradient g, m_t = (1 - beta1^t) g is the moving
    average (line 5); m_t / (1 - beta1^t) is exactly g from the first step."""
    g, adam, theta = 0.3, optimizers.Adam(lr=0.0), [np.zeros(1)]
    for t in range(1, 6):
        adam.step(theta, [np.full(1, g)])
        assert adam.m[0][0] == pytest.approx((1 - 0.9 ** t) * g, rel=1e-12)
        assert adam.m[0][0] / (1 - 0.9 ** t) == pytest.approx(g, rel=1e-12)


def test_algorithm_1_1_with_i_from_0_to_s_makes_s_plus_1_updates():
    """algorithm-1.1-loop: dlbook's S steps are S updates; the printed loop makes S + 1."""
    printed = sum(1 for i in range(0, 5 + 1))   # for i = 0 to S, S = 5
    assert printed == 6 and len(optimizers.gradient_descent(lambda t: t, 1.0, 0.1, 5)) - 1 == 5


def _batchnorm_model():
    ni = tl.layers.Input([None, 3])
    return tl.models.Model(inputs=ni, outputs=tl.layers.BatchNorm(decay=0.9)(ni), name=None)


def test_batchnorm_noise_in_training_comes_from_the_batch_not_the_moving_statistics():
    """bn-noise-source: in training an example's output changes with its batch companions and
    not with the moving statistics, which only serve at test time."""
    model, rng = _batchnorm_model(), np.random.default_rng(0)
    x = rng.normal(size=(1, 3)).astype(np.float32)
    batch_1 = np.concatenate([x, rng.normal(size=(7, 3))]).astype(np.float32)
    batch_2 = np.concatenate([x, rng.normal(size=(7, 3)) + 2]).astype(np.float32)
    layer = model.all_layers[-1]
    model.train()
    out_1 = model(batch_1).numpy()[0]
    layer.moving_mean.assign(layer.moving_mean + 5.0)
    np.testing.assert_allclose(model(batch_1).numpy()[0], out_1, atol=1e-6)   # moving stats unused
    assert np.abs(model(batch_2).numpy()[0] - out_1).max() > 0.1              # companions matter
    model.eval()
    np.testing.assert_allclose(model(batch_1).numpy()[0], model(batch_2).numpy()[0], atol=1e-6)


def test_batchnorm_output_is_scaled_and_shifted_by_gamma_and_beta():
    """bn-scale-shift: the output's mean and standard deviation are beta and gamma, not 0 and 1."""
    model = _batchnorm_model()
    layer = model.all_layers[-1]
    layer.beta.assign([1.0, -2.0, 0.5])
    layer.gamma.assign([3.0, 0.5, 2.0])
    model.train()
    out = model(np.random.default_rng(1).normal(size=(256, 3)).astype(np.float32)).numpy()
    np.testing.assert_allclose(out.mean(0), [1.0, -2.0, 0.5], atol=1e-4)
    np.testing.assert_allclose(out.std(0), [3.0, 0.5, 2.0], rtol=1e-2)


def test_convolution_depth_is_the_number_of_kernels_not_their_channels():
    """conv-depth: Fig. 1.18's 3x3x3 kernel has 3 channels and gives a depth-1 output; K kernels
    give depth K (tf.nn.conv2d agrees)."""
    image = np.random.default_rng(2).normal(size=(4, 4, 3))
    for kernels in (1, 5):
        kernel = np.random.default_rng(3).normal(size=(3, 3, 3, kernels))
        ours = conv.conv2d(image, kernel)
        theirs = tf.nn.conv2d(image[None], kernel, strides=1, padding="VALID").numpy()[0]
        assert ours.shape == (2, 2, kernels)
        np.testing.assert_allclose(ours, theirs, atol=1e-12)


def test_w_ij_joins_input_j_to_output_i_as_in_1_6():
    """wij-index-order: in z = Wx + b, w_ij multiplies x_j into z_i."""
    W, x = np.arange(6.0).reshape(2, 3), np.array([1.0, 10.0, 100.0])
    z = W @ x
    assert z[1] == W[1, 0] * x[0] + W[1, 1] * x[1] + W[1, 2] * x[2]
    # Keras keeps the transpose: kernel[j, i] joins input j to output i
    dense = tf.keras.layers.Dense(2, use_bias=False, dtype="float64")
    dense.build((None, 3))
    dense.set_weights([W.T])
    np.testing.assert_allclose(dense(x[None]).numpy()[0], z)


def test_the_1_25_w_is_not_square_and_its_recurrent_block_decides_the_gradient():
    """rnn-eigenvalues: W of (1.25) is units x (inputs + units); dh_t/dh_0 is W_h^t."""
    units, inputs, steps = 3, 2, 6
    params = rnn.init_simple_cell(units, inputs, seed=4, scale=0.4)
    assert params["W"].shape == (units, inputs + units)   # no eigenvalues
    W_h = params["W"][:, inputs:]
    h0 = tf.constant(np.zeros(units))
    xs = np.random.default_rng(5).normal(size=(steps, inputs))
    with tf.GradientTape() as tape:
        tape.watch(h0)
        h = h0
        for x in xs:
            h = tf.linalg.matvec(tf.constant(params["W"]), tf.concat([x, h], 0)) + params["b"]
    np.testing.assert_allclose(tape.jacobian(h, h0).numpy(), np.linalg.matrix_power(W_h, steps), atol=1e-12)
    ours = np.zeros(units)
    for x in xs:   # dlbook's cell computes the same states
        ours = rnn.simple_rnn_cell(x, ours, params)
    np.testing.assert_allclose(ours, h.numpy(), atol=1e-12)


def test_the_seq2seq_embedding_is_shared_by_encoder_and_decoder():
    """seq2seq-call-comments: the one embedding layer of the printed call feeds both RNNs."""
    from dlbook.models.seq2seq import get_seq2seq_model
    model = get_seq2seq_model(vocabulary_size=11, decoder_seq_length=4, n_layer=1, n_units=8, emb_dim=6)
    embeddings = [w for w in model.trainable_weights if tuple(w.shape) == (11, 6)]
    assert len(embeddings) == 1
    model.train()
    encoder_in = np.full((2, 5), 2, np.int32)   # the encoder reads word 2 only,
    decoder_in = np.full((2, 4), 3, np.int32)   # the decoder word 3 only
    with tf.GradientTape() as tape:
        logits = model(inputs=[encoder_in, decoder_in])
        loss = tf.reduce_sum(logits ** 2)
    grad = np.abs(tf.convert_to_tensor(tape.gradient(loss, embeddings[0])).numpy()).sum(axis=1)
    assert grad[2] > 0 and grad[3] > 0 and grad[[0, 1, 4]].sum() == 0   # both rows: one table
    assert logits.shape[1] == 4   # the training decoder length is decoder_seq_length, fixed
