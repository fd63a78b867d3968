"""Our hand-written seed questions over the bundled articles in seeds/."""

from __future__ import annotations

import os
from pathlib import Path

from eval.files import (
    SAFE_ID,
    build_question,
    check_strs,
    get_field,
    make_evalset,
    read_jsonl,
    read_text,
    strings,
)
from eval.records import EvalSet, Span, question_type

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SEED_PATH = REPO_ROOT / "eval" / "questions.jsonl"
DEFAULT_SEED_CORPUS = REPO_ROOT / "seeds"


def load_seed_set(
    path: str | os.PathLike[str] = DEFAULT_SEED_PATH,
    corpus_dir: str | os.PathLike[str] = DEFAULT_SEED_CORPUS,
    name: str = "seed",
) -> EvalSet:
    """Load our hand-written questions and locate their evidence sentences in the articles.

    Args:
        path: JSON lines with id, question, answers, answer_parts, answerable,
            gold_doc_ids, evidence (exact sentences from a gold article), type, tags, and
            for a follow-up its history (the earlier questions of its conversation, oldest first).
        corpus_dir: folder holding `<doc_id>.txt` for every gold doc id.
        name: the name of the set.

    Returns:
        The `EvalSet` `name`; each evidence sentence becomes one span per gold article
        that contains it (first occurrence).

    Raises:
        FileNotFoundError: if the question file or a gold article is missing.
        ValueError: on malformed lines or evidence found in no gold article.
    """
    path, corpus = Path(path), Path(corpus_dir)
    texts: dict[str, str] = {}
    questions = []
    for lineno, row in read_jsonl(path):
        where = f"{path}:{lineno}"
        qid = get_field(row, "id", str, where)
        gold = strings(row, "gold_doc_ids", where)
        for doc_id in gold:
            article = corpus / f"{doc_id}.txt"
            if not SAFE_ID.fullmatch(doc_id):
                raise ValueError(f"{where}: row {qid}: gold doc id {doc_id!r} is not a file stem")
            if not article.is_file():
                raise FileNotFoundError(f"{where}: row {qid}: gold article {article} not found")
            if doc_id not in texts:
                texts[doc_id] = read_text(article)
        spans = []
        for sentence in strings(row, "evidence", where):
            found = [Span(d, texts[d].index(sentence), texts[d].index(sentence) + len(sentence))
                     for d in gold if sentence and sentence in texts[d]]
            if not found:
                raise ValueError(
                    f"{where}: row {qid}: evidence not found verbatim in gold articles "
                    f"{list(gold)}: {sentence[:80]!r}; copy the sentence exactly from the file"
                )
            spans.extend(found)
        question = get_field(row, "question", str, where)
        parts = get_field(row, "answer_parts", list, where, [])
        questions.append(build_question(
            where, id=qid, question=question, answers=strings(row, "answers", where),
            answer_parts=tuple(check_strs(p, where) for p in parts),
            answerable=get_field(row, "answerable", bool, where), gold_doc_ids=gold,
            evidence=tuple(spans), type=get_field(row, "type", str, where, question_type(question)),
            tags=strings(row, "tags", where), history=strings(row, "history", where),
        ))
    return make_evalset(name, corpus, questions, path)
