"""The benchmark harness: report formatting on hand-made figures, the CLI end to end with the real model.

No test here asserts a quality threshold or a time: those are the benchmark's output.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from eval import harness, report
from eval.cli import main
from eval.datasets import limit, load_seed_set
from eval.indexing import IndexInfo, peak_rss_mb
from eval.metrics import QuestionResult
from qa.config import Settings
from qa.types import Citation

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SUMMARY_KEYS = {
    "count", "answerable", "unanswerable", "em", "f1", "hit@1", "citation_accuracy", "citation_support",
    "recall@1", "recall@5", "recall@10", "mrr", "abstain_unanswerable", "wrongly_declined",
    "median_ms", "p95_ms", "median_cpu_ms", "p95_cpu_ms", "build_seconds", "index_seconds", "peak_rss_mb",
    "errors", "probe_ms_before", "probe_ms_after", "ece", "confidently_wrong",
}
RATES = (
    "em", "f1", "hit@1", "citation_accuracy", "citation_support", "recall@1", "recall@5", "recall@10",
    "mrr", "abstain_unanswerable", "wrongly_declined",
)


def figures(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "count": 10, "em": 0.5, "f1": 0.6543, "hit@1": 0.7, "citation_accuracy": 0.8,
        "citation_support": 0.75, "recall@1": 0.4, "recall@5": 0.9, "mrr": 0.61234,
        "abstain_unanswerable": None, "wrongly_declined": 0.1, "build_seconds": 4.503,
        "median_ms": 21.04, "p95_ms": 95.55, "peak_rss_mb": 545.7, "ece": 0.0812, "confidently_wrong": 0.05,
    }
    base.update(changes)
    return base


# --- report, on hand-made figures ------------------------------------------------------


def test_format_value() -> None:
    assert report.format_value(None, 3) == "-"
    assert report.format_value(math.nan, 3) == "-"
    assert report.format_value(True, 3) == "-"
    assert report.format_value("x", 3) == "-"
    assert report.format_value(0.5, 3) == "0.500"
    assert report.format_value(545.7, 0) == "546"
    assert report.format_value(7, 1) == "7.0"


def test_table_has_every_column_and_one_aligned_row_per_config() -> None:
    table = report.format_table([("bm25-only", figures()), ("hybrid-weighted", figures(em=1.0))])
    lines = table.split("\n")
    assert len(lines) == 4
    assert lines[0].split() == [
        "config", "n", "EM", "F1", "hit@1", "cite_acc", "cite_sup", "R@1", "R@5", "MRR",
        "abstain_unans", "wrongly_declined", "ECE", "conf_wrong", "unans_conf80", "build_s", "median_ms", "p95_ms",
        "peak_MB",
    ]
    assert set(lines[1]) == {"-", " "}
    assert len({len(line) for line in lines}) == 1
    first = lines[2].split()
    assert first == [
        "bm25-only", "10", "0.500", "0.654", "0.700", "0.800", "0.750", "0.400", "0.900", "0.612",
        "-", "0.100", "0.081", "0.050", "-", "4.5", "21.0", "95.5", "546",
    ]
    assert lines[3].split()[:3] == ["hybrid-weighted", "10", "1.000"]


def test_table_renders_none_and_missing_figures_as_dash() -> None:
    table = report.format_table([("empty", {"count": 0, "em": None})])
    row = table.split("\n")[2].split()
    assert row[0] == "empty" and row[1] == "0"
    assert row[2:] == ["-"] * (len(report.COLUMNS) - 1)


def test_chart_is_a_png_even_with_missing_figures(tmp_path: Path) -> None:
    rows = [("a", figures()), ("b", figures(mrr=None, **{"recall@5": None})), ("c", {})]
    path = report.draw_chart(rows, tmp_path / "sub" / "chart.png", title="seeds (all), n=10")
    assert path.read_bytes().startswith(PNG_MAGIC)
    assert not list(path.parent.glob("*.tmp"))


def hand_made_run(label: str) -> harness.RunResult:
    result = QuestionResult(
        id="q1", type="who", answerable_gold=True, prediction="ISIS", answerable_pred=True,
        confidence=0.9, em=1.0, f1=1.0, hit=True, cite_acc=True, cite_support=True,
        retrieval_rank=2, has_evidence=True, seconds=0.02,
    )
    citation = Citation("doc", "Doc", 0, 4, "ISIS", 0.9)
    info = IndexInfo("loaded", 0.1, 4.5, "2025-01-01T00:00:00+0000", "m", 4, 44, 7.0)
    row = harness.QuestionRow(result, "Who?", ("ISIS", "IS"), citation, cpu_seconds=0.03)
    return harness.RunResult(label, "seed", Settings(index_dir=Path("/tmp/x")), info, (row,), figures())


def test_results_json_holds_machine_settings_summary_and_rows(tmp_path: Path) -> None:
    runs = [hand_made_run("bm25-only"), hand_made_run("dense-only")]
    path, latest = report.write_results(
        runs, tmp_path, dataset="seeds", split="all", notes=["a note"], stamp="20250101T000000Z"
    )
    assert path == tmp_path / "seeds-all-20250101T000000Z.json"
    assert latest == tmp_path / "latest-seeds.json"
    assert path.read_bytes() == latest.read_bytes()
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["dataset"] == "seeds" and data["split"] == "all" and data["notes"] == ["a note"]
    assert {"platform", "cpu_count", "python", "date"} <= set(data["machine"])
    assert [c["label"] for c in data["configs"]] == ["bm25-only", "dense-only"]
    config = data["configs"][0]
    assert config["settings"]["index_dir"] == "/tmp/x" and config["settings"]["fusion"] == Settings().fusion
    assert config["index"]["action"] == "loaded"
    assert config["summary"]["em"] == 0.5
    assert set(config["by_type"]) == {"who"}
    [question] = config["questions"]
    assert question["id"] == "q1" and question["gold"] == ["ISIS", "IS"] and question["error"] is None
    assert question["citation"]["quote"] == "ISIS" and question["retrieval_rank"] == 2
    assert question["cpu_seconds"] == 0.03


# --- harness and CLI without the model -------------------------------------------------


def test_ablations_vary_only_fusion() -> None:
    base = Settings(index_dir=Path("/tmp/x"), top_chunks=5)
    configs = harness.ablation_configs(base)
    assert [label for label, _ in configs] == ["bm25-only", "dense-only", "hybrid-rrf", "hybrid-weighted"]
    assert [s.fusion for _, s in configs] == ["bm25", "dense", "rrf", "weighted"]
    assert all(s.with_(fusion=base.fusion) == base for _, s in configs)


def test_configs_that_need_different_indexes_are_refused() -> None:
    evalset = limit(load_seed_set(), 1)
    a, b = Settings(chunk_sentences=3), Settings(chunk_sentences=4)
    with pytest.raises(ValueError, match="share an index"):
        harness.run_configs(evalset, [("a", a), ("b", b)])
    with pytest.raises(ValueError, match="at least one"):
        harness.run_configs(evalset, [])


def test_peak_memory_is_reported_in_megabytes() -> None:
    assert 1 < peak_rss_mb() < 1024 * 1024


@pytest.mark.parametrize(
    "argv",
    [
        ["--dataset", "seeds", "--split", "train"],
        ["--dataset", "newsqa", "--split", "heldout"],
        ["--ablations", "--fusion", "bm25"],
        ["--limit", "0"],
        ["--threads", "0"],
        ["--dataset", "nope"],
    ],
)
def test_bad_arguments_exit_with_status_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_missing_data_is_an_error_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--dataset", "squad", "--squad-file", str(tmp_path / "none.json"), "--out", str(tmp_path)]
    assert main(argv) == 1
    assert "none.json" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.json"))


# --- end to end with the real model ----------------------------------------------------


@pytest.fixture(scope="session")
def index_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One index folder for the session, so the seed index is built once."""
    return tmp_path_factory.mktemp("index")


