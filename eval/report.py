"""Present benchmark runs: a fixed-width summary table, JSON results and a PNG chart."""

from __future__ import annotations

import json
import math
import os
import platform
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eval.metrics import summarize

if TYPE_CHECKING:
    from eval.harness import RunResult


@dataclass(frozen=True)
class Column:
    """One table column: its header, the summary key it shows and how to format it."""

    header: str
    key: str
    digits: int


# Rates are fractions in [0, 1], as in the JSON; latency in ms, memory in MiB.
COLUMNS = (
    Column("n", "count", 0),
    Column("EM", "em", 3),
    Column("F1", "f1", 3),
    Column("hit@1", "hit@1", 3),
    Column("cite_acc", "citation_accuracy", 3),
    Column("cite_sup", "citation_support", 3),
    Column("R@1", "recall@1", 3),
    Column("R@5", "recall@5", 3),
    Column("MRR", "mrr", 3),
    Column("abstain_unans", "abstain_unanswerable", 3),
    Column("wrongly_declined", "wrongly_declined", 3),
    Column("ECE", "ece", 3),
    Column("conf_wrong", "confidently_wrong", 3),
    Column("unans_conf80", "unanswerable_confident", 3),
    Column("build_s", "build_seconds", 1),
    Column("median_ms", "median_ms", 1),
    Column("p95_ms", "p95_ms", 1),
    Column("peak_MB", "peak_rss_mb", 0),
)
# The chart's bars: (label, summary key).
CHART_METRICS = (("EM", "em"), ("F1", "f1"), ("hit@1", "hit@1"), ("R@5", "recall@5"), ("MRR", "mrr"))
MISSING = "-"


def format_value(value: object, digits: int) -> str:
    """A summary figure as table text: fixed decimals, "-" for None or NaN.

    Args:
        value: a number, or None when the figure could not be computed.
        digits: decimals to show (0 gives an integer).

    Returns:
        The text.
    """
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return MISSING
    if isinstance(value, float) and math.isnan(value):
        return MISSING
    return f"{value:.{digits}f}"


def format_table(rows: Sequence[tuple[str, Mapping[str, object]]]) -> str:
    """The summary table: one line per configuration, columns aligned.

    Args:
        rows: (configuration label, summary) pairs; a missing or None figure shows "-".

    Returns:
        Header, rule and one line per row, joined by newlines (no trailing newline).
    """
    headers = ["config", *(c.header for c in COLUMNS)]
    body = [
        [label, *(format_value(summary.get(c.key), c.digits) for c in COLUMNS)] for label, summary in rows
    ]
    widths = [max(len(line[i]) for line in [headers, *body]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = (cell.rjust(width) for cell, width in zip(cells[1:], widths[1:]))
        return "  ".join([first, *rest])

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(cells) for cells in body)])


def machine_info() -> dict[str, object]:
    """Where the benchmark ran: platform, CPU count, Python version, load average, UTC date."""
    torch = sys.modules.get("torch")
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "torch_threads": torch.get_num_threads() if torch is not None else None,
        # Other work on the machine skews latency; the 1/5/15-minute load says how busy it was.
        "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def results_payload(
    runs: Sequence[RunResult], *, dataset: str, split: str, notes: Sequence[str] = ()
) -> dict[str, Any]:
    """Everything a results file holds: machine, settings, summaries and per-question rows.

    Args:
        runs: one `RunResult` per configuration.
        dataset: "seeds", "squad" or "newsqa".
        split: the split asked ("all", "train" or "heldout").
        notes: lines that explain the figures (warm-up, memory measure, ...).

    Returns:
        A JSON-ready dict.
    """
    return {
        "dataset": dataset,
        "split": split,
        "machine": machine_info(),
        "notes": list(notes),
        "configs": [_run_payload(run) for run in runs],
    }


def write_results(
    runs: Sequence[RunResult],
    out_dir: Path,
    *,
    dataset: str,
    split: str,
    notes: Sequence[str] = (),
    stamp: str | None = None,
) -> tuple[Path, Path]:
    """Write `<dataset>-<split>-<UTC stamp>.json` and a copy `latest-<dataset>.json`.

    Args:
        runs: the configurations' results.
        out_dir: the results folder; created if needed.
        dataset: the dataset name, first part of the file name.
        split: the split, second part.
        notes: lines that explain the figures.
        stamp: the UTC time stamp to name the file with (default: now).

    Returns:
        (the timestamped file, the latest-<dataset> file).
    """
    payload = results_payload(runs, dataset=dataset, split=split, notes=notes)
    data = (json.dumps(payload, indent=1, ensure_ascii=False, default=_jsonable) + "\n").encode("utf-8")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{dataset}-{split}-{stamp or utc_stamp()}.json"
    latest = out_dir / f"latest-{dataset}.json"
    for target in (path, latest):
        _write_atomic(target, data)
    return path, latest


