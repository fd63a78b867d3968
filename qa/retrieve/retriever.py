"""Hybrid retrieval: BM25 and dense rankings of chunks, fused (weighted by default, see `Settings.fusion`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa.config import Settings
from qa.retrieve.fusion import ranked, rrf, weighted
from qa.indexing.memory import SearchIndex, top_positive
from qa.text import content_tokens

# Each retriever contributes this many of its best chunks to the fusion.
_POOL_FACTOR = 5
_MIN_POOL = 50


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
class RankedChunk:
    """A chunk index with its fused score and the raw scores behind it."""

    index: int
    score: float
    bm25: float
    dense: float


def retrieve(index: SearchIndex, query: Query, settings: Settings, k: int) -> list[RankedChunk]:
    """The `k` best chunks for `query`, by the fusion the settings name.

    Args:
        index: the searchable index.
        query: tokens and vector of the question.
        settings: `fusion` ("rrf", "weighted", "bm25", "dense"), `rrf_k`, `dense_weight`.
        k: how many chunks to return.

    Returns:
        Chunks best first.

    Raises:
        ValueError: k is not positive.
    """
    if k <= 0:
        raise ValueError(f"k must be positive, not {k}")
    total = len(index.chunks)
    if total == 0:
        return []
    pool = min(total, max(_MIN_POOL, k * _POOL_FACTOR))
    bm25_all = index.bm25_chunks(list(query.tokens))
    bm25_top = [int(i) for i in top_positive(bm25_all, pool)]
    dense_ids, dense_scores = index.dense_chunks(query.vector, pool)
    dense = {int(i): float(s) for i, s in zip(dense_ids, dense_scores)}
    if settings.fusion == "bm25":
        fused = {i: float(bm25_all[i]) for i in bm25_top} or dict(list(dense.items())[:k])
    elif settings.fusion == "dense":
        fused = dense
    elif settings.fusion == "weighted":
        fused = weighted(
            [{i: float(bm25_all[i]) for i in bm25_top}, dense],
            [1.0 - settings.dense_weight, settings.dense_weight],
        )
    else:
        fused = rrf([bm25_top, list(dense)], k=settings.rrf_k)
    return [
        RankedChunk(i, score, float(bm25_all[i]), dense[i] if i in dense else index.chunk_similarity(i, query.vector))
        for i, score in ranked(fused, limit=k)
    ]
