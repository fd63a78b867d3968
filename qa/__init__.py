"""Cited extractive answers from a folder of news articles.

    from qa import ask
    a = ask("Who accepted Boko Haram's pledge of allegiance and when?")
    print(a.text)

Around `ask`: `build_index` and `warm_up` (load now rather than on the first question);
the corpus as its user sees it, `articles` (listed and filtered), `article` (one, opened),
`add_articles`, `replace_article`, `delete_article`, `corpus_summary` and
`example_questions`; `reply`, the formatting of answers for people (markdown, escaped
HTML). The web chat and the command line use these names only.

The names below are loaded on first use, so importing one light module of the package
(the sentence splitter, the span decoder) does not load FAISS, BM25 and the pipeline:
that is what lets `train.reader` run on a machine that has only torch.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qa import reply
    from qa.api import (
        abstention_threshold, ask, build_index, index_info, question_parts, read_articles, resolve_corpus, updating,
        warm_up,
    )
    from qa.archive import (
        MAX_UPLOAD_BYTES, AddedArticles, CorpusSummary, add_articles, article, article_suffixes, articles,
        corpus_summary, delete_article, example_questions, replace_article,
    )
    from qa.answer.question import QuestionWarning
    from qa.config import Settings, settings_from_env
    from qa.errors import CorpusError, ModelError, QAError
    from qa.sharded import build_sharded_index, open_sharded_index
    from qa.types import Answer, Article, Citation, IndexInfo

_HOMES = {
    # answering
    "ask": "qa.api", "build_index": "qa.api", "warm_up": "qa.api", "updating": "qa.api", "index_info": "qa.api",
    "question_parts": "qa.api", "resolve_corpus": "qa.api", "abstention_threshold": "qa.api", "read_articles": "qa.api",
    "QuestionWarning": "qa.answer.question",
    # the corpus
    "articles": "qa.archive", "article": "qa.archive", "add_articles": "qa.archive", "delete_article": "qa.archive",
    "replace_article": "qa.archive", "corpus_summary": "qa.archive",
    "example_questions": "qa.archive", "article_suffixes": "qa.archive", "MAX_UPLOAD_BYTES": "qa.archive",
    "AddedArticles": "qa.archive", "CorpusSummary": "qa.archive",
    # sharded indexes on Ray (the optional `distributed` extra)
    "build_sharded_index": "qa.sharded", "open_sharded_index": "qa.sharded",
    # settings, records, errors, formatting
    "Settings": "qa.config", "settings_from_env": "qa.config",
    "Answer": "qa.types", "Article": "qa.types", "Citation": "qa.types", "IndexInfo": "qa.types",
    "CorpusError": "qa.errors", "ModelError": "qa.errors", "QAError": "qa.errors",
    "reply": "qa.reply",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'qa' has no attribute {name!r}")
    module = import_module(_HOMES[name])
    value = module if module.__name__ == f"qa.{name}" else getattr(module, name)
    globals()[name] = value
    return value
