"""The chapter's models, importable into your own TensorFlow code (names resolve lazily from ``_EXPORTS``).

    from dlbook.models import get_mlp_model, MLPModel, get_model_batchnorm
"""
from dlbook.lazy import lazy_exports

import dlbook.compat  # noqa: F401  (TensorLayer fixes first)

_EXPORTS = {
    # 1.10.2 / 1.10.4: the MLP, static (Listing 1.3) and dynamic (Listing 1.4)
    "get_mlp_model": "dlbook.models.mlp",
    "MLPModel": "dlbook.models.mlp",
    # 1.10.5: the BatchNorm CNN for CIFAR-10
    "get_model_batchnorm": "dlbook.models.cnn",
    # 1.10.6: the GRU Seq2seq chatbot
    "get_seq2seq_model": "dlbook.models.seq2seq",
    "masked_sequence_loss": "dlbook.models.seq2seq",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
