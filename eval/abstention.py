"""The abstention trade-off of one run: what each stricter threshold would have declined.

A question answered at the run's threshold keeps its score at any higher threshold until
its confidence falls under it, so the table is exact for thresholds at or above the one
the run used (run with `--abstain-below 0` to see the whole curve).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from eval.metrics import QuestionResult

THRESHOLDS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5)


@dataclass(frozen=True)
class TradeOff:
    """Rates at one threshold: unanswerable declined, answerable declined, hit@1."""

    threshold: float
    unanswerable_declined: float | None
    answerable_declined: float
    hit_at_1: float


def trade_offs(results: Sequence[QuestionResult], used: float) -> list[TradeOff]:
    """The trade-off at each of THRESHOLDS not below `used` (the run's own threshold)."""
    answerable = [r for r in results if r.answerable_gold]
    unanswerable = [r for r in results if not r.answerable_gold]
    out = []
    for threshold in (t for t in THRESHOLDS if t >= used - 1e-9):
        def declined(r: QuestionResult) -> bool:
            return not r.answerable_pred or r.confidence < threshold

        out.append(
            TradeOff(
                threshold,
                sum(map(declined, unanswerable)) / len(unanswerable) if unanswerable else None,
                sum(map(declined, answerable)) / len(answerable) if answerable else 0.0,
                sum(1 for r in answerable if r.hit and not declined(r)) / len(answerable) if answerable else 0.0,
            )
        )
    return out


def format_trade_offs(label: str, rows: list[TradeOff]) -> list[str]:
    """Lines of a small table: threshold, both sides of the trade-off, and hit@1."""
    lines = [f"abstention trade-off of {label}, had answers under each threshold been declined:",
             "  threshold  abstain_unans  wrongly_declined  hit@1"]
    for row in rows:
        unans = "-" if row.unanswerable_declined is None else f"{row.unanswerable_declined:.3f}"
        lines.append(f"  {row.threshold:9.2f}  {unans:>13}  {row.answerable_declined:16.3f}  {row.hit_at_1:5.3f}")
    return lines
