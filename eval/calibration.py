"""How far the benchmark's confidence can be trusted: expected calibration error with its
reliability table, and the confidently-wrong rate (pure functions over `eval.metrics.QuestionResult`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from eval.metrics import QuestionResult

CONFIDENT = 0.8  # "sure of it": the confidence from which a wrong answer counts as confidently wrong
CALIBRATION_BINS = 10


@dataclass(frozen=True)
class Calibration:
    """Expected calibration error and the reliability table behind it.

    `bins` holds (lower edge, questions, mean confidence, share right) per non-empty bin of
    width 1/CALIBRATION_BINS; "right" is the best guess being right, whether or not it
    was declined, and unanswerable questions are never right.
    """

    error: float | None
    bins: tuple[tuple[float, int, float, float], ...]


def calibration(records: Sequence[QuestionResult], bins: int = CALIBRATION_BINS) -> Calibration:
    """Expected calibration error (Naeini et al. 2015; Guo et al. 2017) over equal-width bins."""
    if not records:
        return Calibration(None, ())
    groups: dict[int, list[QuestionResult]] = {}
    for r in records:
        groups.setdefault(min(int(r.confidence * bins), bins - 1), []).append(r)
    table, error = [], 0.0
    for b in sorted(groups):
        members = groups[b]
        confidence = sum(r.confidence for r in members) / len(members)
        accuracy = sum(r.right for r in members) / len(members)
        error += len(members) / len(records) * abs(confidence - accuracy)
        table.append((b / bins, len(members), confidence, accuracy))
    return Calibration(error, tuple(table))


def confidently_wrong(records: Sequence[QuestionResult], at: float = CONFIDENT) -> float | None:
    """Share of answered questions whose answer is wrong although its confidence is at least `at`."""
    answered = [r for r in records if r.answerable_pred]
    if not answered:
        return None
    return sum(1 for r in answered if r.confidence >= at and not (r.answerable_gold and r.hit)) / len(answered)


def unanswerable_confident(records: Sequence[QuestionResult], at: float = CONFIDENT) -> float | None:
    """Share of unanswerable questions given an answer at confidence `at` or more (the worst
    outcome a trick question can have: a confident answer where the articles hold none)."""
    unanswerable = [r for r in records if not r.answerable_gold]
    if not unanswerable:
        return None
    return sum(1 for r in unanswerable if r.answerable_pred and r.confidence >= at) / len(unanswerable)
