"""Chatbot corpora: the embedded chatterbot-corpus, a query<TAB>reply TSV, and TensorLayer's format.

- :func:`load_chatterbot_pairs`: the English YAML conversations of the ``chatterbot-corpus``
  package (BSD licence, installed from PyPI with dlbook, nothing downloaded at run time). Each
  two consecutive lines of a conversation make one (query, reply) pair: 2,393 pairs in all.
- :func:`read_tsv_pairs`: a plain text file with one ``query<TAB>reply`` per line.
- :func:`load_tl_corpus`: the TensorLayer seq2seq-chatbot format used by the book
  (``idx_q.npy``, ``idx_a.npy``, ``metadata.pkl`` with ``w2idx``/``idx2w``), read without
  nltk even though the real Twitter ``metadata.pkl`` pickles an ``nltk.FreqDist``.
"""
import glob
import os
import pickle
from collections import Counter

import numpy as np

from dlbook.chat.vocab import END, PAD, START, UNK, Vocabulary
from dlbook.errors import DataError


def chatterbot_dir(language="english"):
    """The folder of the installed chatterbot-corpus YAML files for ``language``."""
    try:
        import chatterbot_corpus
    except ImportError:
        raise DataError("the chatterbot-corpus package is not installed; "
                        "run `pip install chatterbot-corpus==1.3.3` (a dlbook dependency)") from None
    path = os.path.join(os.path.dirname(chatterbot_corpus.__file__), "data", language)
    if not os.path.isdir(path):
        raise DataError(f"chatterbot-corpus has no language {language!r} (looked in {path})")
    return path


def chatterbot_categories(language="english"):
    """Names of the corpus files (categories), sorted: ``['ai', 'botprofile', ...]``."""
    return sorted(os.path.splitext(os.path.basename(p))[0]
                  for p in glob.glob(os.path.join(chatterbot_dir(language), "*.yml")))


def load_chatterbot_pairs(categories=None, language="english"):
    """(query, reply) pairs from consecutive lines of the corpus conversations, in file order.

    ``categories``: a list of category names (default: all of them, sorted by name).
    """
    import yaml

    known = chatterbot_categories(language)
    categories = known if categories is None else list(categories)
    unknown = [c for c in categories if c not in known]
    if unknown:
        raise DataError(f"unknown chatterbot-corpus categories {unknown}; known: {', '.join(known)}")
    pairs = []
    for name in categories:
        path = os.path.join(chatterbot_dir(language), f"{name}.yml")
        with open(path, encoding="utf-8") as f:
            data = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # C parser: 10x faster
        for conversation in data.get("conversations") or []:
            lines = [str(line) for line in conversation]
            pairs.extend(zip(lines, lines[1:]))
    return pairs


def read_tsv_pairs(path):
    """(query, reply) pairs from a UTF-8 file with one ``query<TAB>reply`` per line.

    Blank lines are skipped; any other line without exactly one tab is an error naming the line.
    """
    pairs = []
    try:
        f = open(path, encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"TSV corpus not found: {path}") from None
    with f:
        try:
            for number, line in enumerate(f, 1):
                line = line.rstrip("\r\n")
                if not line.strip():
                    continue
                fields = line.split("\t")
                if len(fields) != 2 or not fields[0].strip() or not fields[1].strip():
                    raise DataError(f"{path}:{number}: expected 'query<TAB>reply', got {line[:60]!r}")
                pairs.append((fields[0], fields[1]))
        except UnicodeDecodeError:
            raise DataError(f"TSV corpus {path} is not UTF-8 text: convert it first, e.g. "
                            f"iconv -f latin1 -t utf-8 {path} > corpus-utf8.tsv") from None
    if not pairs:
        raise DataError(f"TSV corpus {path} has no query<TAB>reply lines")
    return pairs


class FreqDist(Counter):
    """Stand-in for ``nltk.probability.FreqDist`` (a Counter subclass) when unpickling metadata."""


class _MetadataUnpickler(pickle.Unpickler):
    """Unpickles only plain data and nltk's FreqDist: a corpus file cannot run code."""

    _ALLOWED = {("collections", "Counter"), ("collections", "OrderedDict"),
                ("collections", "defaultdict"), ("builtins", "set"), ("builtins", "frozenset"),
                ("builtins", "list"), ("builtins", "dict"), ("builtins", "tuple")}

    def find_class(self, module, name):
        if module.startswith("nltk") and name == "FreqDist":
            return FreqDist
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        if module.startswith("numpy"):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"metadata.pkl refers to {module}.{name}, which is not plain data")


def load_tl_corpus(directory):
    """Read the TensorLayer seq2seq-chatbot corpus in ``directory``.

    Returns ``(query_ids, reply_ids, vocab)``: lists of id lists (the zero padding of
    ``idx_q``/``idx_a`` removed) and a :class:`Vocabulary` whose words are ``idx2w`` followed by
    ``start_id`` and ``end_id``, as the book adds them (pad ``_`` = 0, ``unk``).
    """
    paths = {name: os.path.join(directory, name) for name in ("idx_q.npy", "idx_a.npy", "metadata.pkl")}
    missing = [p for p in paths.values() if not os.path.isfile(p)]
    if missing:
        raise DataError(f"TensorLayer chatbot corpus incomplete: missing {', '.join(missing)} "
                        "(expected idx_q.npy, idx_a.npy and metadata.pkl in one folder)")
    try:
        idx_q = np.load(paths["idx_q.npy"], allow_pickle=False)
        idx_a = np.load(paths["idx_a.npy"], allow_pickle=False)
        with open(paths["metadata.pkl"], "rb") as f:
            metadata = _MetadataUnpickler(f, encoding="latin1").load()
    except (ValueError, OSError, EOFError, pickle.UnpicklingError) as exc:
        raise DataError(f"cannot read the TensorLayer chatbot corpus in {directory}: {exc}") from None
    if not isinstance(metadata, dict) or "idx2w" not in metadata:
        raise DataError(f"{paths['metadata.pkl']} has no 'idx2w' list (TensorLayer chatbot metadata)")
    if idx_q.ndim != 2 or idx_a.ndim != 2 or len(idx_q) != len(idx_a):
        raise DataError(f"idx_q.npy {idx_q.shape} and idx_a.npy {idx_a.shape} must be 2-D with the same rows")
    idx2w = [str(w) for w in metadata["idx2w"]] + [w for w in (START, END) if w not in metadata["idx2w"]]
    if not idx2w or idx2w[0] != PAD or UNK not in idx2w:
        raise DataError(f"{paths['metadata.pkl']}: idx2w must start with the pad word {PAD!r} and "
                        f"contain {UNK!r}")
    vocab = Vocabulary(idx2w)
    n_words = len(metadata["idx2w"])
    for name, rows in (("idx_q.npy", idx_q), ("idx_a.npy", idx_a)):
        if rows.size and (rows.min() < 0 or rows.max() >= n_words):
            raise DataError(f"{name} has ids outside 0..{n_words - 1} (the size of idx2w)")
    query_ids = [[int(i) for i in row if i != 0] for row in idx_q]
    reply_ids = [[int(i) for i in row if i != 0] for row in idx_a]
    return query_ids, reply_ids, vocab
