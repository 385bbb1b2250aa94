"""1.10.6 Seq2seq model and inference, each checked against an oracle (TensorLayer's own forward
and inference, Keras' cross-entropy, brute-force enumeration, the softmax)."""
import itertools

import numpy as np
import pytest
import tensorflow as tf

from dlbook.chat.inference import Chatbot, beam_search, greedy_decode, sample_decode
from dlbook.chat.vocab import Vocabulary, make_arrays
from dlbook.errors import UsageError
from dlbook.models import get_seq2seq_model, masked_sequence_loss
from dlbook.models.seq2seq import decode_step, encode
from dlbook.seed import set_seed

START, END = 2, 3  # ids of start_id / end_id in a Vocabulary.build vocabulary


def tiny_model(vocabulary_size=7, decoder_seq_length=4, seed=0):
    set_seed(seed)
    return get_seq2seq_model(vocabulary_size, decoder_seq_length=decoder_seq_length, n_layer=2,
                             n_units=8, emb_dim=4)


def test_printed_call_has_the_books_architecture():
    vocabulary_size, units, emb = 50, 256, 1024
    model = get_seq2seq_model(vocabulary_size)  # the printed n_layer=3, n_units=256; emb_dim 1024 (the repository's)
    assert len(model.enc_layers) == len(model.dec_layers) == 3
    assert all(isinstance(layer.cell, tf.keras.layers.GRUCell) and layer.cell.units == units
               for layer in model.enc_layers + model.dec_layers)

    def gru(n_in):  # Keras 3 GRUCell (reset_after): kernel, recurrent kernel, two biases
        return 3 * units * (n_in + units + 2)

    expected = vocabulary_size * emb + 2 * (gru(emb) + 2 * gru(units)) + (units + 1) * vocabulary_size
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == expected


def test_step_by_step_decoder_equals_teacher_forced_forward():
    model = tiny_model()
    rng = np.random.default_rng(0)
    enc = rng.integers(1, 7, (3, 5))
    dec = rng.integers(1, 7, (3, 4))
    model.train()
    forward = model(inputs=[enc, dec]).numpy()  # [3, 4, 7]
    assert forward.shape == (3, 4, 7)
    states = encode(model, enc)
    for t in range(4):
        logits, states = decode_step(model, dec[:, t], states)
        np.testing.assert_allclose(logits.numpy(), forward[:, t], atol=1e-5)  # float32 round-off


def test_greedy_equals_tensorlayer_inference():
    model = tiny_model(seed=1)
    model.eval()
    rng = np.random.default_rng(1)
    for _ in range(4):
        enc = rng.integers(1, 7, (1, 5))
        ours, _ = greedy_decode(model, enc, START, END, max_reply_len=6)
        theirs = model(inputs=[enc], seq_length=6, start_token=START, top_n=None).numpy()[0]
        n = int(np.argmax(theirs == END)) + 1 if END in theirs else 6  # TL goes on after the end
        assert ours[0, :n].tolist() == theirs[:n].tolist()


def test_masked_loss_equals_keras_cross_entropy_on_real_tokens():
    rng = np.random.default_rng(2)
    logits = tf.constant(rng.normal(size=(2, 4, 7)), tf.float32)
    target = np.array([[4, 5, 3, 0], [6, 3, 0, 0]])
    mask = (target != 0).astype(np.float32)
    per_token = tf.keras.losses.sparse_categorical_crossentropy(target, logits, from_logits=True).numpy()
    oracle = (per_token * mask).sum() / mask.sum()
    loss = float(masked_sequence_loss(logits, target, mask))
    assert loss == pytest.approx(oracle, rel=1e-6)
    # what the model says at padded positions does not count
    noisy = logits.numpy()
    noisy[mask == 0] += 100 * rng.normal(size=noisy[mask == 0].shape)
    assert float(masked_sequence_loss(tf.constant(noisy), target, mask)) == pytest.approx(loss, rel=1e-6)


def _teacher_forced_score(model, enc, reply, ended):
    """log p(reply [+ end]) by feeding the reply to the decoder: the brute-force oracle."""
    tokens = [START] + list(reply)
    targets = list(reply) + ([END] if ended else [])
    states, score = encode(model, enc), 0.0
    for token, target in zip(tokens, targets):
        logits, states = decode_step(model, [token], states)
        score += float(tf.nn.log_softmax(logits)[0, target])
    return score


