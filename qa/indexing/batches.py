"""A build's fresh records held as tables, a batch of articles at a time.

A fresh article's sentences, chunks and tokens are first Python records (`qa.indexing.parts`):
about 1.2 KB a sentence, most of it token strings. Held for a whole archive until the index is
put together, they were the largest part of a build's memory after the vectors (0.76 GB of a
3.9 GB peak for the 624,724 sentences of a year of news). So every `BATCH_SENTENCES` sentences,
the articles read since the last batch are joined into tables (`qa.indexing.joining`), and their
`Parts` become `Rows` of those tables: the records are dropped, and the final join copies the
batches' columns in a block each, as it does for what an update takes over. The index is the
same whatever the batch size (a test builds with batches of a few sentences).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from qa.indexing.heap import Scratch, table_in
from qa.indexing.ivf import release_pages
from qa.indexing.joining import Rows, joined_chunks, joined_sentences, joined_tokens
from qa.indexing.parts import Parts, pooled_chunk_vectors
from qa.indexing.rows import StackedRows, joined_rows
from qa.indexing.tables import ChunkTable, SentenceTable, TokenTable
from qa.types import Article

BATCH_SENTENCES = 50_000  # about 60 MB of records held at once


class Batches:
    """Collects a build's `Parts` in order; fresh ones are made tables a batch at a time."""

    def __init__(self, skipped: dict[str, str] | None = None) -> None:
        self.size = BATCH_SENTENCES
        self.parts: list[Parts] = []
        self.articles: list[Article] = []  # those of `parts`
        self.skipped: dict[str, str] = skipped if skipped is not None else {}  # doc id -> why it was left out
        self._fresh: list[int] = []  # where in `parts` the fresh articles since the last batch are
        self._held = 0  # their sentences
        self._made: list[int] = []  # where every fresh article is

    def add(self, article: Article, own: Parts, fresh: bool) -> None:
        self.parts.append(own)
        self.articles.append(article)
        if fresh:
            self._fresh.append(len(self.parts) - 1)
            self._made.append(len(self.parts) - 1)
            self._held += len(own.sentences)
            if self._held >= self.size:
                self.close_batch()

    def close_batch(self) -> None:
        """Join the fresh articles since the last batch into tables and keep their rows."""
        if not self._fresh:
            return
        parts = [self.parts[i] for i in self._fresh]
        articles = [self.articles[i] for i in self._fresh]
        self._point_at(self._fresh, _joined(parts, articles), set(self._fresh))
        self._fresh, self._held = [], 0

    def joined(self) -> Tables:
        """The build's tables: every part end to end. The fresh parts are then rows of them,
        so that the batches' tables are let go (the parts taken over stay as they were:
        `qa.indexing.reuse.Reusable.kept_rows` knows them by identity)."""
        self.close_batch()
        tables = _joined(self.parts, self.articles)
        self._point_at(range(len(self.parts)), tables, set(self._made))
        return tables

    def _point_at(self, held: Sequence[int], tables: Tables, fresh: set[int]) -> None:
        """The parts at `held` are the rows of `tables`, back to back: make those of them in
        `fresh` rows of the tables."""
        sentences, sentence_tokens, chunks, chunk_tokens = tables
        s = c = 0
        for i in held:
            own = self.parts[i]
            s_end, c_end = s + len(own.sentences), c + len(own.chunks)
            if i in fresh:
                self.parts[i] = Parts(
                    own.sha256,
                    Rows(sentences, s, s_end),
                    Rows(sentence_tokens, s, s_end),
                    Rows(chunks, c, c_end),
                    Rows(chunk_tokens, c, c_end),
                )
            s, c = s_end, c_end


Tables = tuple[SentenceTable, TokenTable, ChunkTable, TokenTable]


def _joined(parts: Sequence[Parts], articles: Sequence[Article]) -> Tables:
    return (
        joined_sentences([p.sentences for p in parts], articles),
        joined_tokens([p.sentence_tokens for p in parts]),
        joined_chunks([p.chunks for p in parts], articles),
        joined_tokens([p.chunk_tokens for p in parts]),
    )


def chunk_table(
    parts: Sequence[Parts], sentence_vectors: np.ndarray | StackedRows, scratch: Scratch | None = None
) -> np.ndarray | StackedRows:
    """Chunk vectors article by article: those of an article taken over read where the previous
    build holds them (`qa.indexing.rows`), the others pooled from their sentences' vectors, each
    run of such articles into one array made at its final size (no copies joined together), in
    a file of `scratch` where it takes it (`qa.indexing.parts.pooled_chunk_vectors`: the
    arithmetic is part of what the pipeline fingerprint hashes)."""
    width = int(sentence_vectors.shape[1])
    blocks: list[Any] = []
    run: list[tuple[Parts, int]] = []  # articles to pool, each with the row of its first sentence
    row = 0
    for own in parts:
        if own.chunk_vectors is not None:
            if run:
                blocks.append(_pooled_run(run, sentence_vectors, scratch))
                run = []
            blocks.append(own.chunk_vectors)
        else:
            run.append((own, row))
        row += len(own.sentences)
    if run:
        blocks.append(_pooled_run(run, sentence_vectors, scratch))
    release_pages(sentence_vectors)
    return joined_rows(blocks, width) if blocks else np.zeros((0, width), dtype=np.float32)


def _pooled_run(run: list[tuple[Parts, int]], vectors: np.ndarray | StackedRows, scratch: Scratch | None) -> np.ndarray:
    out = table_in(scratch, sum(len(own.chunks) for own, _ in run), int(vectors.shape[1]))
    at = 0
    for k, (own, row) in enumerate(run):
        first, last = _chunk_spans(own.chunks)
        pooled_chunk_vectors(out[at : at + len(first)], first, last, _positions(own.sentences), vectors[row : row + len(own.sentences)])
        at += len(first)
        if k % 512 == 511:  # memory-mapped tables: what was read and written stays in the files
            release_pages(vectors)
            release_pages(out)
    release_pages(out)
    return out


def _chunk_spans(chunks: Rows) -> tuple[list[int], list[int]]:
    columns, a, b = chunks.table.columns, chunks.start, chunks.stop  # a fresh article's: rows of a ChunkTable
    return columns["first_sentence"][a:b].tolist(), columns["last_sentence"][a:b].tolist()


def _positions(sentences: Rows) -> list[int]:
    return sentences.table.positions[sentences.start : sentences.stop].tolist()  # of a SentenceTable
