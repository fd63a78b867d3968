"""The scale benchmark runs end to end on a small corpus and writes its figures (CI runs it at 1k)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from eval.cli import SHARED_DATA

REPO = Path(__file__).resolve().parents[2]
HAVE_RAY = importlib.util.find_spec("ray") is not None
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (SHARED_DATA / "squad-v1.1-train.json.gz").is_file(), reason="needs ../shared/data"),
]


def test_scale_benchmark_at_1k_sentences(tmp_path: Path) -> None:
    command = [
        sys.executable, "-m", "eval.scale", "--sizes", "1000", "--queries", "5",
        "--work-dir", str(tmp_path / "work"), "--out", str(tmp_path / "out"),
    ] + (["--ray"] if HAVE_RAY else [])
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    row = json.loads((tmp_path / "out" / "latest-scale.json").read_text(encoding="utf-8"))["rows"][0]
    assert 1000 <= row["sentences"] < 2000 and row["chunks"] > 0
    assert row["sentences_per_s"] > 0 and row["build_peak_mb"] > 0 and row["index_mb"] > 0
    for key in ("load_s", "bm25_p50_ms", "dense_p50_ms", "hybrid_p50_ms", "ask_p50_ms", "ask_p95_ms", "add_s", "remove_s"):
        assert row[key] >= 0, key
    assert row["ask_p95_ms"] >= row["ask_p50_ms"]
    assert "embedding sentences" in row["stage_s"] and row["read_s"] > 0  # the articles are read once it is in use
    assert row["embed_alone_s"] > 0 and row["handwritten_s"] > 0
    assert row["handwritten_over_build"] == round(row["handwritten_s"] / row["build_s"], 2)
    assert "sentences_per_s" in done.stdout and list((tmp_path / "out").glob("scale-*.png"))
    if HAVE_RAY:  # the distributed figures: builds with 1 and 2 workers, sharded against single queries
        assert row["ray_build_1w_s"] > 0 and row["ray_build_2w_s"] > 0 and row["ray_speedup"] > 0
        assert row["sharded_ask_p50_ms"] > 0 and row["sharded_same_answers"] == "5/5"


def test_a_corpus_larger_than_its_source_is_filled_with_perturbed_copies(tmp_path: Path) -> None:
    from eval.scale_corpus import write_corpus
    from qa.ingest.sentences import split_sentences

    paragraph = "The harbour opened in 1902 after years of work. Its first ship came from Oslo with timber and grain."
    articles = [(f"Port {n}", [paragraph], [f"When did port {n} open?"]) for n in range(3)]
    info = write_corpus(articles, 20, tmp_path)  # two articles of 3 sentences each are written, the third kept aside
    files = sorted(p.name for p in (tmp_path / "corpus").iterdir())
    assert info["sentences"] >= 20 and info["copies"] == 4 and len(files) == info["articles"] == 7
    originals = (tmp_path / "corpus" / "Port_0.txt").read_text(encoding="utf-8").split("\n\n")[1].strip()
    copied = (tmp_path / "corpus" / "Port_0_2_.txt").read_text(encoding="utf-8").split("\n\n")[1].strip()
    assert originals == paragraph and copied != paragraph
    assert len(split_sentences(copied)) == 2 and len(copied.split()) == len(paragraph.split()) - 2  # a word less each
    assert json.loads((tmp_path / "questions.json").read_text(encoding="utf-8")) == ["When did port 0 open?", "When did port 1 open?"]
    assert "Port 2" in (tmp_path / "spare.txt").read_text(encoding="utf-8")


def test_a_news_dump_is_read_built_and_loaded_with_its_rows_per_second(tmp_path: Path) -> None:
    command = [
        sys.executable, "-m", "eval.scale", "--dump", "1500", "--threads", "1",
        "--work-dir", str(tmp_path / "work"), "--out", str(tmp_path / "out"),
    ]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    row = json.loads((tmp_path / "out" / "latest-scale.json").read_text(encoding="utf-8"))["rows"][0]
    dump = tmp_path / "work" / "dump1500" / "corpus" / "rows.jsonl"
    rows = [json.loads(line) for line in dump.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == row["rows"] == 1500 and {"id", "title", "outlet", "published", "text"} <= set(rows[0])
    assert row["articles"] + row["skipped_rows"] == 1500 and row["articles"] > 1400  # rows repeating another's text skipped
    assert row["rows_per_s"] > 0 and row["read_peak_mb"] > 0 and 0 < row["articles_mb"] < row["dump_mb"] * 4
    assert row["sentences"] >= row["articles"] and row["build_peak_mb"] > 0 and row["build_rows_per_s"] > 0
    assert row["load_s"] > 0 and row["loaded_mb"] > 0 and "rows_per_s" in done.stdout