def test_beam_search_wide_enough_is_exact():
    model = tiny_model(vocabulary_size=6, seed=3)  # words: ids 4 and 5
    model.eval()
    enc = np.array([[0, 0, 4, 5, 4]])
    max_len = 3
    everything = [(reply, True) for k in range(max_len) for reply in itertools.product((4, 5), repeat=k)]
    everything += [(reply, False) for reply in itertools.product((4, 5), repeat=max_len)]
    oracle = sorted(((list(r), _teacher_forced_score(model, enc, r, e)) for r, e in everything),
                    key=lambda x: -x[1])
    best = beam_search(model, enc, START, END, max_len, beam_width=6 ** max_len, n_best=5,
                       banned_ids=(0, 1, START))  # pad, unk and start never in a reply
    assert [ids for ids, _ in best] == [ids for ids, _ in oracle[:5]]
    np.testing.assert_allclose([s for _, s in best], [s for _, s in oracle[:5]], atol=1e-5)
    assert len({tuple(ids) for ids, _ in best}) == 5  # distinct


def test_narrow_beam_finds_the_greedy_reply_or_better():
    model = tiny_model(vocabulary_size=9, seed=4)
    model.eval()
    enc = np.array([[0, 5, 6, 7, 8]])
    greedy_ids, greedy_score = greedy_decode(model, enc, START, END, max_reply_len=4)
    best = beam_search(model, enc, START, END, 4, beam_width=3, n_best=3)
    assert best[0][1] >= greedy_score[0] - 1e-6
    assert [s for _, s in best] == sorted((s for _, s in best), reverse=True)


def test_sampling_draws_the_same_words_as_tensorlayer_inference():
    model = tiny_model(seed=7)
    model.eval()
    enc = np.random.default_rng(7).integers(1, 7, (1, 5))
    greedy, _ = greedy_decode(model, enc, START, END, 6)
    replies = []
    for seed in range(4):
        np.random.seed(seed)
        ours, _ = sample_decode(model, enc, START, END, 6, top_n=3, rng=np.random)
        np.random.seed(seed)
        theirs = model(inputs=[enc], seq_length=6, start_token=START, top_n=3).numpy()[0]
        n = int(np.argmax(theirs == END)) + 1 if END in theirs else 6  # TL goes on after the end
        assert ours[0, :n].tolist() == theirs[:n].tolist()
        replies.append(ours[0, :n].tolist())
    assert any(r != greedy[0, :len(r)].tolist() for r in replies)  # sampling is not greedy here


def test_sampling_with_top_1_is_greedy():
    model = tiny_model(seed=5)
    model.eval()
    enc = np.random.default_rng(5).integers(1, 7, (3, 5))
    greedy_ids, greedy_scores = greedy_decode(model, enc, START, END, 5)
    ids, scores = sample_decode(model, enc, START, END, 5, top_n=1, rng=np.random.default_rng(0))
    assert ids.tolist() == greedy_ids.tolist()
    np.testing.assert_allclose(scores, greedy_scores, atol=1e-5)


def test_chatbot_encodes_queries_as_in_training_and_refuses_empty_ones():
    vocab = Vocabulary.build(["how are you", "fine"])
    model = get_seq2seq_model(len(vocab), decoder_seq_length=4, n_layer=1, n_units=8, emb_dim=4)
    bot = Chatbot(model, vocab, query_len=5, max_reply_len=4)
    enc, _, _, _ = make_arrays([vocab.encode("how are you")], [[]], vocab, 5, 4)
    assert bot.encode_query("How are you?").tolist() == enc.tolist()
    assert bot.encode_query("how are zebras")[0, -1] == vocab.unk_id
    with pytest.raises(UsageError, match="empty query"):
        bot.reply(" ?! ")
    replies = bot.reply("how are you", mode="beam", n_replies=2, beam_width=4)
    assert len(replies) == 2 and replies[0][1] >= replies[1][1]
    assert all(isinstance(w, str) for words, _ in replies for w in words)
    assert len(bot.reply("how are you", mode="sample", n_replies=3)) == 3


def test_unpadded_query_gives_another_encoder_state_than_the_padded_one():
    """Why dlbook pads queries the same way in training and chat (errata: chat-encoder-padding):
    TensorLayer's RNN runs over the padding, so the seq2seq-chatbot repository's end-padded training
    queries and its unpadded inference queries reach the decoder as different states."""
    model = tiny_model(seed=6)
    query = [4, 5, 6]
    unpadded = encode(model, np.array([query]))[-1][0].numpy()
    end_padded = encode(model, np.array([query + [0, 0]]))[-1][0].numpy()
    assert np.abs(unpadded - end_padded).max() > 1e-3
