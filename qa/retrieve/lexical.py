"""Lexical search: BM25 over a table's postings (`qa.indexing.postings`)."""

from __future__ import annotations

import numpy as np

from qa.indexing.memory import SearchIndex
from qa.indexing.postings import TermScores
from qa.retrieve.searcher import Hits, Query, best_of, check_k


class LexicalSearcher:
    """The rows with the highest BM25 scores for the query's tokens (rank-bm25's Okapi scores).

    Only rows with a positive score are hits, so a query without a known word finds none;
    a filtered view's rows outside it score 0. `Hits.every` carries every row's score.
    """

    def __init__(self, postings: TermScores, keep: np.ndarray | None = None) -> None:
        self.postings = postings
        self.keep = keep

    @classmethod
    def over(cls, index: SearchIndex, table: str) -> LexicalSearcher:
        """The lexical searcher of `index`'s `table` ("chunks" or "sentences")."""
        found = index.tables[table]
        return cls(found.postings, found.keep)

    def search(self, query: Query, k: int) -> Hits:
        check_k(k)
        scores = self.postings.scores(list(query.tokens))
        if self.keep is not None:
            scores = np.where(self.keep, scores, 0.0)
        rows = top_positive(scores, k)
        return Hits(rows, scores[rows], scores)


def top_positive(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the `k` highest positive scores, best first, ties in index order."""
    return best_of(scores, np.flatnonzero(scores > 0), k)
