"""Cited extractive answers from a folder of news articles.

    from qa import ask
    a = ask("Who accepted the pledge and when?")
    print(a.text)

The names below are loaded on first use, so importing one light module of the package
(the sentence splitter, the span decoder) does not load FAISS, BM25 and the pipeline:
that is what lets `train.reader` run on a machine that has only torch.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qa.api import ask, build_index, warm_up
    from qa.config import Settings
    from qa.errors import CorpusError, ModelError, QAError
    from qa.types import Answer, Citation

_HOMES = {
    "ask": "qa.api", "build_index": "qa.api", "warm_up": "qa.api", "Settings": "qa.config",
    "CorpusError": "qa.errors", "ModelError": "qa.errors", "QAError": "qa.errors",
    "Answer": "qa.types", "Citation": "qa.types",
}
__all__ = ["Answer", "Citation", "CorpusError", "ModelError", "QAError", "Settings", "ask", "build_index", "warm_up"]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'qa' has no attribute {name!r}")
    value = getattr(import_module(_HOMES[name]), name)
    globals()[name] = value
    return value
