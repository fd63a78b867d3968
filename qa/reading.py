"""Read the best sentences with the passage reader: re-rank them and score answer spans.

The reader's relevance logit joins the sentence ranker's evidence (learned model
"rerank"); its start/end logits score both the spans it proposes itself and the typed
entity spans of each sentence (learned model "reader_span"), so a name the reader likes
and the type rules agree on wins.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

from qa.passage_reader import PassageReader, Reading, get_passage_reader
from qa.question import QuestionPart
from qa.ranker import load_model
from qa.search import SearchIndex
from qa.span_features import SpanOption, span_option_features
from qa.spans import SpanCandidate, typed_spans

if TYPE_CHECKING:
    from qa.answerer import Ranking

READ_TOP = 5  # sentences the reader reads per question part


def read_and_rerank(
    index: SearchIndex, part: QuestionPart, ranking: "Ranking", reader: PassageReader | None = None
) -> tuple["Ranking", list[tuple[int, float, Reading]]]:
    """The ranking with its best sentences re-scored by the reader, and their readings.

    Args:
        index: the searchable index.
        part: the question part.
        ranking: the sentence ranker's output.
        reader: defaults to the built-in passage reader.
    """
    top = list(ranking.candidates[:READ_TOP])
    if not top:
        return ranking, []
    readings = (reader or get_passage_reader()).read(part.search_text, [index.sentences[c.sentence].text for c in top])
    model = load_model("rerank")
    rescored = []
    for rank, (candidate, probability, reading) in enumerate(zip(top, ranking.probabilities, readings)):
        best = max((s.score for s in reading.spans), default=0.0)
        extra = {
            "sentence_logit": _logit(probability),
            "reader_relevance": reading.relevance,
            "reader_best_span": best,
            "first_rank": 1.0 / (1 + rank),
        }
        rescored.append((replace(candidate, features={**candidate.features, **extra}), model.probability(extra), reading))
    rescored.sort(key=lambda x: -x[1])
    floor = min(p for _, p, _ in rescored)
    rest = [(c, min(p, floor)) for c, p in zip(ranking.candidates[READ_TOP:], ranking.probabilities[READ_TOP:])]
    candidates = tuple(c for c, _, _ in rescored) + tuple(c for c, _ in rest)
    probabilities = tuple(p for _, p, _ in rescored) + tuple(p for _, p in rest)
    reranked = replace(ranking, candidates=candidates, probabilities=probabilities)
    return reranked, [(c.sentence, p, r) for c, p, r in rescored]


def reader_span_options(
    index: SearchIndex, part: QuestionPart, read: list[tuple[int, float, Reading]], avoid: frozenset[str]
) -> list[SpanOption]:
    """Spans proposed by the reader or by the type rules in the read sentences, scored together."""
    found: list[tuple[SpanCandidate, float, int, float, float, bool]] = []
    for rank, (s, probability, reading) in enumerate(read):
        sentence = index.sentences[s]
        best = max((x.score for x in reading.spans), default=0.0)
        typed = {(c.start, c.end): c for c in typed_spans(index, s, part.answer_type, avoid)}
        proposed = {(sentence.start + x.start, sentence.start + x.end) for x in reading.spans}
        for start, end in proposed | set(typed):
            score = reading.score_span(start - sentence.start, end - sentence.start)
            if score is None or end <= start:
                continue
            span = typed.get((start, end)) or SpanCandidate(s, start, end, _label_of(sentence, start, end), 0.0)
            found.append((span, probability, rank, score, score - best, (start, end) in proposed))
    if not found:
        return []
    model = load_model("reader_span")
    options = span_option_features(index, part, [(f[0], f[1], f[2]) for f in found], _pairs(read), avoid)
    out = []
    for (span, _, _, score, margin, proposed), (text, features) in zip(found, options):
        features = {
            **features,
            "read_score": score,
            "read_margin": margin,
            "read_proposed": 1.0 if proposed else 0.0,
        }
        out.append(SpanOption(text, span.sentence, span.start, span.end, features, model.probability(features)))
    return sorted(out, key=lambda o: -o.probability)


def _pairs(read: list[tuple[int, float, Reading]]) -> list[tuple[int, float]]:
    return [(s, p) for s, p, _ in read]


def _label_of(sentence, start: int, end: int) -> str:  # noqa: ANN001
    """The label of the entity the span coincides with (or lies inside), else READ."""
    for entity in sentence.entities:
        if entity.start <= start and end <= entity.end and entity.label != "NP":
            return entity.label
    for entity in sentence.entities:
        if entity.start <= start and end <= entity.end:
            return entity.label
    return "READ"


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))

