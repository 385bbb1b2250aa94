"""The 1.10.6 chatbot's data and inference: corpora, tokenizer, vocabulary, replies (names resolve lazily).

    from dlbook.chat import load_chatterbot_pairs, Vocabulary, make_arrays, load_chatbot
"""
from dlbook.lazy import lazy_exports

_EXPORTS = {
    # corpora
    "load_chatterbot_pairs": "dlbook.chat.corpus",
    "chatterbot_categories": "dlbook.chat.corpus",
    "read_tsv_pairs": "dlbook.chat.corpus",
    "load_tl_corpus": "dlbook.chat.corpus",
    # tokenizer, vocabulary, padded arrays
    "tokenize": "dlbook.chat.vocab",
    "Vocabulary": "dlbook.chat.vocab",
    "pad_query": "dlbook.chat.vocab",
    "make_arrays": "dlbook.chat.vocab",
    # inference
    "Chatbot": "dlbook.chat.inference",
    "greedy_decode": "dlbook.chat.inference",
    "sample_decode": "dlbook.chat.inference",
    "beam_search": "dlbook.chat.inference",
    # a trained chatbot on disk
    "load_chatbot": "dlbook.chat.store",
    "save_run_files": "dlbook.chat.store",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
