"""Dense search: exact up to a size, inverted-file above it, with recall checked against exact."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.indexing import ivf
from qa.indexing.nearest import dense_index, flat_ip
from qa.retrieve.dense import DenseSearcher
from qa.retrieve.searcher import Query


def nearest(index, vectors: np.ndarray, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    hits = DenseSearcher(index, vectors).search(Query("", (), vector), k)
    return hits.rows, hits.scores


def clustered(n: int, dimension: int = 32, centres: int = 40, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    middle = rng.standard_normal((centres, dimension))
    points = middle[rng.integers(centres, size=n)] + 0.3 * rng.standard_normal((n, dimension))
    return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)


def test_small_collections_are_searched_exactly_and_share_their_vectors() -> None:
    vectors = clustered(500)
    index, view = dense_index(vectors)
    assert index.ntotal == 500 and np.array_equal(view, vectors)
    ids, scores = nearest(index, view, vectors[7], 3)
    assert ids[0] == 7 and scores[0] == np.float32(vectors[7] @ vectors[7])


def test_large_collections_use_an_inverted_file_with_high_recall(monkeypatch) -> None:
    monkeypatch.setattr(ivf, "FLAT_MAX_VECTORS", 1000)
    vectors = clustered(20000)
    index, kept = dense_index(vectors)
    assert index.ntotal == 20000 and kept is vectors and hasattr(index, "nprobe")
    exact, _ = flat_ip(vectors)
    queries = clustered(50, seed=1)
    recall = np.mean([
        len(set(nearest(exact, vectors, q, 10)[0]) & set(nearest(index, vectors, q, 10)[0])) / 10 for q in queries
    ])
    assert recall >= 0.95


def test_a_filtered_view_is_searched_exactly_among_its_rows() -> None:
    vectors = clustered(500)
    index, view = dense_index(vectors)
    keep = np.zeros(500, dtype=bool)
    keep[[3, 9, 250, 499]] = True
    hits = DenseSearcher(index, view, keep).search(Query("", (), vectors[7]), 10)
    expected = np.array([3, 9, 250, 499])[np.argsort(-(vectors[[3, 9, 250, 499]] @ vectors[7]), kind="stable")]
    assert hits.rows.tolist() == expected.tolist() and hits.every is None


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(-3, 3), min_size=0, max_size=40),
    st.integers(1, 45),
)
def test_the_nearest_among_kept_rows_come_best_first_with_ties_in_row_order(values, n) -> None:
    from qa.retrieve.dense import _nearest_among

    # vectors whose inner product with (1, 0) is each value: many ties
    vectors = np.array([[v, 0.0] for v in values], dtype=np.float32).reshape(-1, 2)
    rows = np.arange(len(values), dtype=np.int64) * 3 + 1
    hits = _nearest_among(rows, vectors, np.array([1.0, 0.0], dtype=np.float32), n)
    expected = np.argsort(-np.array(values, dtype=np.float32), kind="stable")[:n]
    assert np.array_equal(hits.rows, rows[expected])
    assert np.array_equal(hits.scores, np.array(values, dtype=np.float32)[expected])
