"""Pure scoring functions for the benchmark: SQuAD EM/F1, citation checks, ranks, latency.

Every function here is deterministic and free of I/O; `score_answer` applies them to one
`qa.types.Answer` by duck typing, so this module imports nothing heavy.
"""

from __future__ import annotations

import itertools
import math
import re
import string
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from eval.calibration import calibration, confidently_wrong, unanswerable_confident

if TYPE_CHECKING:
    from eval.datasets import EvalQuestion, Span
    from qa.types import Answer, Citation, Passage

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")
# Two-part golds are the parts joined by a space, so "X, Y" and "X; Y" both match after
# normalisation; the cap keeps parts with many aliases from blowing up the product.
_MAX_JOINED_GOLDS = 64


def normalize_answer(s: str) -> str:
    """Normalise an answer as the official SQuAD v1.1 evaluation script does.

    Args:
        s: any answer or passage text.

    Returns:
        Lower-cased text without ASCII punctuation, without the articles a/an/the,
        with runs of whitespace collapsed to single spaces.
    """
    text = "".join(ch for ch in s.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    """SQuAD exact match, the best over the gold answers.

    Args:
        prediction: the system's short answer ("" when it gave none).
        golds: accepted answers; empty means the question is unanswerable.

    Returns:
        1.0 or 0.0. With no golds, 1.0 exactly when the prediction is empty after
        normalisation.
    """
    pred = normalize_answer(prediction)
    if not golds:
        return float(pred == "")
    if not pred:
        return 0.0
    return max(float(pred == normalize_answer(g)) for g in golds)


def token_f1(prediction: str, golds: Sequence[str]) -> float:
    """SQuAD token-overlap F1, the best over the gold answers.

    Args:
        prediction: the system's short answer ("" when it gave none).
        golds: accepted answers; empty means the question is unanswerable.

    Returns:
        F1 in [0, 1]. With no golds, 1.0 exactly when the prediction is empty after
        normalisation; an empty prediction for an answerable question scores 0.0.
    """
    pred_tokens = normalize_answer(prediction).split()
    if not golds:
        return float(not pred_tokens)
    if not pred_tokens:
        return 0.0
    return max(_f1(pred_tokens, normalize_answer(g).split()) for g in golds)


def _f1(pred_tokens: list[str], gold_tokens: list[str]) -> float:
    same = sum((Counter(pred_tokens) & Counter(gold_tokens)).values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def contains_answer(text: str, golds: Iterable[str]) -> bool:
    """Whether some gold answer occurs in the text as a whole-token sequence.

    Args:
        text: a short answer or a quoted sentence.
        golds: accepted answers; golds that normalise to nothing are ignored.

    Returns:
        True when the normalised tokens of a gold appear contiguously among the
        normalised tokens of the text (so "IS" does not match inside "this").
    """
    tokens = normalize_answer(text).split()
    for gold in golds:
        g = normalize_answer(gold).split()
        if g and any(tokens[i : i + len(g)] == g for i in range(len(tokens) - len(g) + 1)):
            return True
    return False


def hit_at_1(
    short_answer: str,
    first_quote: str,
    answers: Sequence[str],
    answer_parts: Sequence[Sequence[str]] = (),
) -> bool:
    """Whether the answer or its first cited sentence holds a gold answer for every part.

    Args:
        short_answer: the system's short answer.
        first_quote: the first cited sentence ("" when nothing was cited).
        answers: accepted answers; empty for unanswerable questions.
        answer_parts: for two-part questions, the aliases of each required part.

    Returns:
        True when every part has an alias contained in the short answer or the quote;
        False for unanswerable questions, which are measured by abstention instead.
    """
    parts = answer_parts if answer_parts else (answers,)
    if not all(parts):
        return False
    return all(contains_answer(short_answer, p) or contains_answer(first_quote, p) for p in parts)


def citation_accuracy(citations: Sequence[Citation], gold_doc_ids: Sequence[str]) -> bool:
    """Whether the first citation comes from a gold article, directly or via `also_in`.

    Args:
        citations: the answer's citations, best first.
        gold_doc_ids: the articles that hold the answer.

    Returns:
        True when the first citation's doc_id, or the doc_id of an article in its
        `also_in` (carrying the same quote), is gold; False with no citations.
    """
    if not citations:
        return False
    first = citations[0]
    # `also_in` holds `Source` records; plain doc-id strings are accepted too.
    doc_ids = {first.doc_id, *(getattr(s, "doc_id", s) for s in first.also_in)}
    return not doc_ids.isdisjoint(gold_doc_ids)


def citation_support(citations: Sequence[Citation], answers: Sequence[str]) -> bool:
    """Whether the first cited sentence contains a gold answer.

    Args:
        citations: the answer's citations, best first.
        answers: accepted answers.

    Returns:
        True when `contains_answer(first quote, answers)`; False with no citations.
    """
    return bool(citations) and contains_answer(citations[0].quote, answers)


def first_relevant_rank(passages: Sequence[Passage], evidence: Sequence[Span]) -> int | None:
    """1-based rank of the first retrieved passage that wholly holds an evidence span.

    Args:
        passages: retrieved chunks, best first, with offsets into their article.
        evidence: gold evidence spans.

    Returns:
        The rank, or None when no passage holds any span.
    """
    for rank, p in enumerate(passages, start=1):
        if any(s.doc_id == p.doc_id and p.start <= s.start and s.end <= p.end for s in evidence):
            return rank
    return None


def recall_at_k(ranks: Sequence[int | None], k: int) -> float | None:
    """Share of questions whose first relevant passage is ranked k or better.

    Args:
        ranks: one `first_relevant_rank` per question (None = not retrieved).
        k: the cut-off, at least 1.

    Returns:
        The share in [0, 1], or None when there are no ranks to average.

    Raises:
        ValueError: if k < 1.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    if not ranks:
        return None
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def mrr(ranks: Sequence[int | None]) -> float | None:
    """Mean reciprocal rank, counting a question with no relevant passage as 0.

    Args:
        ranks: one `first_relevant_rank` per question.

    Returns:
        The mean of 1/rank, or None when there are no ranks to average.
    """
    if not ranks:
        return None
    return sum(1.0 / r for r in ranks if r is not None) / len(ranks)


@dataclass(frozen=True)
class Abstention:
    """How well the system declines: rates are None when their group is empty."""

    declined_unanswerable: float | None
    wrongly_declined: float | None
    unanswerable: int
    answerable: int


def abstention(outcomes: Iterable[tuple[bool, bool]]) -> Abstention:
    """Share of unanswerable questions declined and of answerable ones wrongly declined.

    Args:
        outcomes: (gold answerable, predicted answerable) per question.

    Returns:
        An `Abstention`; a rate is None when no question of its group was asked.
    """
    pairs = list(outcomes)
    unanswerable = [pred for gold, pred in pairs if not gold]
    answerable = [pred for gold, pred in pairs if gold]
    return Abstention(
        declined_unanswerable=_share(not p for p in unanswerable),
        wrongly_declined=_share(not p for p in answerable),
        unanswerable=len(unanswerable),
        answerable=len(answerable),
    )


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile with linear interpolation between order statistics (NumPy's default).

    Args:
        values: the sample.
        q: percentile in [0, 100].

    Returns:
        The percentile, or None for an empty sample.

    Raises:
        ValueError: if q lies outside [0, 100].
    """
    if not 0 <= q <= 100:
        raise ValueError(f"q must lie in [0, 100], not {q}")
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


@dataclass(frozen=True)
class QuestionResult:
    """Everything measured for one question; `summarize` aggregates these."""

    id: str
    type: str
    answerable_gold: bool
    prediction: str
    answerable_pred: bool
    confidence: float
    em: float
    f1: float
    hit: bool
    cite_acc: bool
    cite_support: bool
    retrieval_rank: int | None
    has_evidence: bool
    seconds: float
    right: bool = False  # the best guess is right, declined or not (what confidence is about)
    # a follow-up asked without its conversation was right: a hit, or declined when unanswerable (None: not a follow-up)
    alone_ok: bool | None = None

    @property
    def ok(self) -> bool:
        """A hit for an answerable question, a decline for an unanswerable one."""
        return self.hit if self.answerable_gold else not self.answerable_pred


def score_answer(question: EvalQuestion, answer: Answer, seconds: float) -> QuestionResult:
    """Apply every per-question metric to one answer from `qa.ask`.

    A declined answer (`answerable` False) counts as giving nothing: an empty prediction
    and no citations, whatever best guess it may carry. Retrieval is scored regardless.
    A two-part question without `answers` is scored for EM/F1 against its parts joined
    by spaces, and for citation support against any alias of any part.

    Args:
        question: the gold question.
        answer: what the system returned (any object with the `qa.types.Answer` fields).
        seconds: wall-clock time the system took.

    Returns:
        The `QuestionResult`.
    """
    declined = not answer.answerable
    prediction = "" if declined else answer.answer
    citations = () if declined else tuple(answer.citations)
    aliases = question.answers or tuple(a for part in question.answer_parts for a in part)
    golds: tuple[str, ...] = ()
    if question.answerable:
        golds = question.answers or _joined_parts(question.answer_parts)
    first_quote = citations[0].quote if citations else ""
    return QuestionResult(
        id=question.id,
        type=question.type,
        answerable_gold=question.answerable,
        prediction=prediction,
        answerable_pred=not declined,
        confidence=float(answer.confidence),
        em=exact_match(prediction, golds),
        f1=token_f1(prediction, golds),
        hit=hit_at_1(prediction, first_quote, question.answers, question.answer_parts),
        cite_acc=citation_accuracy(citations, question.gold_doc_ids),
        cite_support=citation_support(citations, aliases),
        retrieval_rank=first_relevant_rank(getattr(answer, "passages", ()), question.evidence),
        has_evidence=bool(question.evidence),
        seconds=seconds,
        right=question.answerable
        and hit_at_1(answer.answer, answer.citations[0].quote if answer.citations else "", question.answers,
                     question.answer_parts),
    )


def summarize(records: Sequence[QuestionResult]) -> dict[str, float | int | None]:
    """Aggregate per-question results into the benchmark's summary figures.

    Answer and citation rates are over answerable questions; recall@k and MRR over
    answerable questions with gold evidence; latency over all questions. A figure
    whose group is empty is None.

    Args:
        records: one `QuestionResult` per question.

    Returns:
        A dict with count, answerable, unanswerable, em, f1, hit@1, citation_accuracy,
        citation_support, recall@1, recall@5, recall@10, mrr, abstain_unanswerable,
        wrongly_declined, median_ms and p95_ms; with follow-ups among them (`alone_ok` set),
        also follow_ups (their count), follow_up_hit@1 (hit@1 of the answerable ones asked in
        their conversation), alone_hit@1 (asked alone), worse_than_alone (the share of
        follow-ups right alone, a hit or a due decline, but not in the conversation) and
        better_than_alone (the reverse).
    """
    answerable = [r for r in records if r.answerable_gold]
    ranks = [r.retrieval_rank for r in answerable if r.has_evidence]
    declines = abstention((r.answerable_gold, r.answerable_pred) for r in records)
    millis = [r.seconds * 1000.0 for r in records]
    summary: dict[str, float | int | None] = {
        "count": len(records),
        "answerable": len(answerable),
        "unanswerable": len(records) - len(answerable),
        "em": _mean(r.em for r in answerable),
        "f1": _mean(r.f1 for r in answerable),
        "hit@1": _share(r.hit for r in answerable),
        "citation_accuracy": _share(r.cite_acc for r in answerable),
        "citation_support": _share(r.cite_support for r in answerable),
        "recall@1": recall_at_k(ranks, 1),
        "recall@5": recall_at_k(ranks, 5),
        "recall@10": recall_at_k(ranks, 10),
        "mrr": mrr(ranks),
        "abstain_unanswerable": declines.declined_unanswerable,
        "wrongly_declined": declines.wrongly_declined,
        "median_ms": percentile(millis, 50),
        "p95_ms": percentile(millis, 95),
        "ece": calibration(records).error,
        "confidently_wrong": confidently_wrong(records),
        "unanswerable_confident": unanswerable_confident(records),
    }
    follow_ups = [r for r in records if r.alone_ok is not None]
    if follow_ups:
        summary.update({
            "follow_ups": len(follow_ups),
            "follow_up_hit@1": _share(r.hit for r in follow_ups if r.answerable_gold),
            "alone_hit@1": _share(bool(r.alone_ok) for r in follow_ups if r.answerable_gold),
            "worse_than_alone": _share(bool(r.alone_ok) and not r.ok for r in follow_ups),
            "better_than_alone": _share(r.ok and not r.alone_ok for r in follow_ups),
        })
    return summary


def _joined_parts(parts: Sequence[Sequence[str]]) -> tuple[str, ...]:
    combos = itertools.islice(itertools.product(*parts), _MAX_JOINED_GOLDS) if parts else ()
    return tuple(" ".join(c) for c in combos)


def _mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return sum(items) / len(items) if items else None


def _share(flags: Iterable[bool]) -> float | None:
    return _mean(float(f) for f in flags)
