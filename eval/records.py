"""The records of a benchmark question set, and ways to take part of one.

`Span`, `EvalQuestion` and `EvalSet` are what every loader returns (see `eval.datasets`);
`sample` and `limit` cut a set down for quick runs.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

QUESTION_TYPES = ("who", "when", "where", "what", "why", "how_many", "how", "two_part", "other")
SPLITS = ("all", "train", "heldout")

_WH = re.compile(r"\b(who|whom|whose|when|where|why|how|what|which)\b")


@dataclass(frozen=True)
class Span:
    """A gold evidence location: `text[start:end]` of the article `<doc_id>.txt`."""

    doc_id: str
    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError(f"a span needs 0 <= start < end, not {self.start}, {self.end}")


@dataclass(frozen=True)
class EvalQuestion:
    """One benchmark question with its accepted answers and gold evidence."""

    id: str
    question: str
    answers: tuple[str, ...]
    answer_parts: tuple[tuple[str, ...], ...]
    answerable: bool
    gold_doc_ids: tuple[str, ...]
    evidence: tuple[Span, ...]
    type: str
    tags: tuple[str, ...]
    as_of: str = ""  # the ISO day the question is asked on ("" : the day of the run)
    history: tuple[str, ...] = ()  # a follow-up's earlier questions, oldest first, asked before it in turn

    def __post_init__(self) -> None:
        if not self.id or not self.question.strip():
            raise ValueError("a question needs a non-empty id and question text")
        if self.type not in QUESTION_TYPES:
            raise ValueError(f"type must be one of {QUESTION_TYPES}, not {self.type!r}")
        if any(not part for part in self.answer_parts):
            raise ValueError(f"question {self.id}: every answer part needs at least one alias")
        if self.answerable != bool(self.answers or self.answer_parts):
            raise ValueError(
                f"question {self.id}: answerable questions need answers or answer_parts, "
                "unanswerable ones must have neither"
            )


@dataclass(frozen=True)
class EvalSet:
    """A named question set and the folder of articles it is asked against."""

    name: str
    corpus_dir: Path
    questions: tuple[EvalQuestion, ...]

    def __post_init__(self) -> None:
        ids = [q.id for q in self.questions]
        if len(set(ids)) != len(ids):
            raise ValueError(f"question ids in {self.name} must be unique")


def question_type(question: str) -> str:
    """Guess the answer type of a question from its first wh-word.

    Args:
        question: the question text.

    Returns:
        "how_many" for "how many/much", "when" for "what/which year|date|day|...",
        otherwise the first wh-word mapped onto `QUESTION_TYPES` ("other" if none).
    """
    q = question.lower()
    if re.search(r"\bhow (many|much)\b", q):
        return "how_many"
    if re.search(r"\b(what|which) (year|date|day|month|century|decade|time)\b", q):
        return "when"
    match = _WH.search(q)
    if match is None:
        return "other"
    word = match.group(1)
    return {"whom": "who", "whose": "who", "which": "what"}.get(word, word)



def sample(evalset: EvalSet, n: int, seed: int = 0) -> EvalSet:
    """A random but reproducible subset of n questions, kept in their original order.

    Args:
        evalset: the full set.
        n: how many questions (all of them if n exceeds the set).
        seed: seed of the private random generator.

    Returns:
        The subset, named "<name>-sample<n>-seed<seed>", same corpus.
    """
    if n < 0:
        raise ValueError(f"n must be at least 0, not {n}")
    total = len(evalset.questions)
    picked = sorted(random.Random(seed).sample(range(total), min(n, total)))
    chosen = tuple(evalset.questions[i] for i in picked)
    return EvalSet(f"{evalset.name}-sample{n}-seed{seed}", evalset.corpus_dir, chosen)


def limit(evalset: EvalSet, n: int) -> EvalSet:
    """The first n questions.

    Args:
        evalset: the full set.
        n: how many questions (all of them if n exceeds the set).

    Returns:
        The subset, named "<name>-first<n>", same corpus.
    """
    if n < 0:
        raise ValueError(f"n must be at least 0, not {n}")
    return EvalSet(f"{evalset.name}-first{n}", evalset.corpus_dir, evalset.questions[:n])
