"""A dump is read a row at a time: its articles come as they are parsed, the same as a whole read."""

from __future__ import annotations

import json
import random
import warnings

import pytest

from qa.errors import CorpusError
from qa.ingest.corpus import CorpusWarning, each_article, load_corpus
from qa.ingest.formats import jsonl_dump


def test_lines_are_split_a_block_at_a_time_as_splitlines_splits_them(monkeypatch) -> None:
    rng = random.Random(7)
    pieces = ["row", "{}", " ", "\n", "\r", "\r\n", "\u2028", "\x85", "\x1c", "\v", "\f", "é"]
    for _ in range(500):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 80)))
        monkeypatch.setattr(jsonl_dump, "LINES_AT_ONCE", rng.randint(1, 6))
        assert list(jsonl_dump._lines(text)) == text.splitlines()


def test_a_dumps_articles_come_before_its_last_row_is_read(tmp_path) -> None:
    rows = [json.dumps({"id": f"r{n}", "title": f"Row {n}", "text": f"The ferry left at {n} o'clock."}) for n in range(5)]
    (tmp_path / "feed.jsonl").write_text("\n".join([*rows, "not json"]) + "\n", encoding="utf-8")
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        reading = each_article(tmp_path)
        first = next(reading)
        assert first.doc_id == "feed#r0" and not said  # the bad last row is not read yet
        rest = list(reading)
    assert [a.doc_id for a in rest] == [f"feed#r{n}" for n in range(1, 5)]
    assert [str(w.message) for w in said] == [f"skipped {tmp_path / 'feed.jsonl'} line 6: not JSON (Expecting value: line 1 column 1 (char 0))"]
    assert [first, *rest] == _quietly(lambda: load_corpus(tmp_path))


def test_a_repeated_text_is_skipped_as_read_and_an_empty_corpus_said_at_the_end(tmp_path) -> None:
    same = {"text": "Mayor Anna Lind cut the ribbon on Saturday."}
    (tmp_path / "a.jsonl").write_text(json.dumps({"id": 1, **same}) + "\n" + json.dumps({"id": 2, **same}) + "\n", encoding="utf-8")
    with pytest.warns(CorpusWarning, match=r"a\.jsonl \(2\): it has the same text as .*a\.jsonl \(1\)"):
        assert [a.doc_id for a in each_article(tmp_path)] == ["a#1"]
    (tmp_path / "a.jsonl").write_text("{}\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="none readable"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        list(each_article(tmp_path))


def _quietly(action):  # noqa: ANN001, ANN202
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return action()
