"""A NewsQA fragment (CNN stories): each chunk one file of a corpus, evidence found by answer text."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from eval.files import (
    SAFE_ID,
    build_question,
    get_field,
    make_evalset,
    read_jsonl,
    strings,
    sync_corpus,
)
from eval.records import EvalSet, Span, question_type


def load_newsqa(folder: str | os.PathLike[str], work_dir: str | os.PathLike[str]) -> EvalSet:
    """Write NewsQA chunks as a corpus folder and return the questions with evidence.

    Evidence is every whole-word, case-insensitive occurrence of an accepted answer in a
    gold chunk (whitespace runs may differ); a gold chunk without one contributes a span
    over the whole chunk and the tag "answer_not_verbatim". Gold chunk ids absent from
    chunks.jsonl are dropped from `gold_doc_ids` and tagged "gold_chunk_missing".

    Args:
        folder: holds chunks.jsonl (id, text) and questions.jsonl (question_id,
            question, accepted_answers, relevant_chunk_ids, variant, ...).
        work_dir: corpus folder, one `<chunk id>.txt` per chunk; rewritten only when changed.

    Returns:
        The `EvalSet` "newsqa", tags ("newsqa", variant, ...).

    Raises:
        FileNotFoundError: if either file is missing.
        ValueError: on malformed lines, unsafe or duplicate chunk ids, or other
            article files (.txt, .md) in work_dir.
    """
    folder, corpus = Path(folder), Path(work_dir)
    texts: dict[str, str] = {}
    for lineno, row in read_jsonl(folder / "chunks.jsonl"):
        where = f"{folder / 'chunks.jsonl'}:{lineno}"
        chunk_id = get_field(row, "id", str, where)
        if not SAFE_ID.fullmatch(chunk_id) or chunk_id in texts:
            raise ValueError(f"{where}: chunk id {chunk_id!r} is repeated or unsafe as a file name")
        texts[chunk_id] = get_field(row, "text", str, where)
    questions = []
    for lineno, row in read_jsonl(folder / "questions.jsonl"):
        where = f"{folder / 'questions.jsonl'}:{lineno}"
        answers = strings(row, "accepted_answers", where)
        relevant = strings(row, "relevant_chunk_ids", where)
        gold = tuple(c for c in relevant if c in texts)
        tags = ["newsqa", get_field(row, "variant", str, where, "original")]
        if len(gold) < len(relevant):
            tags.append("gold_chunk_missing")
        spans: list[Span] = []
        for chunk_id in gold:
            found = _occurrences(chunk_id, texts[chunk_id], answers)
            if not found and answers:
                found = [Span(chunk_id, 0, len(texts[chunk_id]))]
                tags.append("answer_not_verbatim")
            spans.extend(found)
        q = get_field(row, "question", str, where).strip()
        questions.append(build_question(
            where, id=get_field(row, "question_id", str, where), question=q, answers=answers,
            answer_parts=(), answerable=bool(answers), gold_doc_ids=gold, evidence=tuple(spans),
            type=question_type(q), tags=tuple(dict.fromkeys(tags)),
        ))
    sync_corpus(corpus, texts)
    return make_evalset("newsqa", corpus, questions, folder)


def _occurrences(doc_id: str, text: str, answers: Sequence[str]) -> list[Span]:
    spans: set[Span] = set()
    for answer in answers:
        words = answer.split()
        if not words:
            continue
        body = r"\s+".join(map(re.escape, words))
        # Whole words only: the answer "11" must not land inside "2011".
        pattern = ("(?<!\\w)" if re.match(r"\w", words[0]) else "") + body
        pattern += "(?!\\w)" if re.search(r"\w$", words[-1]) else ""
        matches = re.finditer(pattern, text, re.IGNORECASE)
        spans.update(Span(doc_id, m.start(), m.end()) for m in matches)
    return sorted(spans, key=lambda s: (s.start, s.end))
