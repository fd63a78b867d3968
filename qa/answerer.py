"""From retrieved chunks to an answer: rank sentences, extract the span, gather support.

Three steps, each usable alone (the training code in `eval/train.py` calls them too):
`rank_sentences` scores candidate sentences, `span_options` scores answer spans in the
best of them, `decide` picks the answer, its evidence and a calibrated confidence.
"""

from __future__ import annotations

from dataclasses import dataclass

from qa.aliases import stems_with_other_names
from qa.config import Settings
from qa.confidence import confidence_features, confidence_model_name
from qa.corroborate import Group, disagreements, group_spans, supporting
from qa.features import Candidate, candidates
from qa.question import DATE, NUMBER, PERSON, PLACE, QuestionPart
from qa.ranker import load_model
from qa.reader import get_reader, reader_options
from qa.reading import read_and_rerank, reader_span_options
from qa.retriever import Query, RankedChunk, retrieve
from qa.search import SearchIndex
from qa.span_features import SpanOption, span_options

TYPED = (PERSON, DATE, PLACE, NUMBER)
SUPPORT_RATIO = 0.5  # a supporting sentence scores at least this share of the best one
RIVAL_RATIO = 0.75  # a rival answer scores at least this share of the best one


@dataclass(frozen=True)
class Ranking:
    """Retrieved chunks and candidate sentences with their probabilities, best first."""

    chunks: tuple[RankedChunk, ...]
    candidates: tuple[Candidate, ...]
    probabilities: tuple[float, ...]
    avoid: frozenset[str]

    @property
    def ranked(self) -> list[tuple[int, float]]:
        return [(c.sentence, p) for c, p in zip(self.candidates, self.probabilities)]


@dataclass(frozen=True)
class PartResult:
    """The outcome for one question part, before it is written up."""

    part: QuestionPart
    answer: str
    confidence: float
    evidence: tuple[int, ...]
    ranked: tuple[tuple[int, float], ...]
    alternatives: tuple[Group, ...]
    chunks: tuple[RankedChunk, ...]
    span_found: bool
    features: dict[str, float]


def answer_part(index: SearchIndex, part: QuestionPart, query: Query, settings: Settings) -> PartResult:
    """Answer one part of a question from the index.

    Args:
        index: the searchable index.
        part: the part, with its answer type.
        query: the retrieval query of the part.
        settings: how many chunks to consider.

    Returns:
        The best answer, its evidence sentences and a calibrated confidence.
    """
    ranking = rank_sentences(index, part, query, settings)
    if settings.reader_model:
        spans = reader_options(index, part.text, ranking.ranked, get_reader(settings.reader_model))
        return decide(index, part, query, ranking, spans)
    if settings.passage_reader:
        ranking, read = read_and_rerank(index, part, ranking)
        spans = reader_span_options(index, part, read, ranking.avoid)
        return decide(index, part, query, ranking, spans, confidence_model=confidence_model_name(settings))
    return decide(index, part, query, ranking, span_options(index, part, ranking.ranked, ranking.avoid))


def rank_sentences(index: SearchIndex, part: QuestionPart, query: Query, settings: Settings) -> Ranking:
    """Retrieve chunks and rank the candidate sentences by the learned sentence model."""
    chunks = retrieve(index, query, settings, settings.top_chunks)
    avoid = stems_with_other_names(part.search_text, index.aliases)
    pool = candidates(index, query, chunks, part.answer_type, avoid)
    model = load_model("sentence")
    scored = sorted(((c, model.probability(c.features)) for c in pool), key=lambda x: -x[1])
    return Ranking(tuple(chunks), tuple(c for c, _ in scored), tuple(p for _, p in scored), avoid)


def decide(
    index: SearchIndex,
    part: QuestionPart,
    query: Query,
    ranking: Ranking,
    spans: list[SpanOption],
    confidence_model: str = "confidence",
) -> PartResult:
    """Pick the answer among the span options, gather its support and rate it."""
    ranked = ranking.ranked
    if not ranked:
        return PartResult(part, "", 0.0, (), (), (), ranking.chunks, False, {})
    best_sentence, best_probability = ranked[0]
    typed = part.answer_type in TYPED
    if spans:
        groups = group_spans(index, [(o.text, o.probability, o.sentence) for o in spans])
        best = groups[0]
        floor = best_probability * SUPPORT_RATIO
        evidence = list(dict.fromkeys(list(best.sentences) + supporting(index, best.answer, ranked, floor)))
        rivals = disagreements(index, best, groups[1:], best.score * RIVAL_RATIO) if typed else []
        answer, evidence_sentence, span_probability = best.answer, best.sentences[0], best.score
        carriers = best.sentences
    else:
        # No span of the wanted type: the best sentence itself is the answer.
        answer, evidence, rivals = index.sentences[best_sentence].text, [best_sentence], []
        evidence_sentence, span_probability = best_sentence, 0.0
        carriers = (best_sentence,)
    features = confidence_features(
        index, part, query, ranking, evidence_sentence, span_probability, len(evidence), carriers
    )
    confidence = load_model(confidence_model).probability(features)
    return PartResult(
        part, answer, confidence, tuple(evidence), tuple(ranked), tuple(rivals), ranking.chunks, bool(spans),
        features,
    )


