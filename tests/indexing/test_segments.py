"""Vector segments: an update links the last build's vectors and writes only its new rows."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.indexing import segments, store
from qa.indexing.article_rows import table_of_arrays
from qa.indexing.catalog import ensure_index, forget_cached, index_home
from qa.indexing.rows import StackedRows


def current_build(settings_, corpus: Path) -> Path:
    home = index_home(corpus, settings_)
    return home / (home / "CURRENT").read_text().strip()


def manifest_of(build: Path) -> dict:
    return json.loads((build / "manifest.json").read_text())


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(1, 6), min_size=1, max_size=4),
    st.lists(st.one_of(st.just(-1), st.integers(0, 10**6)), max_size=40),
    st.data(),
)
def test_planned_runs_read_back_the_rows_they_were_planned_for(file_sizes, picks, data) -> None:
    # a previous table laid out as runs over some files, in any order
    files = {f"sentences-{k:012x}.npy": np.arange(size * 2, dtype=np.float32).reshape(size, 2) + 100 * k for k, size in enumerate(file_sizes)}
    previous_runs = []
    for name, array in files.items():
        start = data.draw(st.integers(0, len(array) - 1))
        stop = data.draw(st.integers(start + 1, len(array)))
        previous_runs.append((name, start, stop))
    previous_runs = data.draw(st.permutations(previous_runs))
    previous_table = np.concatenate([files[name][start:stop] for name, start, stop in previous_runs])
    rows = np.asarray([p if p < 0 else p % len(previous_table) for p in picks], dtype=np.int64)
    new_rows = -np.arange(1, int((rows < 0).sum()) + 1, dtype=np.float32).repeat(2).reshape(-1, 2)
    files["sentences-ffffffffffff.npy"] = new_rows

    runs = segments.plan_runs(rows, previous_runs, "sentences-ffffffffffff.npy")

    read = [files[name][start:stop] for name, start, stop in runs]
    table = np.concatenate(read) if read else np.zeros((0, 2), dtype=np.float32)
    expected = np.where((rows < 0)[:, None], 0, previous_table[np.maximum(rows, 0)])
    expected[rows < 0] = new_rows
    assert np.array_equal(table, expected)
    assert all(stop > start for _, start, stop in runs)


def test_an_added_article_writes_only_its_rows_and_links_the_rest(tiny_corpus, fake_settings, fake_embedder) -> None:
    ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    first = current_build(fake_settings, tiny_corpus)
    before = manifest_of(first)
    inodes = {name: os.stat(first / name).st_ino for name in before["vectors"]["files"]}
    (tiny_corpus / "ferry.txt").write_text("A ferry sank near Port Ellis on Friday. Crews searched all night.", encoding="utf-8")

    index = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)

    second = current_build(fake_settings, tiny_corpus)
    after = manifest_of(second)
    linked = {name for name in after["vectors"]["files"] if name in inodes}
    assert linked == set(inodes)  # the first build's segments are the same files, linked
    assert all(os.stat(second / name).st_ino == inodes[name] for name in linked)
    new = {name: rows for name, rows in after["vectors"]["files"].items() if name not in inodes}
    ferry_sentences = sum(s.doc_id == "ferry" for s in index.sentences)
    ferry_chunks = sum(c.doc_id == "ferry" for c in index.chunks)
    assert sorted(new.values()) == sorted([ferry_sentences, ferry_chunks])
    forget_cached()
    loaded = store.load(second)  # runs over linked and new segments read back as one table
    assert isinstance(loaded.sentence_vectors, StackedRows)  # read where the segments lie, not copied together
    assert all(isinstance(array, np.memmap) for array, _, _ in loaded.sentence_vectors.pieces)
    assert np.array_equal(np.asarray(loaded.sentence_vectors), np.asarray(index.sentence_vectors))
    assert np.array_equal(np.asarray(loaded.chunk_vectors), np.asarray(index.stored.chunk_vectors))


def test_a_table_mostly_unread_is_written_whole_again(tiny_corpus, fake_settings, fake_embedder) -> None:
    ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    first = manifest_of(current_build(fake_settings, tiny_corpus))
    keep = min(tiny_corpus.iterdir())
    for path in tiny_corpus.iterdir():
        if path != keep:
            path.unlink()

    index = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)

    build = current_build(fake_settings, tiny_corpus)
    after = manifest_of(build)
    assert not set(after["vectors"]["files"]) & set(first["vectors"]["files"])  # nothing linked: rewritten
    assert after["vectors"]["files"] == {run[0]: run[2] for table in ("chunks", "sentences") for run in after["vectors"][table]}
    assert np.array_equal(np.asarray(store.load(build).sentence_vectors), np.asarray(index.sentence_vectors))


def test_an_update_whose_last_build_is_gone_writes_its_tables_whole(tiny_corpus, fake_settings, fake_embedder, monkeypatch) -> None:
    ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)

    def no_links(source, target):
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(segments.os, "link", no_links)
    (tiny_corpus / "ferry.txt").write_text("A ferry sank near Port Ellis on Friday.", encoding="utf-8")
    index = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)

    build = current_build(fake_settings, tiny_corpus)
    files = manifest_of(build)["vectors"]["files"]
    assert len(files) == 2 and sorted(files.values()) == sorted([len(index.chunks), len(index.sentences)])
    article_files = manifest_of(build)["article_files"]["files"]
    assert list(article_files.values()) == [len(index.articles)]
    assert sorted(p.name for p in build.iterdir()) == sorted([store.MANIFEST, *store.DATA_FILES, *files, *article_files])


def test_an_update_writes_only_its_new_articles_and_a_removed_one_stays_unread(tiny_corpus, fake_settings, fake_embedder) -> None:
    # an update of a year of news wrote every article's text again for one added; now it links them
    ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    first = current_build(fake_settings, tiny_corpus)
    before = manifest_of(first)["article_files"]
    (old,) = before["files"]
    inode = os.stat(first / old).st_ino
    (tiny_corpus / "ferry.txt").write_text("A ferry sank near Port Ellis on Friday. Crews searched all night.", encoding="utf-8")

    added = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)

    second = current_build(fake_settings, tiny_corpus)
    after = manifest_of(second)["article_files"]
    assert os.stat(second / old).st_ino == inode  # the same file, linked
    new = {name: rows for name, rows in after["files"].items() if name != old}
    assert list(new.values()) == [1]  # the ferry article alone
    with np.load(second / next(iter(new))) as stored:
        assert table_of_arrays({key: stored[key] for key in stored.files}, ("text_key",)).doc_ids == ["ferry"]
    forget_cached()
    assert store.load(second).articles == tuple(added.articles.values())

    (tiny_corpus / "harbour.txt").unlink()  # a row of the linked segment no longer read
    removed = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)

    third = current_build(fake_settings, tiny_corpus)
    layout = manifest_of(third)["article_files"]
    assert set(layout["files"]) == set(after["files"]) and len(layout["articles"]) >= 2  # linked, read in runs
    forget_cached()
    loaded = store.load(third).articles
    assert loaded == tuple(removed.articles.values()) and "harbour" not in {a.doc_id for a in loaded}
