"""Where answer spans come from: one interface, three sources, one place that chooses.

- `RuleSpans` (`Settings.passage_reader=False`): typed entity spans of the best sentences, scored by the
  learned span model (`qa.answer.span_features`).
- `PassageReaderSpans` (the default): the built-in reader reads the best
  sentences; its relevance logit joins the sentence ranker's evidence (learned model
  "rerank"), and its start/end logits score both the spans it proposes and the typed
  spans of each sentence (learned model "reader_span"), so a name the reader likes and
  the type rules agree on wins.
- `ExtractiveModelSpans` (`Settings.reader_model`): a transformers QA model of the
  user's own proposes the spans, weighted by a softmax over its span scores.

`span_source(settings)` is the one place that picks a source; each source names the
confidence model calibrated on its answers.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Callable, Protocol

from qa.answer.question import TYPED, QuestionPart
from qa.answer.ranking import Ranking
from qa.answer.span_features import SPAN_FEATURES, SpanOption, span_option_features, span_options
from qa.answer.spans import SpanCandidate, label_priors, typed_spans, with_units
from qa.config import Settings
from qa.indexing.memory import SearchIndex
from qa.models import load_model
from qa.read.base import Reader, Reading, reading_context
from qa.read.extractive import get_extractive_reader
from qa.read.passage import get_passage_reader
from qa.types import Sentence

RERANK_FEATURES = ("sentence_logit", "reader_relevance", "reader_best_span", "first_rank")
READER_SPAN_FEATURES = (*SPAN_FEATURES, "read_score", "read_margin", "read_proposed")


class SpanSource(Protocol):
    """Turns a sentence ranking into scored answer spans (and may re-rank the sentences)."""

    confidence_model: str  # the confidence model fitted on this source's answers

    def spans(self, index: SearchIndex, part: QuestionPart, ranking: Ranking) -> tuple[Ranking, list[SpanOption]]:
        """The (possibly re-ranked) ranking and the span options, best first."""
        ...


@dataclass(frozen=True)
class RuleSpans:
    """Typed spans of the best sentences, scored by the learned span model."""

    confidence_model: str = "confidence"

    def spans(self, index: SearchIndex, part: QuestionPart, ranking: Ranking) -> tuple[Ranking, list[SpanOption]]:
        return ranking, span_options(index, part, ranking.ranked, ranking.avoid)


@dataclass(frozen=True)
class PassageReaderSpans:
    """The built-in passage reader re-ranks the best sentences and scores their spans.

    `reader` defaults to the shipped reader; training passes a fold reader instead.
    """

    read_sentences: int
    reader: Reader | None = None
    confidence_model: str = "reader_confidence"

    def spans(self, index: SearchIndex, part: QuestionPart, ranking: Ranking) -> tuple[Ranking, list[SpanOption]]:
        reranked, read = read_and_rerank(index, part, ranking, self.reader or get_passage_reader(), self.read_sentences)
        return reranked, reader_span_options(index, part, read, reranked.avoid)


@dataclass(frozen=True)
class ExtractiveModelSpans:
    """Spans proposed by a local transformers extractive-QA model (`Settings.reader_model`)."""

    path: str
    read_sentences: int
    confidence_model: str = "confidence"

    def spans(self, index: SearchIndex, part: QuestionPart, ranking: Ranking) -> tuple[Ranking, list[SpanOption]]:
        reader = get_extractive_reader(self.path)
        return ranking, extractive_options(index, part.text, ranking.ranked[: self.read_sentences], reader)


def span_source(settings: Settings) -> SpanSource:
    """The span source the settings ask for: a reader model of the user's, the passage reader, or the rules."""
    if settings.reader_model:
        return ExtractiveModelSpans(settings.reader_model, settings.read_sentences)
    if settings.passage_reader:
        return PassageReaderSpans(settings.read_sentences)
    return RuleSpans()


def read_and_rerank(
    index: SearchIndex, part: QuestionPart, ranking: Ranking, reader: Reader, count: int
) -> tuple[Ranking, list[tuple[int, float, Reading]]]:
    """The ranking with its `count` best sentences re-scored by the reader, and their readings.

    Sentences below the read ones keep their order and are capped at the lowest re-scored
    probability, so an unread sentence never overtakes a read one.
    """
    top = list(ranking.candidates[:count])
    if not top:
        return ranking, []
    sentences = [c.sentence for c in top]
    readings = reader.read(part.search_text, [index.sentences[s].text for s in sentences], contexts_of(index, sentences))
    model = load_model("rerank", RERANK_FEATURES)
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
    rest = [(c, min(p, floor)) for c, p in zip(ranking.candidates[count:], ranking.probabilities[count:])]
    candidates = tuple(c for c, _, _ in rescored) + tuple(c for c, _ in rest)
    probabilities = tuple(p for _, p, _ in rescored) + tuple(p for _, p in rest)
    reranked = replace(ranking, candidates=candidates, probabilities=probabilities, read=len(rescored))
    return reranked, [(c.sentence, p, r) for c, p, r in rescored]


