"""1.10.6 chatbot data: tokenizer, vocabulary, padded arrays and masks, the three corpus readers."""
import json
import pickle
import sys
import types
from collections import Counter

import numpy as np
import pytest

from dlbook.chat.corpus import (chatterbot_categories, load_chatterbot_pairs, load_tl_corpus,
                                read_tsv_pairs)
from dlbook.chat.store import read_config
from dlbook.chat.vocab import Vocabulary, make_arrays, pad_query, tokenize
from dlbook.errors import CheckpointError, DataError


def test_tokenize_lowercases_and_drops_punctuation():
    assert tokenize("Hi, How's it going?") == ["hi", "how's", "it", "going"]
    assert tokenize("  ...!? ") == []
    assert tokenize("C3PO_and R2-D2") == ["c3po", "and", "r2", "d2"]


def test_vocabulary_is_deterministic_with_specials_first():
    texts = ["b a a", "c b a"]
    vocab = Vocabulary.build(texts)
    assert vocab.idx2w == ["_", "unk", "start_id", "end_id", "a", "b", "c"]  # by count, then a-z
    assert Vocabulary.build(list(reversed(texts))).idx2w == vocab.idx2w
    assert (vocab.pad_id, vocab.unk_id, vocab.start_id, vocab.end_id) == (0, 1, 2, 3)
    assert Vocabulary.build(texts, min_count=2).idx2w[4:] == ["a", "b"]
    assert len(Vocabulary.build(texts, max_size=5)) == 5


def test_unknown_words_map_to_unk_and_decode_stops_at_end():
    vocab = Vocabulary.build(["hello world"])
    ids = vocab.encode("Hello, strange world")
    assert ids == [vocab.w2idx["hello"], vocab.unk_id, vocab.w2idx["world"]]
    assert vocab.decode(ids + [vocab.end_id, vocab.w2idx["hello"]]) == ["hello", "unk", "world"]
    assert vocab.decode([0, vocab.w2idx["world"], 0]) == ["world"]


def test_vocabulary_round_trips_through_json(tmp_path):
    vocab = Vocabulary.build(["one two two"])
    vocab.save(tmp_path / "vocab.json")
    assert Vocabulary.load(tmp_path / "vocab.json").idx2w == vocab.idx2w
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(DataError, match="not a dlbook vocabulary"):
        Vocabulary.load(tmp_path / "bad.json")


def test_vocabulary_rejects_pad_not_at_zero():
    with pytest.raises(DataError, match="must have id 0"):
        Vocabulary(["unk", "_", "start_id", "end_id"])


def test_arrays_shift_pad_and_mask():
    vocab = Vocabulary.build(["how are you", "i am fine"])
    w = vocab.w2idx
    enc, dec, target, mask = make_arrays([vocab.encode("how are you")], [vocab.encode("i am fine")],
                                         vocab, query_len=5, decoder_seq_length=6)
    assert enc.tolist() == [[0, 0, w["how"], w["are"], w["you"]]]  # left-padded
    assert dec.tolist() == [[vocab.start_id, w["i"], w["am"], w["fine"], 0, 0]]
    assert target.tolist() == [[w["i"], w["am"], w["fine"], vocab.end_id, 0, 0]]
    assert mask.tolist() == [[1, 1, 1, 1, 0, 0]] and mask.dtype == np.float32
    # the decoder input is the target shifted right by one, behind the start token
    assert (dec[:, 1:4] == target[:, 0:3]).all()


def test_long_replies_keep_start_and_end_and_long_queries_are_cut():
    vocab = Vocabulary.build(["a b c d e f g"])
    ids = vocab.encode("a b c d e f g")
    enc, dec, target, mask = make_arrays([ids], [ids], vocab, query_len=3, decoder_seq_length=4)
    assert enc.tolist() == [ids[:3]]
    assert dec[0, 0] == vocab.start_id and target[0, -1] == vocab.end_id
    assert target[0, :3].tolist() == ids[:3] and mask.sum() == 4
    assert pad_query([], 2) == [0, 0]


