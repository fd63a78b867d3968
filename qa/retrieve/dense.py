"""Dense search: the nearest unit vectors by inner product (cosine similarity).

Over a table's vector index (`qa.indexing.nearest`): exact FAISS search, an inverted file
above 40k vectors, or a sharded index's shards. A filtered view that keeps up to
`EXACT_AMONG_MAX` rows (a week of a news archive, an outlet) is searched exactly among them;
one that keeps more (all articles published before the day a question is asked as of)
searches the inverted file with the rest masked out, rather than reading (and copying)
nearly the whole vector table for every question.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from qa.indexing.ivf import IvfSearch
from qa.indexing.memory import SearchIndex
from qa.indexing.nearest import VectorIndex
from qa.indexing.rows import read_rows
from qa.indexing.views import RecentViews
from qa.retrieve.searcher import Hits, Query, best_of, check_k


class DenseSearcher:
    """The rows whose vectors are nearest the query's vector."""

    def __init__(
        self,
        vectors_index: VectorIndex,
        vectors: np.ndarray,
        keep: np.ndarray | None = None,
        views: RecentViews | None = None,
    ) -> None:
        self.vectors_index = vectors_index
        self.vectors = vectors
        self.keep = keep
        self.views = views  # where the vectors of a recent view's rows are kept (None: read each time)

    @classmethod
    def over(cls, index: SearchIndex, table: str) -> DenseSearcher:
        """The dense searcher of `index`'s `table` ("chunks" or "sentences")."""
        found = index.tables[table]
        return cls(found.vectors_index, found.vectors, found.keep, index.recent_views)

    def search(self, query: Query, k: int) -> Hits:
        check_k(k)
        masked = isinstance(self.vectors_index, IvfSearch) and self.keep is not None
        if self.keep is not None and not (masked and int(self.keep.sum()) > EXACT_AMONG_MAX):
            return self._search_among(self.keep, query.vector, k)
        n = min(k, self.vectors_index.ntotal)
        if n <= 0:
            return Hits(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
        vector = np.ascontiguousarray(query.vector.reshape(1, -1), dtype=np.float32)
        if masked:
            scores, ids = self.vectors_index.search(vector, n, keep=self.keep)
        else:
            scores, ids = self.vectors_index.search(vector, n)
        found = ids[0] >= 0
        return Hits(ids[0][found], scores[0][found])

    def _search_among(self, keep: np.ndarray, vector: np.ndarray, n: int) -> Hits:
        """Exact search among the kept rows only (their vectors read once for a recent view)."""
        if self.views is not None:
            rows, vectors = self.views.vectors_kept(keep, partial(read_rows, self.vectors))
        else:
            rows = np.flatnonzero(keep)
            vectors = read_rows(self.vectors, rows)
        return _nearest_among(rows, vectors, vector, n)


EXACT_AMONG_MAX = 50_000  # kept rows searched exactly (about 10 ms); more are searched through the inverted file


def _nearest_among(rows: np.ndarray, vectors: np.ndarray, vector: np.ndarray, n: int) -> Hits:
    """The `n` of `rows` (whose vectors are `vectors`) nearest `vector`, best first, ties in row order."""
    if not len(rows):
        return Hits(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
    scores = np.asarray(vectors @ np.asarray(vector, dtype=np.float32).reshape(-1), dtype=np.float32)
    order = best_of(scores, np.arange(len(scores)), n)
    return Hits(rows[order].astype(np.int64), scores[order])
