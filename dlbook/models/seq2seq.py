"""The GRU Seq2seq chatbot model of section 1.10.6, built with TensorLayer's ``Seq2seq`` as printed."""
from dlbook.compat import tl
import tensorflow as tf
from tensorlayer.models import Seq2seq


def get_seq2seq_model(vocabulary_size, decoder_seq_length=20, n_layer=3, n_units=256, emb_dim=1024):
    """The book's chatbot: ``Seq2seq`` with GRU cells for the encoder and the decoder.

    ``n_layer=3`` and ``n_units=256`` are printed in the chapter. ``decoder_seq_length``,
    ``vocabulary_size`` and ``emb_dim`` are names the printed call passes without giving their
    values; the defaults 20 and 1024 are those of TensorLayer's seq2seq-chatbot repository, and
    the vocabulary comes from the data. The returned TensorLayer model must be put in
    ``train()``/``eval()`` mode before it is called.
    """
    # Seq2seq model
    model_ = Seq2seq(
        decoder_seq_length=decoder_seq_length,  # the decoder's training length (errata seq2seq-call-comments)
        cell_enc=tf.keras.layers.GRUCell,
        cell_dec=tf.keras.layers.GRUCell,
        n_layer=n_layer,  # book: n_layer=3,
        n_units=n_units,  # book: n_units=256,
        embedding_layer=tl.layers.Embedding(vocabulary_size=vocabulary_size,
                                            embedding_size=emb_dim),  # shared by encoder and decoder
    )
    return model_


def masked_sequence_loss(logits, target_seqs, target_mask):
    """Mean cross-entropy over the positions where ``target_mask`` is 1 (TensorLayer's
    ``cross_entropy_seq_with_mask``, as TensorLayer's seq2seq-chatbot repository trains the
    model; the chapter prints no training code). ``logits``: [batch, steps, vocabulary]."""
    vocabulary_size = logits.shape[-1]
    return tl.cost.cross_entropy_seq_with_mask(
        logits=tf.reshape(logits, [-1, vocabulary_size]), target_seqs=target_seqs,
        input_mask=target_mask, return_details=False)


def encode(model, encoder_ids):
    """The encoder's final state of each layer for ``encoder_ids`` [batch, steps] (a list of
    per-layer states, each a list of [batch, n_units] tensors)."""
    # Layers are run through .forward: TensorLayer's Layer.__call__ would record graph nodes.
    output = model.embedding_layer.forward(tf.convert_to_tensor(encoder_ids))
    states = []
    for layer in model.enc_layers:
        output, state = layer.forward(output, return_state=True)
        states.append(state)
    return states


def decode_step(model, tokens, states):
    """One decoder step: ``tokens`` [batch] ids and per-layer ``states`` -> (logits [batch,
    vocabulary], new states). Same layers and order as ``Seq2seq.forward``/``inference``."""
    output = model.embedding_layer.forward(tf.reshape(tf.convert_to_tensor(tokens), [-1, 1]))
    new_states = []
    for layer, state in zip(model.dec_layers, states):
        output, state = layer.forward(output, initial_state=state, return_state=True)
        new_states.append(state)
    logits = model.dense_layer.forward(model.reshape_layer.forward(output))
    return logits, new_states


def gather_states(states, indices):
    """Reorder the batch rows of per-layer states (beam search keeps the best hypotheses)."""
    return [[tf.gather(s, indices) for s in layer_state] for layer_state in states]