def test_chatterbot_corpus_is_embedded():
    categories = chatterbot_categories()
    assert {"greetings", "conversations", "ai"} <= set(categories)
    pairs = load_chatterbot_pairs(["greetings"])
    assert pairs[0] == ("Hello", "Hi") and len(pairs) > 20
    assert len(load_chatterbot_pairs()) == 2393  # chatterbot-corpus 1.3.3, consecutive lines
    with pytest.raises(DataError, match="unknown chatterbot-corpus categories"):
        load_chatterbot_pairs(["no-such-category"])


def test_tsv_reader(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("hello there\thi\n\nhow are you?\tfine, thanks\n", encoding="utf-8")
    assert read_tsv_pairs(path) == [("hello there", "hi"), ("how are you?", "fine, thanks")]
    path.write_text("hello\thi\nno tab here\n")
    with pytest.raises(DataError, match=r"pairs.tsv:2: expected 'query<TAB>reply'"):
        read_tsv_pairs(path)
    with pytest.raises(DataError, match="not found"):
        read_tsv_pairs(tmp_path / "missing.tsv")


def _write_tl_corpus(directory, idx2w, rows_q, rows_a, monkeypatch, freq_counts=None):
    """The TensorLayer chatbot files; metadata.pkl pickles an ``nltk.probability.FreqDist`` as the
    real Twitter one does, made here with a stand-in module that is gone before anything reads it."""
    np.save(directory / "idx_q.npy", np.array(rows_q))
    np.save(directory / "idx_a.npy", np.array(rows_a))
    with monkeypatch.context() as patch:
        module = types.ModuleType("nltk.probability")
        module.FreqDist = type("FreqDist", (Counter,), {"__module__": "nltk.probability"})
        patch.setitem(sys.modules, "nltk", types.ModuleType("nltk"))
        patch.setitem(sys.modules, "nltk.probability", module)
        metadata = {"w2idx": {w: i for i, w in enumerate(idx2w)}, "idx2w": idx2w, "limit": {},
                    "freq_dist": module.FreqDist(freq_counts or {})}
        (directory / "metadata.pkl").write_bytes(pickle.dumps(metadata))


def test_tensorlayer_corpus_with_nltk_freqdist_reads_without_nltk(tmp_path, monkeypatch):
    idx2w = ["_", "unk", "happy", "birthday", "thank", "you"]
    _write_tl_corpus(tmp_path, idx2w, [[2, 3, 0, 0]], [[4, 5, 0, 0]], monkeypatch, {"happy": 3})
    assert b"nltk.probability" in (tmp_path / "metadata.pkl").read_bytes()
    monkeypatch.setitem(sys.modules, "nltk", None)  # any import of nltk now fails
    queries, replies, vocab = load_tl_corpus(tmp_path)
    assert queries == [[2, 3]] and replies == [[4, 5]]
    # the book appends start_id and end_id after idx2w
    assert vocab.idx2w == idx2w + ["start_id", "end_id"]
    assert (vocab.start_id, vocab.end_id, vocab.unk_id, vocab.pad_id) == (6, 7, 1, 0)


def test_tensorlayer_corpus_errors(tmp_path, monkeypatch):
    with pytest.raises(DataError, match="missing .*idx_q.npy"):
        load_tl_corpus(tmp_path)
    _write_tl_corpus(tmp_path, ["_", "unk", "a"], [[2, 9]], [[2, 0]], monkeypatch)
    with pytest.raises(DataError, match=r"idx_q.npy has ids 2..9, expected 0..2"):
        load_tl_corpus(tmp_path)
    # metadata that would run code is refused
    (tmp_path / "metadata.pkl").write_bytes(pickle.dumps({"idx2w": ["_"], "x": types.SimpleNamespace()}))
    with pytest.raises(DataError, match=r"metadata.pkl refers to types.SimpleNamespace, which such a file never holds"):
        load_tl_corpus(tmp_path)


# ---------------------------------------------------------------- chatbot folders from elsewhere
GOOD_CONFIG = {"vocabulary_size": 7, "decoder_seq_length": 5, "n_layer": 1, "n_units": 8, "embedding_size": 8,
               "query_len": 5, "losses": [2.5]}


@pytest.mark.parametrize("field, value, found", [
    ("n_units", "8", '"8" (str)'),
    ("n_units", 8.0, "8.0 (float)"),
    ("n_layer", True, "true (bool)"),
    ("n_layer", 0, "0 (int)"),
    ("embedding_size", -3, "-3 (int)"),
    ("vocabulary_size", 10 ** 12, "1000000000000 (int)"),
    ("query_len", None, "null (NoneType)"),
    ("decoder_seq_length", [5], "[5] (list)"),
])
def test_config_fields_are_checked_by_type_and_range(tmp_path, field, value, found):
    (tmp_path / "config.json").write_text(json.dumps({**GOOD_CONFIG, field: value}))
    with pytest.raises(CheckpointError) as info:
        read_config(tmp_path)
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'config.json'}: field {field!r} must be an integer from ")
    assert message.endswith(f", found {found}")


