"""From retrieved chunks to an answer: rank sentences, extract the span, gather support."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from qa.config import Settings
from qa.corroborate import Group, disagreements, group_spans, supporting
from qa.features import candidates
from qa.question import DATE, NUMBER, PERSON, PLACE, QuestionPart
from qa.ranker import load_model
from qa.retriever import Query, RankedChunk, retrieve
from qa.search import SearchIndex
from qa.spans import SpanCandidate, typed_spans
from qa.text import content_tokens, stem, words

TYPED = (PERSON, DATE, PLACE, NUMBER)
SPAN_SENTENCES = 6  # sentences searched for answer spans
SUPPORT_RATIO = 0.5  # a supporting sentence scores at least this share of the best one
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


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
    chunks = retrieve(index, query, settings, settings.top_chunks)
    avoid = frozenset(stem(w) for w in words(part.search_text))
    pool = candidates(index, query, chunks, part.answer_type, avoid)
    sentence_model = load_model("sentence")
    ranked = sorted(((c.sentence, sentence_model.probability(c.features)) for c in pool), key=lambda x: -x[1])
    if not ranked:
        return PartResult(part, "", 0.0, (), (), (), tuple(chunks), False)
    spans = _score_spans(index, part, ranked[:SPAN_SENTENCES], avoid)
    best_sentence, best_probability = ranked[0]
    if spans:
        groups = group_spans(index, spans)
        best = groups[0]
        floor = best_probability * SUPPORT_RATIO
        evidence = _ordered_unique(list(best.sentences) + supporting(index, best.answer, ranked, floor))
        rivals = disagreements(index, best, groups[1:], best.score * 0.75) if part.answer_type in TYPED else []
        return PartResult(
            part, best.answer, best.score, tuple(evidence), tuple(ranked), tuple(rivals), tuple(chunks), True
        )
    # No span of the wanted type: the best sentence is the answer, trusted less when a type was wanted.
    confidence = best_probability * (0.5 if part.answer_type in TYPED else 1.0)
    answer = index.sentences[best_sentence].text
    return PartResult(part, answer, confidence, (best_sentence,), tuple(ranked), (), tuple(chunks), False)


def _score_spans(
    index: SearchIndex, part: QuestionPart, ranked: list[tuple[int, float]], avoid: frozenset[str]
) -> list[tuple[str, float, int]]:
    """(span text, probability, sentence) for every typed span in the top sentences."""
    found: list[tuple[SpanCandidate, float]] = []
    for s, probability in ranked:
        for span in typed_spans(index, s, part.answer_type, avoid):
            found.append((span, probability))
    if not found:
        return []
    texts = [_span_text(index, span) for span, _ in found]
    keys = [tuple(content_tokens(t)) for t in texts]
    span_model = load_model("span")
    total = sum(p for _, p in ranked) or 1.0
    out = []
    for (span, probability), text, key in zip(found, texts, keys):
        backers = {found[j][0].sentence: found[j][1] for j, other in enumerate(keys) if other == key}
        features = {
            "sentence_probability": probability,
            "label_prior": span.prior,
            "proximity": _proximity(index, span, avoid),
            "support": sum(backers.values()) / total,
            "in_question": _in_question(key, avoid),
            "log_chars": math.log1p(len(text)),
        }
        out.append((text, span_model.probability(features), span.sentence))
    return out


def _span_text(index: SearchIndex, span: SpanCandidate) -> str:
    text = index.articles[index.sentences[span.sentence].doc_id].text
    return " ".join(text[span.start : span.end].split())


def _proximity(index: SearchIndex, span: SpanCandidate, avoid: frozenset[str]) -> float:
    """1 / (1 + words between the span and the nearest question word in its sentence)."""
    sentence = index.sentences[span.sentence]
    text = index.articles[sentence.doc_id].text
    distances = []
    for position, match in enumerate(_WORD.finditer(text, sentence.start, sentence.end)):
        if span.start <= match.start() < span.end:
            continue
        if stem(match.group().lower()) in avoid:
            distances.append(position)
    if not distances:
        return 0.0
    span_position = len(_WORD.findall(text, sentence.start, span.start))
    return 1.0 / (1.0 + min(abs(d - span_position) for d in distances))


def _in_question(key: tuple[str, ...], avoid: frozenset[str]) -> float:
    return sum(1 for t in key if t in avoid) / len(key) if key else 1.0


def _ordered_unique(items: list[int]) -> list[int]:
    seen: set[int] = set()
    return [i for i in items if not (i in seen or seen.add(i))]
