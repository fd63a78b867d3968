"""The `qa` command line, run as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def qa(*args: str, index_dir: Path, corpus: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QA_INDEX_DIR": str(index_dir)}
    if corpus is not None:
        env["QA_CORPUS"] = str(corpus)
    return subprocess.run(
        [sys.executable, "-m", "qa.cli", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize("question", ["", "   "])
def test_empty_question_exits_2_with_the_message(question: str, tmp_path: Path) -> None:
    result = qa("ask", question, index_dir=tmp_path)
    assert result.returncode == 2
    assert "the question is empty" in result.stderr


def test_missing_corpus_is_named(tmp_path: Path) -> None:
    result = qa("ask", "Who?", "--corpus", str(tmp_path / "nowhere"), index_dir=tmp_path / "i")
    assert result.returncode == 2
    assert "nowhere" in result.stderr and "does not exist" in result.stderr


@pytest.mark.slow
def test_index_then_ask_as_json(tiny_corpus: Path, tmp_path: Path) -> None:
    built = qa("index", str(tiny_corpus), index_dir=tmp_path / "i")
    assert built.returncode == 0, built.stderr
    assert "indexed 3 articles" in built.stdout
    again = qa("index", str(tiny_corpus), index_dir=tmp_path / "i")
    assert "the index is up to date" in again.stdout
    asked = qa("ask", "How many visitors attended the lantern festival?", "--corpus", str(tiny_corpus),
               "--json", index_dir=tmp_path / "i")
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert set(answer) >= {"answer", "text", "citations", "confidence", "answerable", "parts", "passages"}
    first = answer["citations"][0]
    text = (tiny_corpus / f"{first['doc_id']}.md").read_text(encoding="utf-8")
    assert text[first["start"] : first["end"]] == first["quote"]


@pytest.mark.slow
def test_ask_prints_the_reply_and_confidence(tiny_corpus: Path, tmp_path: Path) -> None:
    result = qa("ask", "Who cut the ribbon?", corpus=tiny_corpus, index_dir=tmp_path / "i")
    assert result.returncode == 0, result.stderr
    assert "[1]" in result.stdout and "confidence" in result.stdout
    assert "**" not in result.stdout  # the markdown is rendered for the terminal, not printed raw
    # into a pipe: plain text, nothing padded to a width, no escape codes, no progress bars redrawn
    assert all(line == line.rstrip() for line in result.stdout.splitlines()) and "\x1b" not in result.stdout
    assert "\r" not in result.stderr and "\x1b" not in result.stderr


def test_unknown_model_is_a_clear_error(tiny_corpus: Path, tmp_path: Path) -> None:
    result = qa("index", str(tiny_corpus), "--model", str(tmp_path / "no-such-model"), index_dir=tmp_path / "i")
    assert result.returncode == 1
    assert "cannot load embedding model" in result.stderr and "QA_MODEL" in result.stderr


@pytest.mark.slow
def test_skipped_files_are_reported_as_warnings(tiny_corpus: Path, tmp_path: Path) -> None:
    (tiny_corpus / "photo.txt").write_bytes(b"\x89PNG\x00\x00")
    result = qa("index", str(tiny_corpus), index_dir=tmp_path / "i")
    assert result.returncode == 0, result.stderr
    assert "warning: skipped" in result.stderr and "photo.txt" in result.stderr


@pytest.mark.slow
def test_ask_filters_by_outlet_and_date(tmp_path: Path) -> None:
    corpus = tmp_path / "news"
    corpus.mkdir()
    (corpus / "a.md").write_text("---\noutlet: Lagos Daily\ndate: 2015-03-13\n---\nThe bridge in Ikeja opened on Thursday.\n")
    (corpus / "b.md").write_text("---\noutlet: Abuja Times\ndate: 2015-03-20\n---\nThe bridge in Ikeja opened on Monday.\n")
    asked = qa("ask", "When did the bridge in Ikeja open?", "--outlet", "abuja times", "--json", corpus=corpus,
               index_dir=tmp_path / "i")
    assert asked.returncode == 0, asked.stderr
    assert {c["doc_id"] for c in json.loads(asked.stdout)["citations"]} == {"b"}
    dated = qa("ask", "When did the bridge in Ikeja open?", "--to", "2015-03-14", corpus=corpus, index_dir=tmp_path / "i")
    shown = " ".join(dated.stdout.split())
    assert "Thursday (12 March 2015)" in shown and "Lagos Daily, 13 March 2015" in shown, dated.stdout
    wrong = qa("ask", "When?", "--from", "soon", corpus=corpus, index_dir=tmp_path / "i")
    assert wrong.returncode == 2 and "published_from must be a date" in wrong.stderr


def test_articles_are_listed_filtered_and_opened(tmp_path: Path) -> None:
    data = REPO / "tests" / "data"
    listed = qa("articles", "--corpus", str(data), "--outlet", "vardo city desk", index_dir=tmp_path)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["DOC", "ID", "PUBLISHED", "OUTLET", "TITLE"] and lines[-1] == "2 article(s)"
    assert all(line == line.rstrip() for line in lines)  # no padding to a width
    rows = json.loads(qa("articles", "--corpus", str(data), "--grep", "FERRY", "--to", "2015-12-31", "--json",
                         index_dir=tmp_path).stdout)
    assert [r["doc_id"] for r in rows] == ["grimsholt-gazette"] and rows[0]["characters"] > 100 and "text" not in rows[0]
    opened = qa("articles", "--corpus", str(data), "--open", "tormund-herald", index_dir=tmp_path)
    assert opened.stdout.startswith("Tormund Harbour Freezes Over\nThe Tormund Herald · 2015-03-13 · by Lene Vik\n")
    assert "The harbour of Tormund froze solid on Thursday" in opened.stdout
    as_json = json.loads(qa("articles", "--corpus", str(data), "--open", "tormund-herald", "--json", index_dir=tmp_path).stdout)
    assert as_json["outlet"] == "The Tormund Herald" and as_json["text"].startswith("Tormund Harbour Freezes Over")
    missing = qa("articles", "--corpus", str(data), "--open", "nowhere", index_dir=tmp_path)
    assert missing.returncode != 0 and "no article 'nowhere'" in missing.stderr


def test_an_article_is_replaced_and_deleted_from_the_command_line(tiny_corpus: Path, tmp_path: Path) -> None:
    new = tmp_path / "new.txt"
    new.write_text("Storm Passes\n\nThe storm passed Port Ellis on Wednesday.\n", encoding="utf-8")
    replaced = qa("articles", "--corpus", str(tiny_corpus), "--replace", "storm", str(new), index_dir=tmp_path)
    assert replaced.returncode == 0 and "now storm.txt" in replaced.stdout, replaced.stderr
    assert "Wednesday" in (tiny_corpus / "storm.txt").read_text(encoding="utf-8")
    gone = qa("articles", "--corpus", str(tiny_corpus), "--replace", "storm", str(tmp_path / "none.txt"), index_dir=tmp_path)
    assert gone.returncode == 1 and "none.txt" in gone.stderr
    deleted = qa("articles", "--corpus", str(tiny_corpus), "--delete", "storm", index_dir=tmp_path)
    assert deleted.returncode == 0 and not (tiny_corpus / "storm.txt").exists()
