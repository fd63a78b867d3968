"""Question sets for the benchmark: our seed questions, SQuAD v1.1 and v2.0, and a NewsQA fragment.

Every loader returns an `EvalSet` whose `corpus_dir` is a folder of `<doc_id>.txt`
articles and whose gold evidence is given as character spans into those files (decoded
as UTF-8 without newline translation, as `qa.ingest.corpus` reads them), the same offsets `qa`
puts on passages and citations.

This module is the one place to import them from; each loader lives in its own module:

    eval.records   Span, EvalQuestion, EvalSet, question_type, sample, limit
    eval.seedset   load_seed_set (eval/questions.jsonl over seeds/)
    eval.squad     load_squad, load_squad2 (SQuAD v2.0, unanswerable questions), squad_split_titles
    eval.newsqa    load_newsqa
    eval.files     the shared file readers and the corpus-folder writer
"""

from __future__ import annotations

from eval.newsqa import load_newsqa
from eval.records import (
    QUESTION_TYPES,
    SPLITS,
    EvalQuestion,
    EvalSet,
    Span,
    limit,
    question_type,
    sample,
)
from eval.seedset import DEFAULT_SEED_CORPUS, DEFAULT_SEED_PATH, REPO_ROOT, load_seed_set
from eval.squad import load_squad, load_squad2, squad_split_titles

__all__ = [
    "DEFAULT_SEED_CORPUS",
    "DEFAULT_SEED_PATH",
    "QUESTION_TYPES",
    "REPO_ROOT",
    "SPLITS",
    "EvalQuestion",
    "EvalSet",
    "Span",
    "limit",
    "load_newsqa",
    "load_seed_set",
    "load_squad",
    "load_squad2",
    "question_type",
    "sample",
    "squad_split_titles",
]
