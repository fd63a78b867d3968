"""Hybrid retrieval: lexical (BM25) and dense rankings of chunks, each from its registered searcher
(`qa.retrieve.backends`), fused (weighted by default, see `Settings.fusion`)."""

from __future__ import annotations

from dataclasses import dataclass

from qa.config import Settings
from qa.indexing.memory import SearchIndex
from qa.retrieve.backends import DENSE, LEXICAL, searcher
from qa.retrieve.fusion import ranked, rrf, weighted
from qa.retrieve.searcher import Query

# Each retriever contributes this many of its best chunks to the fusion.
_POOL_FACTOR = 5
_MIN_POOL = 50


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
    lexical = searcher(index, "chunks", LEXICAL).search(query, pool)
    bm25 = lexical.by_row()
    dense = searcher(index, "chunks", DENSE).search(query, pool).by_row()
    if settings.fusion == "bm25":
        fused = bm25 or dict(list(dense.items())[:k])
    elif settings.fusion == "dense":
        fused = dense
    elif settings.fusion == "weighted":
        fused = weighted([bm25, dense], [1.0 - settings.dense_weight, settings.dense_weight])
    else:
        fused = rrf([list(bm25), list(dense)], k=settings.rrf_k)
    best = ranked(fused, limit=k)
    bm25_of = lexical.scores_of([i for i, _ in best])
    return [
        RankedChunk(i, score, float(bm25_of[at]), dense[i] if i in dense else index.chunk_similarity(i, query.vector))
        for at, (i, score) in enumerate(best)
    ]
