"""The search contract: a `Searcher` takes a `Query` and returns the `Hits` of one table.

Every search of the pipeline goes through it: the retriever's chunk rankings
(`qa.retrieve.retriever`) and the nearest sentences of the answer stage
(`qa.answer.candidates`). Which searcher does a kind of search ("lexical", "dense") is
registered in `qa.retrieve.backends`; the searchers read the tables an index holds
(`qa.indexing.memory.SearchTable`), whether in this process or spread over Ray shards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np

from qa.text import content_tokens


@dataclass(frozen=True)
class Query:
    """A question ready for retrieval: its text, lexical tokens and unit vector."""

    text: str
    tokens: tuple[str, ...]
    vector: np.ndarray

    @classmethod
    def of(cls, text: str, vector: np.ndarray, lexical: str | None = None) -> "Query":
        """The query of `text`; its lexical tokens are those of `lexical` when given."""
        return cls(text, tuple(content_tokens(text if lexical is None else lexical)), vector)


@dataclass(frozen=True)
class Hits:
    """The rows of one table a search found, best first, with their scores.

    `every` holds the score of every row of the table when the search computed them all
    anyway (BM25 does: 0 for a row without the query's words or outside a filtered view),
    so a feature can read the score of a row beyond the first k.
    """

    rows: np.ndarray  # int64 row numbers of the table
    scores: np.ndarray  # the score of each, same order
    every: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def by_row(self) -> dict[int, float]:
        """{row: score}, best first."""
        return {int(r): float(s) for r, s in zip(self.rows, self.scores)}

    def scores_of(self, rows: Sequence[int]) -> np.ndarray:
        """The score of each of `rows`: from `every` when known, else its hit's score, 0 if it was not found."""
        if self.every is not None:
            return self.every[np.asarray(rows, dtype=np.int64)]
        found = self.by_row()
        return np.array([found.get(int(r), 0.0) for r in rows], dtype=np.float64)


class Searcher(Protocol):
    """One kind of search over one table (chunks or sentences) of one index."""

    def search(self, query: Query, k: int) -> Hits:
        """The `k` best rows for `query`, best first (fewer when fewer match).

        Raises:
            ValueError: k is below 1.
        """
        ...


def best_of(scores: np.ndarray, among: np.ndarray, k: int) -> np.ndarray:
    """The `k` of the indices `among` (ascending) with the highest `scores`, best first, ties in
    index order: only those tied with the k-th or better are sorted, so the order is that of a
    stable sort of them all."""
    if len(among) > k > 0:
        kth = np.partition(scores[among], len(among) - k)[len(among) - k]
        among = among[scores[among] >= kth]
    return among[np.argsort(-scores[among], kind="stable")][:k]


def check_k(k: int) -> None:
    """Refuse a number of hits below 1 (a searcher's `k`)."""
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}; ask for as many hits as you need")
