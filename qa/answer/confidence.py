"""How likely the chosen answer is right: features for the learned confidence model.

The model is a logistic regression fitted on SQuAD's training half, where answerable
questions are labelled by whether the answer was right, and questions the articles cannot
answer come from two places: the same questions asked with their source article hidden,
and SQuAD v2.0's crowd-written unanswerable questions of the training articles (which
name a paragraph's people, places and dates but ask what it does not say).

Beside the ranker's and reader's scores it weighs verification signals, the checks a
careful reader makes before trusting an answer: does the passage (the cited sentence, its
neighbours and its article's headline) name every content word and every name, number and
date of the question? Is the answer of the kind asked for? Does a rival answer come close?
How many articles carry it?
"""

from __future__ import annotations

from dataclasses import dataclass

import re

from qa.answer.question import TYPED, QuestionPart
from qa.answer.ranking import Ranking
from qa.config import Settings
from qa.errors import ModelError
from qa.indexing.memory import SearchIndex
from qa.models import load_model
from qa.retrieve.retriever import Query
from qa.text import content_tokens

# What the confidence models weigh (see `confidence_features`).
CONFIDENCE_FEATURES = (
    "span_probability", "has_span", "typed", "best_sentence", "evidence_sentence", "margin", "coverage",
    "evidence_dense", "top_chunk_dense", "unseen_words", "support", "reader_relevance", "carrier_relevance",
    "reader_best_relevance", "context_unmatched", "names_unmatched", "type_fit", "answer_margin", "articles",
)
SUPPORT_SATURATION = 4  # more sentences than this carrying the answer add no further confidence
ARTICLES_SATURATION = 3  # more articles than this carrying the answer add no further confidence
# A name, number or date in a question: a capitalised word not opening it, or a word with a digit.
_NAME = re.compile(r"(?<!^)(?<![.?!]\s)\b[A-Z][\w'’-]*|\b\w*\d[\w,.]*")
NO_RELEVANCE = -10.0  # the relevance of a sentence no reader has read: far below any logit seen


def confidence_features(
    index: SearchIndex,
    part: QuestionPart,
    query: Query,
    ranking: Ranking,
    evidence_sentence: int,
    span_probability: float,
    support: int,
    carriers: tuple[int, ...] = (),
    check: Verification | None = None,
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
        check: what the answer's verification found (`verify`); none for a whole-sentence answer.
    """
    probabilities = list(ranking.probabilities)
    position = next(i for i, c in enumerate(ranking.candidates) if c.sentence == evidence_sentence)
    evidence = ranking.candidates[position].features
    weights = {t: index.idf(t) for t in set(query.tokens)}
    total = sum(weights.values()) or 1.0
    unseen = sum(w for t, w in weights.items() if not index.knows(t)) / total
    context = index.tokens_around(evidence_sentence, after=True)
    check = check or Verification(0.0, 0.0, 0.0)
    return {
        "span_probability": span_probability,
        "has_span": 1.0 if span_probability > 0 else 0.0,
        "typed": 1.0 if part.answer_type in TYPED else 0.0,
        "best_sentence": probabilities[0],
        "evidence_sentence": probabilities[position],
        "margin": probabilities[0] - (probabilities[1] if len(probabilities) > 1 else 0.0),
        "coverage": evidence.get("overlap", 0.0),
        "evidence_dense": evidence.get("dense", 0.0),
        "top_chunk_dense": max((c.dense for c in ranking.chunks), default=0.0),
        "unseen_words": unseen,
        "support": min(support, SUPPORT_SATURATION) / SUPPORT_SATURATION,
        "reader_relevance": evidence.get("reader_relevance", 0.0),
        # the reader may like another sentence naming the same answer ("IS" for "ISIS") better
        "carrier_relevance": max(
            (c.features.get("reader_relevance", NO_RELEVANCE) for c in ranking.candidates if c.sentence in carriers),
            default=evidence.get("reader_relevance", 0.0),
        ),
        "reader_best_relevance": max(
            (c.features.get("reader_relevance", NO_RELEVANCE) for c in ranking.candidates[: ranking.read]),
            default=NO_RELEVANCE,
        ),
        "context_unmatched": unmatched_share(weights, context),
        "names_unmatched": names_unmatched(part.text, context),
        "type_fit": check.type_fit,
        "answer_margin": check.margin,
        "articles": min(len({index.sentences[s].doc_id for s in carriers}), ARTICLES_SATURATION) / ARTICLES_SATURATION,
    }


@dataclass(frozen=True)
class Verification:
    """What checking a short answer found: how well its kind fits the question's (the span
    model's label prior: a person or an organisation for "who", a date for "when"), and by
    how much it beats the best other answer (scores of the span groups)."""

    type_fit: float
    margin: float
    rival: float


def verify(type_fit: float, scores: list[float]) -> Verification:
    """The `Verification` of the best of the answer groups whose scores are `scores` (best first)."""
    best = scores[0] if scores else 0.0
    rival = scores[1] if len(scores) > 1 else 0.0
    return Verification(type_fit, best - rival, rival)


def unmatched_share(weights: dict[str, float], held: set[str]) -> float:
    """The share of the words of `weights` (each weighed by its value, such as its rarity) that
    `held` lacks; 0 when there are none."""
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t not in held) / total if total else 0.0


def names_unmatched(question: str, context: set[str]) -> float:
    """Share of the question's names, numbers and dates (capitalised words past its first,
    words with digits) that `context` does not hold; 0 when it names none."""
    names = [t for match in _NAME.finditer(question) for t in content_tokens(match.group())]
    if not names:
        return 0.0
    return sum(t not in context for t in names) / len(names)


def confidence_of(model_name: str, features: dict[str, float]) -> float:
    """The calibrated probability that the answer behind `features` is right."""
    return load_model(model_name, CONFIDENCE_FEATURES).probability(features)


def abstention_threshold(settings: Settings, model_name: str) -> float:
    """The confidence under which an answer is declined: the setting, else the model's own.

    Raises:
        ModelError: the confidence model carries no threshold.
    """
    if settings.abstain_below is not None:
        return settings.abstain_below
    threshold = load_model(model_name, CONFIDENCE_FEATURES).threshold
    if threshold is None:
        raise ModelError(f"the confidence model {model_name!r} carries no threshold; retrain it with `python -m train.stacking`")
    return threshold
