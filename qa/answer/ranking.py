"""Rank the candidate sentences of a question part by the learned sentence model."""

from __future__ import annotations

from dataclasses import dataclass

from qa.answer.candidates import SENTENCE_FEATURES, Candidate, candidates
from qa.answer.question import QuestionPart
from qa.config import Settings
from qa.indexing.memory import SearchIndex
from qa.ingest.aliases import stems_with_other_names
from qa.models import load_model
from qa.retrieve.retriever import Query, RankedChunk, retrieve


@dataclass(frozen=True)
class Ranking:
    """Retrieved chunks and candidate sentences with their probabilities, best first.

    `avoid` holds the stems of the question's words (and of other names for them), which
    an answer must not merely repeat; `read` says how many of the best candidates a
    reader has read (0 when none has).
    """

    chunks: tuple[RankedChunk, ...]
    candidates: tuple[Candidate, ...]
    probabilities: tuple[float, ...]
    avoid: frozenset[str]
    read: int = 0

    @property
    def ranked(self) -> list[tuple[int, float]]:
        """(sentence index, probability) pairs, best first."""
        return [(c.sentence, p) for c, p in zip(self.candidates, self.probabilities)]


def rank_sentences(index: SearchIndex, part: QuestionPart, query: Query, settings: Settings) -> Ranking:
    """Retrieve chunks and rank the candidate sentences by the learned sentence model.

    Args:
        index: the searchable index.
        part: the question part.
        query: its retrieval query.
        settings: fusion and how many chunks to retrieve.
    """
    chunks = retrieve(index, query, settings, settings.top_chunks)
    avoid = stems_with_other_names(part.search_text, index.aliases)
    pool = candidates(index, query, chunks, part.answer_type, avoid)
    model = load_model("sentence", SENTENCE_FEATURES)
    scored = sorted(((c, model.probability(c.features)) for c in pool), key=lambda x: -x[1])
    return Ranking(tuple(chunks), tuple(c for c, _ in scored), tuple(p for _, p in scored), avoid)
