"""The one place that decides a question part: rank, take spans, pick, gather support, rate.

`answer_part` runs the stages in order; the training code (`train/stacking.py`) calls it too,
with a span source of its choosing, so training and serving cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from qa.answer.confidence import abstention_threshold, confidence_features, confidence_of, verify
from qa.answer.corroborate import Group, disagreements, group_spans, supporting
from qa.answer.descriptions import named_referent
from qa.answer.question import TYPED, QuestionPart
from qa.answer.ranking import Ranking, rank_sentences
from qa.answer.span_features import SpanOption
from qa.answer.span_sources import SpanSource, span_source
from qa.config import Settings
from qa.indexing.memory import SearchIndex
from qa.retrieve.retriever import Query, RankedChunk

SUPPORT_RATIO = 0.5  # a supporting sentence scores at least this share of the best one
RIVAL_RATIO = 0.75  # a rival answer scores at least this share of the best one


@dataclass(frozen=True)
class PartResult:
    """The outcome for one question part, before it is written up.

    `answered` says whether the answer clears the abstention threshold (and has
    evidence); `span_found` whether it is a short span rather than a whole sentence.
    """

    part: QuestionPart
    answer: str
    confidence: float
    answered: bool
    evidence: tuple[int, ...]
    ranked: tuple[tuple[int, float], ...]
    chunks: tuple[RankedChunk, ...]
    alternatives: tuple[Group, ...] = ()
    span_found: bool = False
    features: dict[str, float] | None = None
    day: str = ""  # the ISO day a relative-day answer names by its article's publication date


def answer_part(
    index: SearchIndex, part: QuestionPart, query: Query, settings: Settings, source: SpanSource | None = None
) -> PartResult:
    """Answer one part of a question from the index.

    Args:
        index: the searchable index.
        part: the part, with its answer type.
        query: the retrieval query of the part.
        settings: retrieval, reading and abstention settings.
        source: where spans come from (default: the one `settings` ask for).

    Returns:
        The best answer, its evidence sentences and a calibrated confidence.
    """
    source = source or span_source(settings)
    ranking, spans = source.spans(index, part, rank_sentences(index, part, query, settings))
    threshold = abstention_threshold(settings, source.confidence_model)
    return decide(index, part, query, ranking, spans, source.confidence_model, threshold)


def threshold_for(settings: Settings) -> float:
    """The abstention threshold in force under `settings` (that of its span source's confidence model)."""
    return abstention_threshold(settings, span_source(settings).confidence_model)


def decide(
    index: SearchIndex,
    part: QuestionPart,
    query: Query,
    ranking: Ranking,
    spans: list[SpanOption],
    confidence_model: str,
    threshold: float,
) -> PartResult:
    """Pick the answer among the span options, gather its support and rate it."""
    ranked = ranking.ranked
    if not ranked:
        return PartResult(part, "", 0.0, False, (), (), ranking.chunks)
    best_sentence, best_probability = ranked[0]
    if spans:
        groups = group_spans(index, [(o.text, o.probability, o.sentence) for o in spans])
        best = groups[0]
        floor = best_probability * SUPPORT_RATIO
        evidence = list(dict.fromkeys(list(best.sentences) + supporting(index, best.answer, ranked, floor, best.day)))
        typed = part.answer_type in TYPED
        rivals = disagreements(index, best, groups[1:], best.score * RIVAL_RATIO) if typed else []
        answer, evidence_sentence, span_probability = best.answer, best.sentences[0], best.score
        carriers, day = best.sentences, best.day
        chosen = next(o for o in spans if o.text == best.answer)
        check = verify(chosen.features.get("label_prior", 0.0), [g.score for g in groups])
        named = named_referent(index, part, answer, evidence_sentence)
        if named is not None:  # "the South Korean show" -> the show's name, cited where it stands
            answer, where = named
            evidence = [where, *(s for s in evidence if s != where)]
    else:
        # No span of the wanted type: the best sentence itself is the answer.
        answer, evidence, rivals = index.sentences[best_sentence].text, [best_sentence], []
        evidence_sentence, span_probability = best_sentence, 0.0
        carriers, day, check = (best_sentence,), "", None
    features = confidence_features(
        index, part, query, ranking, evidence_sentence, span_probability, len(evidence), carriers, check
    )
    confidence = confidence_of(confidence_model, features)
    return PartResult(
        part=part,
        answer=answer,
        confidence=confidence,
        answered=confidence >= threshold and bool(evidence),
        evidence=tuple(evidence),
        ranked=tuple(ranked),
        chunks=ranking.chunks,
        alternatives=tuple(rivals),
        span_found=bool(spans),
        features=features,
        day=day,
    )
