"""Frozen records that cross module boundaries: articles, sentences, chunks, answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Iterable, NamedTuple


@dataclass(frozen=True)
class Article:
    """One article of the corpus: its text as stored (offsets point into it) and its metadata.

    The text is what its input format stores (`qa.ingest.formats`): for a .txt or .md
    file, the file as decoded after any front matter; for a saved .html page (or a page of
    a web archive), the main text extracted from it; for a .jsonl row, its `text` field;
    for a feed entry, its content or summary as plain text.
    `published` is an ISO date ("2015-03-12") or "" when unknown; `outlet`, `url` and
    `author` are "" when unknown.
    """

    doc_id: str
    title: str
    text: str
    path: str
    sha256: str
    outlet: str = ""
    url: str = ""
    author: str = ""
    published: str = ""

    @property
    def published_date(self) -> date | None:
        """The publication date, or None when unknown."""
        return date.fromisoformat(self.published) if self.published else None


@dataclass(frozen=True)
class ArticleFilter:
    """Which articles a question is answered from: a publication date range and outlets.

    Bounds are inclusive; an article with no known date is left out when a bound is set,
    one with no outlet when `outlets` is set (outlets compare without regard to case).
    """

    published_from: date | None = None
    published_to: date | None = None
    outlets: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return self.published_from is not None or self.published_to is not None or bool(self.outlets)

    def admits(self, article: Article) -> bool:
        """Whether `article` is inside the filter."""
        if self.outlets and article.outlet.casefold() not in {o.casefold() for o in self.outlets}:
            return False
        if self.published_from is None and self.published_to is None:
            return True
        published = article.published_date
        if published is None:
            return False
        return (self.published_from is None or published >= self.published_from) and (
            self.published_to is None or published <= self.published_to
        )

    def describe(self) -> str:
        """The filter in words, for messages ("published 2015-03-01 to 2015-03-31, from BBC")."""
        words = []
        if self.published_from or self.published_to:
            low = self.published_from.isoformat() if self.published_from else "any date"
            high = self.published_to.isoformat() if self.published_to else "any date"
            words.append(f"published {low} to {high}")
        if self.outlets:
            words.append("from " + " or ".join(self.outlets))
        return ", ".join(words) or "all articles"

    def doc_ids(self, articles: Iterable[Article]) -> set[str]:
        return {a.doc_id for a in articles if self.admits(a)}


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
    """A cited sentence: `quote == article.text[start:end]`, at most 400 characters.

    `outlet`, `published` (ISO date) and `url` come from the article's metadata ("" when unknown).
    """

    doc_id: str
    title: str
    start: int
    end: int
    quote: str
    score: float
    also_in: tuple[Source, ...] = ()
    outlet: str = ""
    published: str = ""
    url: str = ""

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
    resolved_date: str = ""  # ISO date of a relative day ("Thursday") by the article's publication date


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
    window: str = ""  # the publication days a time word of the question chose ("articles of 1–7 Jan 2023")
    # the articles it was read from: the corpus's, or those the filter, the day asked and a time word admitted
    # ("reported by N of M articles": M); 0 when unknown
    articles_searched: int = 0


@dataclass(frozen=True)
class IndexInfo:
    """What an index holds and how it was built (`qa.index_info`): counts, model, build time
    (ISO, "" when unknown) and, for a sharded index, its number of shards (0: one index)."""

    articles: int
    sentences: int
    chunks: int
    model: str
    built_at: str = ""
    shards: int = 0