def contexts_of(index: SearchIndex, sentences: list[int]) -> list[str]:
    """Each sentence's `reading_context`: its article's headline and the sentence before it."""
    out = []
    for s in sentences:
        sentence = index.sentences[s]
        before = index.sentence_index(sentence.doc_id, sentence.position - 1)
        out.append(reading_context(index.articles[sentence.doc_id].title, index.sentences[before].text if before is not None else ""))
    return out


def reader_span_options(
    index: SearchIndex, part: QuestionPart, read: list[tuple[int, float, Reading]], avoid: frozenset[str]
) -> list[SpanOption]:
    """Spans proposed by the reader or by the type rules in the read sentences, scored together."""
    found: list[tuple[SpanCandidate, float, int, float, float, bool]] = []
    for rank, (s, probability, reading) in enumerate(read):
        sentence = index.sentences[s]
        best = max((x.score for x in reading.spans), default=0.0)
        typed = {(c.start, c.end): c for c in typed_spans(index, s, part.answer_type, avoid)}
        article = index.articles[sentence.doc_id].text
        proposed = {}
        for x in reading.spans:
            key = with_units(article, sentence.start + x.start, sentence.start + x.end, sentence.start, sentence.end)
            proposed[key] = max(x.score, proposed.get(key, x.score))
        if part.answer_type in TYPED:
            # "When was the ferry named?" over "named Morning Tern at a ceremony on Thursday": a
            # proposed run holding spans of the wanted type is tightened to them, keeping its score.
            proposed = tightened(proposed, typed, article, reading_scorer(reading, sentence.start))
            # and a proposed name of another kind ("Nigerian" for "which city?") is not an answer
            fits = label_priors(part.answer_type)
            proposed = {p: v for p, v in proposed.items() if _label_of(sentence, *p) in (*fits, "NP", "READ")}
        for start, end in set(proposed) | set(typed):
            score = reading.score_span(start - sentence.start, end - sentence.start)
            if score is None or end <= start:
                continue
            score = max(score, proposed.get((start, end), score))
            span = typed.get((start, end)) or SpanCandidate(s, start, end, _label_of(sentence, start, end), 0.0)
            found.append((span, probability, rank, score, score - best, (start, end) in proposed))
    if not found:
        return []
    model = load_model("reader_span", READER_SPAN_FEATURES)
    pairs = [(s, p) for s, p, _ in read]
    options = span_option_features(index, part, [(f[0], f[1], f[2]) for f in found], pairs, avoid)
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


def extractive_options(
    index: SearchIndex, question: str, top: list[tuple[int, float]], reader: Reader
) -> list[SpanOption]:
    """Spans the reader finds in the `top` sentences, as span options (softmax probabilities)."""
    sentences = [index.sentences[s] for s, _ in top]
    readings = reader.read(question, [x.text for x in sentences])
    spans = sorted((s for r in readings for s in r.spans if s.end > s.start), key=lambda s: -s.score)
    if not spans:
        return []
    peak = max(s.score for s in spans)
    weights = [math.exp(s.score - peak) for s in spans]
    total = sum(weights)
    options = []
    for span, weight in zip(spans, weights):
        sentence = sentences[span.passage]
        start, end = sentence.start + span.start, sentence.start + span.end
        text = " ".join(index.articles[sentence.doc_id].text[start:end].split())
        features = {"reader_score": span.score, "sentence_probability": top[span.passage][1]}
        options.append(SpanOption(text, top[span.passage][0], start, end, features, weight / total))
    return options


def tightened(
    proposed: dict[tuple[int, int], float],
    typed: dict[tuple[int, int], SpanCandidate],
    text: str,
    score: Callable[[int, int], float | None],
) -> dict[tuple[int, int], float]:
    """Each proposed span cut to the typed spans inside it (if any), keeping its score.

    Typed spans that touch or are joined only by a range word ("Monday to Friday", "2019 and
    2020") stay one span. A run holding typed spans apart ("on Tuesday after a fire closed it in
    January") is no one answer: its score goes to the part the reader itself `score`s best, and
    the other parts keep their own scores as typed spans.
    """
    out: dict[tuple[int, int], float] = {}
    for (start, end), run_score in proposed.items():
        parts = _joined(sorted((a, b) for a, b in typed if start <= a and b <= end), text)
        key = max(parts, key=lambda p: _or_lowest(score(*p))) if parts else (start, end)
        out[key] = max(run_score, out.get(key, run_score))
    return out


_RANGE_WORDS = frozenset({"to", "and", "or", "until", "till", "through", "-", "\u2013", "\u2014", "/", ","})


def _joined(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """Spans sorted by start, with the ones that overlap or are joined by range words made one."""
    out: list[tuple[int, int]] = []
    for a, b in spans:
        if out and (a <= out[-1][1] or _only_range_words(text[out[-1][1] : a])):
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _only_range_words(gap: str) -> bool:
    return all(w.lower() in _RANGE_WORDS for w in re.findall(r"\w+|[^\w\s]", gap))


def _or_lowest(score: float | None) -> float:
    return -math.inf if score is None else score


def reading_scorer(reading: Reading, offset: int) -> Callable[[int, int], float | None]:
    """The reading's `score_span` for article offsets of a sentence starting at `offset`."""
    return lambda start, end: reading.score_span(start - offset, end - offset)


def _label_of(sentence: Sentence, start: int, end: int) -> str:
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