def test_config_that_is_not_an_object_or_lacks_fields(tmp_path):
    (tmp_path / "config.json").write_text("[1, 2]")
    with pytest.raises(CheckpointError, match=r"config.json holds a JSON list, expected an object"):
        read_config(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({k: v for k, v in GOOD_CONFIG.items() if k != "n_units"}))
    with pytest.raises(CheckpointError, match=r"config.json lacks n_units: not a dlbook chatbot config"):
        read_config(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps(GOOD_CONFIG))
    assert read_config(tmp_path) == GOOD_CONFIG


def test_checkpoint_given_as_a_file_names_its_folder(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(GOOD_CONFIG))
    (tmp_path / "model.h5").write_bytes(b"weights")
    with pytest.raises(CheckpointError) as info:
        read_config(tmp_path / "model.h5")
    message = str(info.value)
    assert message == (f"{tmp_path / 'model.h5'} is a file, not a chatbot folder: give the folder that holds "
                       f"config.json, vocab.json and model.h5; the folder that holds it, {tmp_path}, has one")
    assert "--output-dir" not in message


VOCAB = {"idx2w": ["_", "unk", "start_id", "end_id", "hello"], "pad": "_", "unk": "unk", "start": "start_id",
         "end": "end_id"}


@pytest.mark.parametrize("change, expected", [
    ({"idx2w": "_ unk start_id end_id"}, "field 'idx2w' must be a list of words, found '_ unk start_id end_id' (str)"),
    ({"idx2w": ["_", "unk", "start_id", "end_id", 7]}, "field 'idx2w' must hold non-empty strings, found 7 (int) "
                                                       "at index 4"),
    ({"idx2w": ["_", "unk", "start_id"]}, "field 'idx2w' must hold 4 to 10,000,000 words"),
    ({"pad": 0}, "field 'pad' must be a word (a string), found 0 (int)"),
    ({"end": "eos"}, "field 'end' is 'eos', which is not in idx2w"),
    ({"idx2w": ["_", "unk", "start_id", "end_id", "unk"]}, "idx2w holds 'unk' more than once"),
    ({"idx2w": ["unk", "_", "start_id", "end_id"]}, "the pad token '_' must have id 0, it has 1"),
    (None, "expected a JSON object with fields idx2w, pad, unk, start, end; found ['_'] (list)"),
])
def test_vocab_fields_are_checked(tmp_path, change, expected):
    path = tmp_path / "vocab.json"
    path.write_text(json.dumps(["_"] if change is None else {**VOCAB, **change}))
    with pytest.raises(DataError) as info:
        Vocabulary.load(path)
    message = str(info.value)
    assert message.startswith(f"vocabulary file {path}: ") and expected in message, message


def test_vocab_missing_fields_and_bad_json(tmp_path):
    path = tmp_path / "vocab.json"
    path.write_text('{"idx2w": ["_"]}')
    with pytest.raises(DataError, match=r"vocab.json: fields pad, unk, start, end missing: not a dlbook vocabulary"):
        Vocabulary.load(path)
    path.write_bytes(b"\xff\xfe not json")
    with pytest.raises(DataError, match=r"vocab.json is not valid JSON"):
        Vocabulary.load(path)
