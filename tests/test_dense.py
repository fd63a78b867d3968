"""Dense search: exact up to a size, inverted-file above it, with recall checked against exact."""

from __future__ import annotations

import numpy as np

from qa.indexing import ivf, memory


def clustered(n: int, dimension: int = 32, centres: int = 40, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    middle = rng.standard_normal((centres, dimension))
    points = middle[rng.integers(centres, size=n)] + 0.3 * rng.standard_normal((n, dimension))
    return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)


def test_small_collections_are_searched_exactly_and_share_their_vectors() -> None:
    vectors = clustered(500)
    index, view = memory.dense_index(vectors)
    assert index.ntotal == 500 and np.array_equal(view, vectors)
    ids, scores = memory._search(index, vectors[7], 3)
    assert ids[0] == 7 and scores[0] == np.float32(vectors[7] @ vectors[7])


def test_large_collections_use_an_inverted_file_with_high_recall(monkeypatch) -> None:
    monkeypatch.setattr(ivf, "FLAT_MAX_VECTORS", 1000)
    vectors = clustered(20000)
    index, kept = memory.dense_index(vectors)
    assert index.ntotal == 20000 and kept is vectors and hasattr(index, "nprobe")
    exact, _ = memory.flat_ip(vectors)
    queries = clustered(50, seed=1)
    recall = np.mean([
        len(set(memory._search(exact, q, 10)[0]) & set(memory._search(index, q, 10)[0])) / 10 for q in queries
    ])
    assert recall >= 0.95
