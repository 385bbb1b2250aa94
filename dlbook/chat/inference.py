"""Replies from a trained Seq2seq chatbot: greedy, top-n sampling (errata: tl-seq2seq-top-n), and beam search."""
import numpy as np

from dlbook.chat.vocab import pad_query
from dlbook.compat import sample_top_n
from dlbook.errors import UsageError
from dlbook.models.seq2seq import decode_step, encode, gather_states

MODES = ("greedy", "sample", "beam")


def _log_softmax(logits):
    logits = np.asarray(logits, np.float64)
    return logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)


def _decode(model, encoder_ids, start_id, end_id, max_reply_len, choose):
    """Decode a batch word by word with ``choose(step, logits) -> ids``; stop at the end token.

    Returns (ids [batch, max_reply_len], scores [batch]); after a row's end token its ids are
    ``end_id`` and its score stops growing.
    """
    batch = len(encoder_ids)
    states = encode(model, encoder_ids)
    tokens = np.full(batch, start_id, np.int64)
    ids = np.full((batch, max_reply_len), end_id, np.int64)
    scores = np.zeros(batch)
    done = np.zeros(batch, bool)
    for step in range(max_reply_len):
        logits, states = decode_step(model, tokens, states)
        logits = logits.numpy()
        tokens = choose(step, logits)
        scores += np.where(done, 0.0, _log_softmax(logits)[np.arange(batch), tokens])
        ids[:, step] = np.where(done, end_id, tokens)
        done |= tokens == end_id
        if done.all():
            break
    return ids, scores


def greedy_decode(model, encoder_ids, start_id, end_id, max_reply_len):
    """Greedy replies for a batch: (ids [batch, max_reply_len], scores [batch])."""
    return _decode(model, encoder_ids, start_id, end_id, max_reply_len,
                   lambda step, logits: logits.argmax(-1))


def sample_decode(model, encoder_ids, start_id, end_id, max_reply_len, top_n, rng):
    """One top-n sampled reply per batch row: (ids [batch, max_reply_len], scores [batch]).

    As the book: the first word is the argmax; later words are drawn from the softmax over the
    ``top_n`` largest logits (``rng``: a ``numpy.random.Generator``, or ``np.random`` to draw the
    same words as ``Seq2seq.inference`` after the same ``np.random.seed``).
    """
    def choose(step, logits):
        if step == 0:
            return logits.argmax(-1)
        return np.array([sample_top_n(row, top_n, rng) for row in logits])

    return _decode(model, encoder_ids, start_id, end_id, max_reply_len, choose)


def beam_search(model, encoder_ids, start_id, end_id, max_reply_len, beam_width, n_best,
                banned_ids=()):
    """The ``n_best`` most likely distinct replies to ONE query (``encoder_ids`` [1, steps]).

    Returns a list of (ids, score), best first; ``ids`` exclude the end token. A hypothesis is
    finished when it emits the end token, or is cut at ``max_reply_len`` words (score without
    the end token). ``banned_ids`` (e.g. pad and start) are never chosen. The search is exact
    when ``beam_width`` >= vocabulary_size ** (max_reply_len - 1).
    """
    beam_width = max(beam_width, n_best)
    states = encode(model, encoder_ids)
    beams = [((), 0.0)]  # (ids so far, score)
    finished = []
    for step in range(max_reply_len):
        tokens = [ids[-1] if ids else start_id for ids, _ in beams]
        logits, states = decode_step(model, tokens, states)
        logp = _log_softmax(logits)
        logp[:, list(banned_ids)] = -np.inf
        vocabulary_size = logp.shape[-1]
        total = np.array([score for _, score in beams])[:, None] + logp
        live = []
        for flat in np.argsort(-total, axis=None, kind="stable"):
            row, token = divmod(int(flat), vocabulary_size)
            score = float(total[row, token])
            if not np.isfinite(score):
                break
            if token == end_id:
                finished.append((beams[row][0], score))
            else:
                live.append((row, beams[row][0] + (token,), score))
                if len(live) == beam_width:
                    break
        if step == max_reply_len - 1:
            finished.extend((ids, score) for _, ids, score in live)
        finished.sort(key=lambda f: -f[1])
        # Log-probabilities only decrease: stop when no live hypothesis can beat the n_best-th reply.
        if not live or (len(finished) >= n_best and live[0][2] <= finished[n_best - 1][1]):
            break
        states = gather_states(states, [row for row, _, _ in live])
        beams = [(ids, score) for _, ids, score in live]
    return [(list(ids), score) for ids, score in finished[:n_best]]


class Chatbot:
    """A trained model with its vocabulary: ``reply(text)`` gives a list of (words, score)."""

    def __init__(self, model, vocab, query_len, max_reply_len):
        self.model, self.vocab = model, vocab
        self.query_len, self.max_reply_len = query_len, max_reply_len

    def encode_query(self, text):
        """[1, query_len] encoder ids for ``text`` (unknown words -> unk); an empty query is an error."""
        ids = self.vocab.encode(text)
        if not ids:
            raise UsageError("empty query: type a few words (punctuation alone is ignored)")
        return np.array([pad_query(ids, self.query_len, self.vocab.pad_id)], np.int32)

    def reply(self, text, mode="sample", n_replies=3, top_n=3, beam_width=5, rng=None):
        """Replies to ``text``: one for greedy, ``n_replies`` samples or best beam hypotheses."""
        if mode not in MODES:
            raise UsageError(f"unknown reply mode {mode!r}; choose one of {', '.join(MODES)}")
        enc = self.encode_query(text)
        v = self.vocab
        self.model.eval()
        if mode == "greedy":
            ids, scores = greedy_decode(self.model, enc, v.start_id, v.end_id, self.max_reply_len)
            return [(v.decode(ids[0]), float(scores[0]))]
        if mode == "sample":
            rng = rng if rng is not None else np.random.default_rng()
            ids, scores = sample_decode(self.model, np.repeat(enc, n_replies, 0), v.start_id, v.end_id,
                                        self.max_reply_len, min(top_n, len(v)), rng)
            return [(v.decode(row), float(s)) for row, s in zip(ids, scores)]
        best = beam_search(self.model, enc, v.start_id, v.end_id, self.max_reply_len, beam_width,
                           n_replies, banned_ids=(v.pad_id, v.start_id))
        return [(v.decode(ids), score) for ids, score in best]
