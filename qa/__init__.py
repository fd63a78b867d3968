"""Cited extractive answers from a folder of news articles.

    from qa import ask
    a = ask("Who accepted the pledge and when?")
    print(a.text)
"""

from qa.api import ask, build_index, warm_up
from qa.config import Settings
from qa.errors import CorpusError, ModelError, QAError
from qa.types import Answer, Citation

__all__ = ["Answer", "Citation", "CorpusError", "ModelError", "QAError", "Settings", "ask", "build_index", "warm_up"]
