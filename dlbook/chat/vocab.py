"""Tokenizer, vocabulary and the padded arrays the Seq2seq chatbot trains on (no TensorFlow here)."""
import json
import os
import re
from collections import Counter

import numpy as np

from dlbook.errors import DataError
from dlbook.files.atomic import atomic_path

# A word is a run of letters/digits, optionally with inner apostrophes ("don't", "o'clock").
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")

PAD, UNK, START, END = "_", "unk", "start_id", "end_id"  # TL's seq2seq-chatbot repository's names
MAX_VOCABULARY = 10_000_000  # words in a vocabulary file; far above any corpus dlbook trains on


def tokenize(text):
    """Lower-case words of ``text``; punctuation is dropped. ``"Hi, how's it going?"`` ->
    ``['hi', "how's", 'it', 'going']``."""
    return _WORD.findall(str(text).lower().replace("\u2019", "'"))  # ’ as in "it’s"


def distinct_pairs(query_ids, reply_ids):
    """The (query ids, reply ids) pairs without repeats, in first-seen order.

    The chatterbot corpus repeats pairs: tech_support has 1,050 pairs but only 10 distinct ones.
    """
    pairs = dict.fromkeys((tuple(q), tuple(r)) for q, r in zip(query_ids, reply_ids))
    return [list(q) for q, _ in pairs], [list(r) for _, r in pairs]


MAX_VOCAB_BYTES = 512 * 2**20  # 10,000,000 words of up to ~50 bytes


class Vocabulary:
    """Words <-> ids, with the four special tokens pad, unk, start and end.

    ``idx2w`` is the list of words by id. The pad token must be id 0 (TensorLayer's
    ``sequences_get_mask`` and the TL corpus both use 0 for padding).
    """

    def __init__(self, idx2w, pad=PAD, unk=UNK, start=START, end=END):
        self.idx2w = list(idx2w)
        self.w2idx = {w: i for i, w in enumerate(self.idx2w)}
        if len(self.w2idx) != len(self.idx2w):
            repeated = next(w for i, w in enumerate(self.idx2w) if self.w2idx[w] != i)
            raise DataError(f"vocabulary has duplicate words (idx2w holds {repeated!r} more than once); "
                            f"each word must appear once in idx2w")
        missing = [t for t in (pad, unk, start, end) if t not in self.w2idx]
        if missing:
            raise DataError(f"vocabulary lacks the special token(s) {missing}; "
                            f"build it with Vocabulary.build or add them to idx2w")
        if self.w2idx[pad] != 0:
            raise DataError(f"the pad token {pad!r} must have id 0, it has {self.w2idx[pad]}")
        self.pad, self.unk, self.start, self.end = pad, unk, start, end
        self.pad_id, self.unk_id = 0, self.w2idx[unk]
        self.start_id, self.end_id = self.w2idx[start], self.w2idx[end]

    @classmethod
    def build(cls, texts, min_count=1, max_size=None):
        """Vocabulary of the words in ``texts`` (strings or word lists) seen at least ``min_count``
        times, most frequent first (ties alphabetical), at most ``max_size`` ids including the 4
        specials."""
        counts = Counter(w for text in texts for w in (tokenize(text) if isinstance(text, str) else text))
        specials = [PAD, UNK, START, END]
        words = sorted((w for w, n in counts.items() if n >= min_count and w not in specials),
                       key=lambda w: (-counts[w], w))
        if max_size is not None:
            words = words[:max(0, max_size - len(specials))]
        return cls(specials + words)

    def __len__(self):
        return len(self.idx2w)

    def encode(self, text_or_words):
        """Ids of the words of a text (or of a list of words); unknown words become unk."""
        words = tokenize(text_or_words) if isinstance(text_or_words, str) else text_or_words
        return [self.w2idx.get(w, self.unk_id) for w in words]

    def decode(self, ids):
        """Words of ``ids`` up to (not including) the first end token; pads are skipped."""
        words = []
        for i in ids:
            i = int(i)
            if i == self.end_id:
                break
            if i != self.pad_id:
                words.append(self.idx2w[i])
        return words

    def to_json(self):
        return {"idx2w": self.idx2w, "pad": self.pad, "unk": self.unk,
                "start": self.start, "end": self.end}

    @classmethod
    def from_json(cls, data):
        return cls(data["idx2w"], data["pad"], data["unk"], data["start"], data["end"])

    def save(self, path):
        """Write the vocabulary as JSON, atomically."""
        write_json(path, self.to_json())

    @classmethod
    def load(cls, path):
        """The vocabulary in the JSON file ``path``, each field checked (type and range).

        Raises DataError naming the file and the field when the file is missing, not JSON, or a
        field is absent or of the wrong kind; JSON holds only data, so nothing in it can run.
        """
        from dlbook.files.schema import read_json
        if not os.path.lexists(path):
            raise DataError(f"vocabulary file not found: {path}")
        data = read_json(path, MAX_VOCAB_BYTES, error=DataError)  # a regular file, size and depth bounded
        try:
            return cls.from_json(_checked_vocab_json(data))
        except DataError as exc:
            raise DataError(f"vocabulary file {path}: {exc}") from None


