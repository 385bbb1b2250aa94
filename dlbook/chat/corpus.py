"""Chatbot corpora: the embedded chatterbot-corpus, a query<TAB>reply TSV, and TensorLayer's format."""
import glob
import os

import numpy as np

from dlbook.files import safe_pickle
from dlbook.chat.vocab import END, PAD, START, UNK, Vocabulary
from dlbook.errors import DataError
from dlbook.files.safe_pickle import FreqDist  # noqa: F401  (the stand-in for nltk's, importable from here)


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
    idx_q, idx_a = (_read_ids(paths[name]) for name in ("idx_q.npy", "idx_a.npy"))
    metadata = safe_pickle.load(paths["metadata.pkl"], safe_pickle.TL_METADATA_GLOBALS,
                                what="TensorLayer chatbot metadata", fix="use the metadata.pkl that came with "
                                "idx_q.npy and idx_a.npy (TensorLayer's data/twitter format)")
    meta = paths["metadata.pkl"]
    if not isinstance(metadata, dict) or "idx2w" not in metadata:
        found = f"keys {sorted(map(str, metadata))}" if isinstance(metadata, dict) else f"a {type(metadata).__name__}"
        raise DataError(f"{meta} holds {found}, expected a dict with an 'idx2w' list (TensorLayer chatbot metadata)")
    words = metadata["idx2w"]
    if not isinstance(words, (list, tuple)) or not all(isinstance(w, str) for w in words):
        found = (f"a {type(words).__name__}" if not isinstance(words, (list, tuple)) else
                 f"a {type(next(w for w in words if not isinstance(w, str))).__name__} among the words")
        raise DataError(f"{meta}: 'idx2w' must be a list of words (strings), found {found}")
    if len(idx_q) != len(idx_a):
        raise DataError(f"{paths['idx_q.npy']} has {len(idx_q)} rows but {paths['idx_a.npy']} has {len(idx_a)}: "
                        "expected one reply row per query row")
    idx2w = list(words) + [w for w in (START, END) if w not in words]
    if not idx2w or idx2w[0] != PAD or UNK not in idx2w:
        raise DataError(f"{meta}: idx2w must start with the pad word {PAD!r} and "
                        f"contain {UNK!r}")
    vocab = Vocabulary(idx2w)
    n_words = len(words)
    for name, rows in (("idx_q.npy", idx_q), ("idx_a.npy", idx_a)):
        if rows.size and (rows.min() < 0 or rows.max() >= n_words):
            raise DataError(f"{paths[name]} has ids {rows.min()}..{rows.max()}, expected 0..{n_words - 1} "
                            f"(the size of idx2w in metadata.pkl)")
    query_ids = [[int(i) for i in row if i != 0] for row in idx_q]
    reply_ids = [[int(i) for i in row if i != 0] for row in idx_a]
    return query_ids, reply_ids, vocab


def _read_ids(path):
    """A 2-D integer array from a ``.npy`` file, read without unpickling anything."""
    try:
        rows = np.load(path, allow_pickle=False)
    except ValueError as exc:  # also numpy's "Object arrays cannot be loaded when allow_pickle=False"
        raise DataError(f"{path} is not a plain .npy array of word ids ({exc}); a corpus file from "
                        "elsewhere may not hold pickled objects") from None
    except (OSError, EOFError) as exc:
        raise DataError(f"{path} cannot be read as a .npy array ({exc})") from None
    if not isinstance(rows, np.ndarray) or rows.ndim != 2 or rows.dtype.kind not in "iu":
        found = f"{rows.dtype}{list(rows.shape)}" if isinstance(rows, np.ndarray) else type(rows).__name__
        raise DataError(f"{path} holds {found}, expected a 2-D integer array (rows of word ids)")
    return rows
