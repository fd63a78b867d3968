"""How likely the chosen answer is right: features for the learned confidence model.

The model is a logistic regression fitted on SQuAD's training half, where answerable
questions are labelled by whether the answer was right and the same questions asked
with their source article hidden stand in for questions the articles cannot answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qa.config import Settings
from qa.question import DATE, NUMBER, PERSON, PLACE, QuestionPart
from qa.ranker import load_model
from qa.retriever import Query
from qa.search import SearchIndex

if TYPE_CHECKING:
    from qa.answerer import Ranking

_TYPED = (PERSON, DATE, PLACE, NUMBER)
DEFAULT_THRESHOLD = 0.15  # when a confidence model carries no threshold of its own


def confidence_features(
    index: SearchIndex,
    part: QuestionPart,
    query: Query,
    ranking: "Ranking",
    evidence_sentence: int,
    span_probability: float,
    support: int,
    carriers: tuple[int, ...] = (),
) -> dict[str, float]:
    """Evidence for and against the answer being right.

    Args:
        index: the searchable index.
        part: the question part.
        query: its retrieval query.
        ranking: the ranked candidate sentences.
        evidence_sentence: the sentence the answer comes from.
        span_probability: the span model's probability (0 when no span was found).
        support: how many sentences carry the answer.
        carriers: the sentences the answer (or another name for it) was found in.
    """
    probabilities = list(ranking.probabilities)
    position = next(i for i, c in enumerate(ranking.candidates) if c.sentence == evidence_sentence)
    evidence = ranking.candidates[position].features
    weights = {t: index.idf(t) for t in set(query.tokens)}
    total = sum(weights.values()) or 1.0
    unseen = sum(w for t, w in weights.items() if not index.knows(t)) / total
    return {
        "span_probability": span_probability,
        "has_span": 1.0 if span_probability > 0 else 0.0,
        "typed": 1.0 if part.answer_type in _TYPED else 0.0,
        "best_sentence": probabilities[0],
        "evidence_sentence": probabilities[position],
        "margin": probabilities[0] - (probabilities[1] if len(probabilities) > 1 else 0.0),
        "coverage": evidence.get("overlap", 0.0),
        "evidence_dense": evidence.get("dense", 0.0),
        "top_chunk_dense": max((c.dense for c in ranking.chunks), default=0.0),
        "unseen_words": unseen,
        "support": min(support, 4) / 4.0,
        "reader_relevance": evidence.get("reader_relevance", 0.0),
        # the reader may like another sentence naming the same answer ("IS" for "ISIS") better
        "carrier_relevance": max(
            (c.features.get("reader_relevance", -10.0) for c in ranking.candidates if c.sentence in carriers),
            default=evidence.get("reader_relevance", 0.0),
        ),
        "reader_best_relevance": max(
            (c.features.get("reader_relevance", -10.0) for c in ranking.candidates[:5]), default=-10.0
        ),
    }


def confidence_model_name(settings: Settings) -> str:
    """The confidence model that rates answers under `settings`."""
    return "reader_confidence" if settings.passage_reader and not settings.reader_model else "confidence"


def abstention_threshold(settings: Settings) -> float:
    """The confidence under which an answer is declined: the setting, else the model's own."""
    if settings.abstain_below is not None:
        return settings.abstain_below
    threshold = load_model(confidence_model_name(settings)).threshold
    return DEFAULT_THRESHOLD if threshold is None else threshold