def _describe(value):
    text = repr(value)
    return f"{text[:40]}{'...' if len(text) > 40 else ''} ({type(value).__name__})"


def _checked_vocab_json(data):
    """``data`` when it is a dlbook vocabulary (see :meth:`Vocabulary.to_json`), else a DataError
    naming the first field that is wrong, what was expected and what was found."""
    if not isinstance(data, dict):
        raise DataError(f"expected a JSON object with fields idx2w, pad, unk, start, end; found {_describe(data)}")
    missing = [k for k in ("idx2w", "pad", "unk", "start", "end") if k not in data]
    if missing:
        raise DataError(f"field{'s' if len(missing) > 1 else ''} {', '.join(missing)} missing: "
                        f"not a dlbook vocabulary")
    words = data["idx2w"]
    if not isinstance(words, list):
        raise DataError(f"field 'idx2w' must be a list of words, found {_describe(words)}")
    if not 4 <= len(words) <= MAX_VOCABULARY:
        raise DataError(f"field 'idx2w' must hold 4 to {MAX_VOCABULARY:,} words (the 4 special tokens "
                        f"first), found {len(words):,}")
    for i, word in enumerate(words):
        if not isinstance(word, str) or not word:
            raise DataError(f"field 'idx2w' must hold non-empty strings, found {_describe(word)} at index {i}")
    for key in ("pad", "unk", "start", "end"):
        if not isinstance(data[key], str):
            raise DataError(f"field {key!r} must be a word (a string), found {_describe(data[key])}")
        if data[key] not in words:
            raise DataError(f"field {key!r} is {data[key]!r}, which is not in idx2w")
    return data


def write_json(path, data):
    """Write ``data`` as JSON to ``path`` atomically (``dlbook.files.atomic.atomic_path``)."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, ensure_ascii=False)


def pad_query(ids, query_len, pad_id=0):
    """Left-pad (or cut to the first ``query_len`` ids) one encoded query."""
    ids = list(ids)[:query_len]
    return [pad_id] * (query_len - len(ids)) + ids  # errata: chat-encoder-padding


def make_arrays(query_ids, reply_ids, vocab, query_len, decoder_seq_length):
    """Encoder inputs, decoder inputs, targets and masks for lists of encoded pairs.

    Returns four arrays of shape [N, query_len] (int32) and [N, decoder_seq_length]
    (int32, int32, float32). Replies longer than ``decoder_seq_length - 1`` words keep their
    first words, so the start and end tokens are always there.
    """
    n = len(query_ids)
    if n != len(reply_ids):
        raise DataError(f"{n} queries but {len(reply_ids)} replies; they must pair up")
    enc = np.zeros((n, query_len), np.int32)
    dec = np.zeros((n, decoder_seq_length), np.int32)
    target = np.zeros((n, decoder_seq_length), np.int32)
    for k, (q, r) in enumerate(zip(query_ids, reply_ids)):
        enc[k] = pad_query(q, query_len, vocab.pad_id)
        r = list(r)[:decoder_seq_length - 1]  # errata: chat-reply-truncation
        dec[k, :len(r) + 1] = [vocab.start_id] + r
        target[k, :len(r) + 1] = r + [vocab.end_id]
    mask = (target != vocab.pad_id).astype(np.float32)
    return enc, dec, target, mask
