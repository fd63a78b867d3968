"""One article's records in an index: its sentences, chunks, BM25 tokens and chunk vectors.

This module and `qa.ingest` decide what an index holds: `qa.indexing.build.pipeline_fingerprint`
hashes them, so a change here rebuilds indexes made by the old code.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Sequence

import numpy as np

from qa.config import Settings
from qa.indexing.joining import Rows
from qa.indexing.rows import StackedRows
from qa.ingest.chunker import chunk_sentences
from qa.text import content_tokens
from qa.types import Article, Chunk, Sentence


class Parts(NamedTuple):
    """One article's records in an index; `chunk_vectors` is None until pooled. Taken over
    from a loaded build, its sentences, chunks and tokens are `Rows` of that build's tables, and its
    chunk vectors the rows of that build's table (`qa.indexing.rows.StackedRows`). A named
    tuple: an update makes one per article taken over, and a frozen dataclass took four times
    as long to make."""

    sha256: str
    sentences: Sequence[Sentence] | Rows
    sentence_tokens: Sequence[tuple[str, ...]] | Rows
    chunks: tuple[Chunk, ...] | Rows
    chunk_tokens: Sequence[tuple[str, ...]] | Rows
    chunk_vectors: np.ndarray | StackedRows | None = None


def article_parts(article: Article, sentences: list[Sentence], settings: Settings) -> Parts:
    chunks = chunk_sentences(article, sentences, settings.chunk_sentences, settings.chunk_overlap)
    return Parts(
        article.sha256,
        tuple(sentences),
        tuple(tuple(content_tokens(s.text)) for s in sentences),
        tuple(chunks),
        tuple(tuple(content_tokens(c.text)) for c in chunks),
    )


def pooled_chunk_vectors(
    out: np.ndarray, first: Sequence[int], last: Sequence[int], positions: Sequence[int], vectors: Any
) -> None:
    """Each chunk's vector into `out`: the mean of the unit vectors of its sentences (positions
    `first`..`last` in one article, whose sentences at `positions` have the rows of `vectors`),
    made unit length again."""
    row_of = {p: i for i, p in enumerate(positions)}
    for i, (a, b) in enumerate(zip(first, last)):
        pooled = vectors[[row_of[p] for p in range(a, b + 1)]].mean(axis=0)
        out[i] = pooled / max(float(np.linalg.norm(pooled)), 1e-12)
