"""Run the public `qa` API over a question set and measure answers, retrieval and cost.

One index serves every configuration of a run: fusion does not shape the index, so the
ablations (BM25 only, dense only, RRF, weighted) differ only in how each question is
answered. Latency is steady-state: the model is loaded and one throwaway question is
answered before any question is timed. Configurations are interleaved question by
question, so other work on the machine slows them alike.
"""

from __future__ import annotations

import sys
import time
from datetime import date
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from tqdm import tqdm

from eval.indexing import IndexInfo, PreparedIndex, encode_probe_ms, peak_rss_mb, prepare_index
from eval.metrics import QuestionResult, percentile, score_answer, summarize
from eval.records import EvalQuestion, EvalSet

if TYPE_CHECKING:
    from qa.config import Settings
    from qa.indexing.memory import SearchIndex
    from qa.types import Answer, Citation

# The ablation configurations, in table order: (label, fusion mode).
ABLATIONS = (
    ("bm25-only", "bm25"),
    ("dense-only", "dense"),
    ("hybrid-rrf", "rrf"),
    ("hybrid-weighted", "weighted"),
)
LABELS = {mode: label for label, mode in ABLATIONS}
# Asked once per configuration before timing starts, and never scored.
WARM_UP_QUESTION = "Who said what, and when did it happen?"
WARM_UP_NOTE = (
    "latency is steady-state (model loaded and one throwaway question answered per configuration "
    "before timing); configurations interleaved question by question"
)

Summary = dict[str, float | int | None]


@dataclass(frozen=True)
class QuestionRow:
    """One question's scores plus what a reader of the results needs to judge them."""

    result: QuestionResult
    question: str
    gold: tuple[str, ...]
    citation: Citation | None
    cpu_seconds: float
    error: str | None = None


@dataclass(frozen=True)
class RunResult:
    """One configuration over one question set: per-question rows and the summary.

    `summary` holds `eval.metrics.summarize` figures plus build_seconds, index_seconds, read_seconds,
    median_cpu_ms and p95_cpu_ms (process CPU time per question, all threads), errors,
    and figures shared by the configurations of one run: peak_rss_mb (process
    high-water mark when the run ended), probe_ms_before and probe_ms_after (median time
    to encode a fixed question before and after the timed loop; see
    `eval.indexing.encode_probe_ms`).
    """

    label: str
    evalset: str
    settings: Settings
    index: IndexInfo
    rows: tuple[QuestionRow, ...]
    summary: Summary

    @property
    def records(self) -> tuple[QuestionResult, ...]:
        """The scored results, one per question."""
        return tuple(row.result for row in self.rows)


def run(
    evalset: EvalSet,
    settings: Settings,
    *,
    label: str | None = None,
    prepared: PreparedIndex | None = None,
    rebuild: bool = False,
    show_progress: bool = True,
) -> RunResult:
    """Ask every question of `evalset` through `qa.api.answer_with_index` and score it.

    Args:
        evalset: questions and corpus.
        settings: the configuration to answer with (fusion, thresholds, ...).
        label: the configuration's name in tables and charts (default from the fusion).
        prepared: an index from `prepare_index` to reuse; built here when None.
        rebuild: with no `prepared`, force a from-scratch build.
        show_progress: draw a progress bar over the questions on stderr.

    Returns:
        The `RunResult`.
    """
    prepared = prepared or prepare_index(evalset, settings, rebuild=rebuild, show_progress=show_progress)
    label = label or LABELS.get(settings.fusion, settings.fusion)
    return _measure(evalset, [(label, settings)], prepared, show_progress)[0]


def run_configs(
    evalset: EvalSet,
    configs: Sequence[tuple[str, Settings]],
    *,
    rebuild: bool = False,
    show_progress: bool = True,
) -> list[RunResult]:
    """Run several configurations over one index built (or loaded) once.

    The configurations are interleaved question by question (each question is asked of
    every configuration, starting with a different one each time), so a slow spell of
    the machine weighs on all of them alike and their latencies stay comparable.

    Args:
        evalset: questions and corpus.
        configs: (label, settings) pairs; their index-shaping settings must agree.
        rebuild: force a from-scratch build of the shared index.
        show_progress: draw progress bars on stderr.

    Returns:
        One `RunResult` per configuration, in the given order.

    Raises:
        ValueError: no configurations, or configurations that need different indexes.
    """
    if not configs:
        raise ValueError("give at least one configuration to run")
    shapes = {repr(s.index_shape()) for _, s in configs}
    if len(shapes) > 1 or len({s.index_dir for _, s in configs}) > 1:
        raise ValueError("configurations of one run must share an index; vary only answer-time settings")
    prepared = prepare_index(evalset, configs[0][1], rebuild=rebuild, show_progress=show_progress)
    return _measure(evalset, configs, prepared, show_progress)


