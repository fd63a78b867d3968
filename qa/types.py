"""Frozen records that cross module boundaries: articles, sentences, chunks, answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


@dataclass(frozen=True)
class Article:
    """One source file of the corpus, its text kept byte-for-byte as decoded."""

    doc_id: str
    title: str
    text: str
    path: str
    sha256: str


class Entity(NamedTuple):
    """A typed span inside an article (person, date, number, ...), article offsets.

    A named tuple rather than a dataclass: an index holds about ten per sentence, and
    loading a large index builds them by the million, which a tuple does several times
    faster.

    `role` is its part in the clause as the parser saw it: "subject" (the doer, also the
    "by" phrase of a passive), "object" (the thing done to, also a passive's subject),
    "possessor", "oblique" (after a preposition) or "" when unknown; `governor` is the
    word it depends on, lower-cased ("accepted" for "ISIS has accepted ...").
    """

    start: int
    end: int
    label: str
    role: str = ""
    governor: str = ""


@dataclass(frozen=True)
class Sentence:
    """One sentence; `quotable` is False for web-page debris such as photo captions."""

    id: str
    doc_id: str
    position: int
    start: int
    end: int
    text: str
    quotable: bool = True
    entities: tuple[Entity, ...] = ()


@dataclass(frozen=True)
class Chunk:
    """A window of consecutive sentences; the unit the retriever ranks."""

    id: str
    doc_id: str
    start: int
    end: int
    text: str
    first_sentence: int
    last_sentence: int


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its fused retrieval score, best first in `Answer.passages`."""

    chunk_id: str
    doc_id: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class Source:
    """Another place the same quote appears (a corroborating article)."""

    doc_id: str
    title: str
    start: int
    end: int


@dataclass(frozen=True)
class Citation:
    """A cited sentence: `quote == article.text[start:end]`, at most 400 characters."""

    doc_id: str
    title: str
    start: int
    end: int
    quote: str
    score: float
    also_in: tuple[Source, ...] = ()

    @property
    def sources(self) -> tuple[Source, ...]:
        """Every article that carries this quote, this one first."""
        return (Source(self.doc_id, self.title, self.start, self.end), *self.also_in)


@dataclass(frozen=True)
class AnswerPart:
    """The answer to one part of a question ("who ..." and "when ..." are two parts)."""

    question: str
    answer_type: str
    answer: str
    confidence: float
    citation_numbers: tuple[int, ...] = ()
    supporting_docs: tuple[str, ...] = ()
    alternatives: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class Answer:
    """What `ask()` returns: the short answer, its evidence and how sure we are."""

    question: str
    answer: str
    text: str
    citations: tuple[Citation, ...]
    confidence: float
    answerable: bool
    parts: tuple[AnswerPart, ...] = ()
    passages: tuple[Passage, ...] = field(default=(), repr=False)
