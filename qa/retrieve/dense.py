"""Dense search: the nearest unit vectors by inner product (cosine similarity).

Over a table's vector index (`qa.indexing.nearest`): exact FAISS search, an inverted file
above 40k vectors, or a sharded index's shards. A filtered view usually keeps a small
share of the corpus, so it is searched exactly among its kept rows instead.
"""

from __future__ import annotations

import numpy as np

from qa.indexing.memory import SearchIndex
from qa.indexing.nearest import VectorIndex
from qa.retrieve.searcher import Hits, Query, check_k


class DenseSearcher:
    """The rows whose vectors are nearest the query's vector."""

    def __init__(self, vectors_index: VectorIndex, vectors: np.ndarray, keep: np.ndarray | None = None) -> None:
        self.vectors_index = vectors_index
        self.vectors = vectors
        self.keep = keep

    @classmethod
    def over(cls, index: SearchIndex, table: str) -> DenseSearcher:
        """The dense searcher of `index`'s `table` ("chunks" or "sentences")."""
        found = index.tables[table]
        return cls(found.vectors_index, found.vectors, found.keep)

    def search(self, query: Query, k: int) -> Hits:
        check_k(k)
        if self.keep is not None:
            return _search_among(self.vectors, self.keep, query.vector, k)
        n = min(k, self.vectors_index.ntotal)
        if n <= 0:
            return Hits(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
        scores, ids = self.vectors_index.search(np.ascontiguousarray(query.vector.reshape(1, -1), dtype=np.float32), n)
        found = ids[0] >= 0
        return Hits(ids[0][found], scores[0][found])


def _search_among(vectors: np.ndarray, keep: np.ndarray, vector: np.ndarray, n: int) -> Hits:
    """Exact search among the kept rows only."""
    rows = np.flatnonzero(keep)
    if not len(rows):
        return Hits(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
    scores = np.asarray(vectors[rows] @ np.asarray(vector, dtype=np.float32).reshape(-1), dtype=np.float32)
    order = np.argsort(-scores, kind="stable")[:n]
    return Hits(rows[order].astype(np.int64), scores[order])
