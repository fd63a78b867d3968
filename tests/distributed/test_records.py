"""The coordinator's records written once beside the shards and read in place
(`qa.distributed.records`); no Ray needed: the records of one build stand in for the joined
shards'."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.distributed.records import RECORDS_MANIFEST, coordinator_records
from qa.indexing import store

CHECKSUM = "sha256:" + "ab" * 32


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "shards"
    folder.mkdir()
    return folder


@pytest.fixture
def records(tiny_corpus, fake_settings, fake_embedder) -> dict:
    from qa.indexing.catalog import ensure_index
    from tests.indexing.test_index import current_build

    ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    loaded = store.load(current_build(fake_settings, tiny_corpus))
    return {name: getattr(loaded, name) for name in ("articles", "sentences", "sentence_tokens", "chunks", "chunk_tokens")}


def _same(found: dict, expected: dict) -> None:
    assert [(a.doc_id, a.title, a.text, a.path, a.published) for a in found["articles"]] == [
        (a.doc_id, a.title, a.text, a.path, a.published) for a in expected["articles"]
    ]
    for name in ("sentences", "chunks"):
        assert list(found[name]) == list(expected[name])
    for name in ("sentence_tokens", "chunk_tokens"):
        assert [tuple(t) for t in found[name]] == [tuple(t) for t in expected[name]]


def test_records_are_written_once_then_read_in_place(home: Path, records: dict) -> None:
    calls = []

    def joined() -> dict:
        calls.append(1)
        return records

    first = coordinator_records(home, CHECKSUM, joined)
    _same(first, records)
    assert calls == [1] and len(first["mappings"]) == 3  # sentences, chunks, the article segment
    folder = next(home.glob("records-*"))
    written = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    again = coordinator_records(home, CHECKSUM, joined)
    _same(again, records)
    assert calls == [1] and {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == written


def test_damaged_records_are_written_again_and_older_ones_removed(home: Path, records: dict) -> None:
    coordinator_records(home, CHECKSUM, lambda: records)
    folder = next(home.glob("records-*"))
    data = bytearray((folder / "sentences.npz").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / "sentences.npz").write_bytes(bytes(data))
    calls = []
    _same(coordinator_records(home, CHECKSUM, lambda: calls.append(1) or records), records)
    assert calls == [1]
    (folder / RECORDS_MANIFEST).unlink()
    _same(coordinator_records(home, CHECKSUM, lambda: calls.append(1) or records), records)
    assert calls == [1, 1]
    newer = coordinator_records(home, "sha256:" + "cd" * 32, lambda: records)  # the shards were built again
    _same(newer, records)
    assert [p.name for p in home.iterdir()] == [f"records-{'cd' * 8}"]


def test_records_that_cannot_be_written_are_held_in_memory(home: Path, records: dict) -> None:
    blocked = home / "a-file"
    blocked.write_text("not a folder")
    found = coordinator_records(blocked, CHECKSUM, lambda: records)
    assert found["mappings"] == () and found["sentences"] is records["sentences"]