def run_cli(argv: list[str], index_root: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("QA_INDEX_DIR", str(index_root))
    return main([*argv, "--out", str(out), "--index-dir", str(index_root), "--quiet"])


def check_summary(summary: dict[str, object], count: int) -> None:
    assert SUMMARY_KEYS <= set(summary)
    assert summary["count"] == count and summary["errors"] == 0
    for key in RATES:
        value = summary[key]
        assert value is None or 0.0 <= value <= 1.0, (key, value)
    for key in ("median_ms", "p95_ms", "build_seconds", "peak_rss_mb", "probe_ms_before", "probe_ms_after"):
        assert summary[key] > 0, key
    assert summary["p95_ms"] >= summary["median_ms"]


@pytest.mark.slow
def test_smoke_three_seed_questions(
    tmp_path: Path, index_root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    status = run_cli(["--dataset", "seeds", "--limit", "3"], index_root, tmp_path, monkeypatch)
    captured = capsys.readouterr()
    assert status == 0, captured.err[-2000:]
    out = captured.out
    default = harness.LABELS[Settings().fusion]
    table_rows = [line for line in out.splitlines() if line.startswith(default + " ")]
    assert len(table_rows) == 1 and len(table_rows[0].split()) == 1 + len(report.COLUMNS)
    assert "split: all" in out and "steady-state" in out and "machine check" in out
    data = json.loads((tmp_path / "latest-seeds.json").read_text(encoding="utf-8"))
    [config] = data["configs"]
    assert config["label"] == default
    assert len(config["questions"]) == 3
    assert config["index"]["action"] in {"built", "loaded"}
    check_summary(config["summary"], 3)
    [stamped] = tmp_path.glob("seeds-all-*.json")
    assert json.loads(stamped.read_text(encoding="utf-8")) == data
    [chart] = tmp_path.glob("seeds-all-*.png")
    assert chart.read_bytes().startswith(PNG_MAGIC)
    assert (tmp_path / "latest-seeds.png").read_bytes().startswith(PNG_MAGIC)


@pytest.mark.slow
def test_ablations_give_four_configs_in_one_table_and_chart(
    tmp_path: Path, index_root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--dataset", "seeds", "--limit", "2", "--ablations"]
    status = run_cli(argv, index_root, tmp_path, monkeypatch)
    captured = capsys.readouterr()
    assert status == 0, captured.err[-2000:]
    labels = ["bm25-only", "dense-only", "hybrid-rrf", "hybrid-weighted"]
    firsts = [line.split()[0] for line in captured.out.splitlines() if line.strip()]
    assert [word for word in firsts if word in labels] == labels
    data = json.loads((tmp_path / "latest-seeds.json").read_text(encoding="utf-8"))
    assert [c["label"] for c in data["configs"]] == labels
    assert [c["settings"]["fusion"] for c in data["configs"]] == ["bm25", "dense", "rrf", "weighted"]
    assert len({json.dumps(c["index"]) for c in data["configs"]}) == 1  # one index served all four
    ids = [q.id for q in load_seed_set().questions[:2]]
    for config in data["configs"]:
        assert [q["id"] for q in config["questions"]] == ids  # interleaved, yet each in set order
        check_summary(config["summary"], 2)
    [chart] = tmp_path.glob("seeds-all-*.png")
    assert chart.read_bytes().startswith(PNG_MAGIC)


@pytest.mark.slow
def test_a_failing_question_is_counted_not_fatal(
    tmp_path: Path, index_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qa.api

    evalset = limit(load_seed_set(), 2)
    settings = Settings(index_dir=index_root)
    prepared = harness.prepare_index(evalset, settings, show_progress=False)
    real = qa.api.answer_with_index
    broken = evalset.questions[1].question

    def flaky(index, question, settings, history=None, **options):  # type: ignore[no-untyped-def]
        if question == broken:
            raise RuntimeError("boom")
        return real(index, question, settings, history, **options)

    monkeypatch.setattr(qa.api, "answer_with_index", flaky)
    result = harness.run(evalset, settings, prepared=prepared, show_progress=False)
    assert result.summary["errors"] == 1
    first, second = result.rows
    assert first.error is None
    assert second.error == "RuntimeError: boom"
    assert not second.result.answerable_pred and second.result.prediction == ""


def test_charts_are_skipped_without_matplotlib(tmp_path, monkeypatch) -> None:
    """`qa eval` after the chat's install (no `[eval]` extra) writes its JSON and skips the charts."""
    import sys

    from eval import report

    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)  # importing it raises ImportError
    assert report.draw_chart([("x", {"em": 0.5})], tmp_path / "c.png", title="t") is None
    assert report.draw_reliability([("x", [])], tmp_path / "r.png", title="t") is None
    assert not list(tmp_path.iterdir())
    assert "pip install -e '.[eval]'" in report.CHART_NEEDS
