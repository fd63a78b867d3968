"""The views of one index share their row masks and the vectors read for them (`qa.indexing.views`)."""

from __future__ import annotations

import numpy as np
import pytest

from qa.indexing.catalog import ensure_index
from qa.indexing.views import RecentViews
from qa.retrieve.dense import DenseSearcher
from qa.retrieve.searcher import Query


def _mask(n: int, seed: int, share: float = 0.5) -> np.ndarray:
    return np.random.default_rng(seed).random(n) < share


def test_a_view_of_the_same_articles_gets_the_same_read_only_mask_made_once() -> None:
    views, made = RecentViews(views=2), []

    def make(articles: np.ndarray):
        def run() -> np.ndarray:
            made.append(1)
            return np.repeat(articles, 3)
        return run

    first, second = _mask(10, 0), _mask(10, 1)
    keep = views.rows_kept("sentences", first, make(first))
    assert np.array_equal(keep, np.repeat(first, 3)) and not keep.flags.writeable
    assert views.rows_kept("sentences", first.copy(), make(first)) is keep  # equal articles, another array
    assert views.rows_kept("chunks", first, make(first)) is not keep  # another table
    assert len(made) == 2
    views.rows_kept("sentences", second, make(second))  # a third view: the oldest (sentences, first) goes
    again = views.rows_kept("sentences", first, make(first))
    assert again is not keep and np.array_equal(again, keep) and len(made) == 4
    with pytest.raises(ValueError):
        again[0] = not again[0]


def test_the_vectors_of_a_handed_out_mask_are_read_once_and_those_of_any_other_mask_every_time() -> None:
    views, table, reads = RecentViews(), np.random.default_rng(0).random((40, 4)).astype(np.float32), []

    def read(rows: np.ndarray) -> np.ndarray:
        reads.append(rows)
        return table[rows]

    articles = _mask(20, 2)
    keep = views.rows_kept("sentences", articles, lambda: np.repeat(articles, 2))
    for _ in range(3):
        rows, vectors = views.vectors_kept(keep, read)
        assert np.array_equal(rows, np.flatnonzero(keep)) and np.array_equal(vectors, table[rows])
    assert len(reads) == 1
    foreign = keep.copy()  # equal, but not a mask the views handed out: nothing says it stays as it is
    for _ in range(2):
        rows, vectors = views.vectors_kept(foreign, read)
        assert np.array_equal(vectors, table[np.flatnonzero(keep)])
    assert len(reads) == 3


def test_vectors_beyond_the_budget_are_not_kept_and_the_oldest_go_first() -> None:
    row_bytes = 4 * 4
    views, table, reads = RecentViews(views=8, vector_bytes=10 * row_bytes), np.ones((40, 4), dtype=np.float32), []

    def read(rows: np.ndarray) -> np.ndarray:
        reads.append(len(rows))
        return table[rows]

    def view(rows: list[int], key: int) -> np.ndarray:
        articles = np.zeros(40, dtype=bool)
        articles[key] = True  # a distinct key per view
        keep = np.zeros(40, dtype=bool)
        keep[rows] = True
        return views.rows_kept("sentences", articles, lambda: keep)

    big, old, new = view(list(range(11)), 0), view(list(range(6)), 1), view(list(range(6, 12)), 2)
    for keep in (big, big, old, new, new, old):
        views.vectors_kept(keep, read)
    # 11 rows never fit 10; the 6 of `old` went when the 6 of `new` came, and were read again
    assert reads == [11, 11, 6, 6, 6]


def test_a_view_searched_twice_reads_its_vectors_once_and_finds_what_a_search_reading_the_file_finds(
    monkeypatch, tiny_corpus, fake_settings, fake_embedder
) -> None:
    import qa.retrieve.dense as dense

    index = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    articles = np.zeros(len(index.articles), dtype=bool)
    articles[::2] = True
    view = index.within_articles(articles)
    assert index.within_articles(articles).tables["sentences"].keep is view.tables["sentences"].keep
    read, counted = dense.read_rows, []
    monkeypatch.setattr(dense, "read_rows", lambda table, rows: counted.append(1) or read(table, rows))
    for question in ["Who cut the ribbon?", "When did the storm close the port?", "Who cut the ribbon?"]:
        query = Query(question, (), fake_embedder.encode([question])[0])
        table = view.tables["sentences"]
        shared = DenseSearcher.over(view, "sentences").search(query, 5)
        alone = DenseSearcher(table.vectors_index, table.vectors, table.keep).search(query, 5)
        assert np.array_equal(shared.rows, alone.rows) and np.array_equal(shared.scores, alone.scores)
        assert table.keep[shared.rows].all()
    assert len(counted) == 1 + 3  # the shared searches' one read, and each of the others'