def ablation_configs(settings: Settings) -> list[tuple[str, Settings]]:
    """The four retrieval ablations of `settings`: BM25 only, dense only, RRF, weighted.

    Args:
        settings: the base configuration.

    Returns:
        (label, settings) pairs differing only in `fusion`.
    """
    return [(label, settings.with_(fusion=mode)) for label, mode in ABLATIONS]


def _measure(
    evalset: EvalSet, configs: Sequence[tuple[str, Settings]], prepared: PreparedIndex, show_progress: bool
) -> list[RunResult]:
    from qa.api import answer_with_index

    for _, settings in configs:
        answer_with_index(prepared.index, WARM_UP_QUESTION, settings)
    probe_before = encode_probe_ms(configs[0][1])
    rows: list[list[QuestionRow]] = [[] for _ in configs]
    conversations = [_Conversation(prepared.index, settings) for _, settings in configs]
    desc = configs[0][0] if len(configs) == 1 else f"{len(configs)} configurations"
    total = len(evalset.questions) * len(configs)
    with tqdm(total=total, desc=desc, unit="answer", file=sys.stderr, disable=not show_progress) as bar:
        for i, question in enumerate(evalset.questions):
            for k in _rotation(i, len(configs)):
                rows[k].append(_ask(prepared.index, question, configs[k][1], bar, conversations[k]))
                bar.update()
    run_wide: Summary = {
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "probe_ms_before": round(probe_before, 2),
        "probe_ms_after": round(encode_probe_ms(configs[0][1]), 2),
    }
    return [
        RunResult(label, evalset.name, settings, prepared.info, tuple(own), _summary(own, prepared, run_wide))
        for (label, settings), own in zip(configs, rows)
    ]


def _rotation(i: int, n: int) -> list[int]:
    """Config order for question i: 0..n-1 rotated by i, so none is always asked first."""
    return [(i + k) % n for k in range(n)]


def _summary(rows: Sequence[QuestionRow], prepared: PreparedIndex, run_wide: Summary) -> Summary:
    cpu_ms = [row.cpu_seconds * 1000.0 for row in rows]
    summary: Summary = dict(summarize([row.result for row in rows]))
    summary.update(
        build_seconds=prepared.info.build_seconds,
        index_seconds=prepared.info.seconds,
        read_seconds=prepared.info.read_seconds,
        median_cpu_ms=percentile(cpu_ms, 50),
        p95_cpu_ms=percentile(cpu_ms, 95),
        errors=sum(1 for row in rows if row.error),
    )
    summary.update(run_wide)
    return summary


def _ask(
    index: SearchIndex, question: EvalQuestion, settings: Settings, bar: tqdm, conversation: _Conversation
) -> QuestionRow:
    from qa.api import answer_with_index
    from qa.answer.question import clean_question

    error = None
    alone_ok = None
    cpu_started, started = time.process_time(), time.perf_counter()
    try:
        as_of = date.fromisoformat(question.as_of) if question.as_of else None
        turns = conversation.turns(question.history, as_of)  # the earlier turns are not timed
        cpu_started, started = time.process_time(), time.perf_counter()
        answer = answer_with_index(index, clean_question(question.question), settings, turns, as_of=as_of)
    except Exception as exc:  # one failing question must not lose the run; it is counted and shown
        answer = _declined(question.question)
        error = f"{type(exc).__name__}: {exc}"
        bar.write(f"warning: question {question.id} failed: {error}", file=sys.stderr)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    if question.history and error is None:  # the same question asked alone, to compare with
        alone = answer_with_index(index, clean_question(question.question), settings, as_of=as_of)
        alone_ok = score_answer(question, alone, 0.0).ok
    result = replace(score_answer(question, answer, seconds), alone_ok=alone_ok)
    citation = answer.citations[0] if answer.citations and answer.answerable else None
    gold = question.answers or tuple(" / ".join(part) for part in question.answer_parts)
    return QuestionRow(result, question.question, gold, citation, cpu_seconds, error)


class _Conversation:
    """The replies to a follow-up's earlier questions, each asked with the replies before it, as a
    chat would; asked once per conversation and configuration, however many follow-ups share them."""

    def __init__(self, index: SearchIndex, settings: Settings) -> None:
        self.index, self.settings = index, settings
        self._replies: dict[tuple[str, ...], str] = {}

    def turns(self, history: Sequence[str], as_of: date | None) -> list[tuple[str, str]]:
        from qa.api import answer_with_index
        from qa.answer.question import clean_question

        turns: list[tuple[str, str]] = []
        for n, earlier in enumerate(history):
            key = tuple(history[: n + 1])
            if key not in self._replies:
                answer = answer_with_index(self.index, clean_question(earlier), self.settings, turns, as_of=as_of)
                self._replies[key] = answer.text
            turns.append((earlier, self._replies[key]))
        return turns


def _declined(question: str) -> Answer:
    from qa.types import Answer

    return Answer(question=question, answer="", text="", citations=(), confidence=0.0, answerable=False)