CHART_NEEDS = "charts need matplotlib: pip install -e '.[eval]'"


def draw_chart(rows: Sequence[tuple[str, Mapping[str, object]]], path: Path, *, title: str) -> Path | None:
    """Draw grouped bars of EM, F1, hit@1, R@5 and MRR, one group per configuration.

    Args:
        rows: (configuration label, summary) pairs; a None figure draws no bar, marked "n/a".
        path: the PNG to write (atomically); its folder is created if needed.
        title: the chart title (dataset, split, n, date).

    Returns:
        `path`, or None when matplotlib is not installed (the figures are in the JSON anyway).
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return None

    figure = Figure(figsize=(max(6.0, 1.9 * len(rows) + 2.5), 4.2), dpi=120)
    FigureCanvasAgg(figure)  # the Agg backend, without pyplot's global state
    axes = figure.add_subplot()
    width = 0.8 / len(CHART_METRICS)
    for m, (name, key) in enumerate(CHART_METRICS):
        xs = [i + (m - (len(CHART_METRICS) - 1) / 2) * width for i in range(len(rows))]
        values = [summary.get(key) for _, summary in rows]
        heights = [float(v) if isinstance(v, (int, float)) else 0.0 for v in values]
        bars = axes.bar(xs, heights, width, label=name)
        labels = [format_value(v, 2) if isinstance(v, (int, float)) else "n/a" for v in values]
        axes.bar_label(bars, labels=labels, fontsize=6, padding=1)
    axes.set_xticks(range(len(rows)), [label for label, _ in rows])
    axes.set_ylim(0, 1.08)
    axes.set_ylabel("fraction (MRR: mean 1/rank)")
    axes.set_title(title, fontsize=10)
    axes.legend(ncols=len(CHART_METRICS), fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1))
    axes.grid(axis="y", alpha=0.3)
    return _save_png(figure, path)


def draw_reliability(runs: Sequence[tuple[str, Sequence[tuple[float, int, float, float]]]], path: Path, *, title: str) -> Path | None:
    """A reliability diagram: share right against mean confidence per bin, one line per configuration.

    Args:
        runs: (configuration label, `eval.calibration.Calibration.bins`) pairs.
        path: the PNG to write (atomically).
        title: the chart title.

    Returns:
        `path`, or None when matplotlib is not installed.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return None
    figure = Figure(figsize=(5.5, 5.0), dpi=120)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    for label, bins in runs:
        if bins:
            axes.plot([b[2] for b in bins], [b[3] for b in bins], marker="o", label=label)
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_xlabel("confidence (mean in bin)")
    axes.set_ylabel("share of best guesses that are right")
    axes.set_title(title, fontsize=9)
    axes.legend(fontsize=7, loc="upper left")
    axes.grid(alpha=0.3)
    return _save_png(figure, path)


def _save_png(figure: object, path: Path) -> Path:
    """Lay out and write a matplotlib figure as PNG, atomically."""
    figure.tight_layout()  # type: ignore[attr-defined]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    figure.savefig(tmp, format="png")  # type: ignore[attr-defined]
    os.replace(tmp, path)
    return path


def utc_stamp() -> str:
    """The current UTC time as 20250101T120000Z, for file names."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _run_payload(run: RunResult) -> dict[str, Any]:
    by_type: dict[str, list] = {}
    for record in run.records:
        by_type.setdefault(record.type, []).append(record)
    return {
        "label": run.label,
        "evalset": run.evalset,
        "settings": asdict(run.settings),
        "index": asdict(run.index),
        "summary": run.summary,
        "by_type": {kind: summarize(records) for kind, records in sorted(by_type.items())},
        "questions": [
            {
                **asdict(row.result),
                "question": row.question,
                "gold": list(row.gold),
                "cpu_seconds": row.cpu_seconds,
                "citation": asdict(row.citation) if row.citation is not None else None,
                "error": row.error,
            }
            for row in run.rows
        ],
    }


def _jsonable(value: object) -> object:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
