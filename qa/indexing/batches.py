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

from array import array
from typing import Any, Iterable, Sequence

import numpy as np

from qa.indexing.article_table import ArticleTable
from qa.indexing.heap import Scratch, table_in, trim_heap
from qa.indexing.rows import release_pages
from qa.indexing.lazy_rows import LazyRows
from qa.indexing.joining import Rows, joined_chunks, joined_sentences, joined_tokens
from qa.indexing.parts import Parts, pooled_chunk_vectors
from qa.indexing.rows import StackedRows, joined_rows
from qa.indexing.tables import ChunkTable, SentenceTable, TokenTable
from qa.types import Article

BATCH_SENTENCES = 50_000  # about 60 MB of records held at once


class Batches:
    """Collects a build's `Parts` in order, each with its article's row in the build's input
    `source`; fresh ones are made tables a batch at a time.

    A fresh article is then only numbers (which batch's tables, from which rows, how many),
    and its `Parts` are made as `parts` are read: a dump of a million one-sentence rows held
    a `Parts` and four `Rows` per article (0.3 KB each). The articles are kept as rows of
    `source`, so an `ArticleTable` source is never a record per article (`articles` is its
    kept rows, itself when every article is kept).
    """

    def __init__(self, source: Sequence[Article], skipped: dict[str, str] | None = None) -> None:
        self.size = BATCH_SENTENCES
        self.source = source
        self.skipped: dict[str, str] = skipped if skipped is not None else {}  # doc id -> why it was left out
        self._codes = array("q")  # per part: its article's row in `source`
        self._counts = (array("q"), array("q"))  # per part: its sentences, its chunks
        self._taken: dict[int, Parts] = {}  # the parts taken over whole, by place (kept as they are)
        self._pending: dict[int, Parts] = {}  # the fresh parts since the last batch, by place
        self._held = 0  # their sentences
        # per fresh part once its batch is joined: the batch, and its first sentence and chunk row there
        self._batch, self._first = array("i"), (array("q"), array("q"))
        self._tables: list[Tables] = []  # each batch's tables; once joined, the build's alone
        self._articles: Sequence[Article] | None = None

    def add(self, code: int, own: Parts, fresh: bool) -> None:
        """Add the parts of the article at row `code` of `source`."""
        place = len(self._codes)
        self._codes.append(code)
        self._counts[0].append(len(own.sentences))
        self._counts[1].append(len(own.chunks))
        self._batch.append(-1)
        self._first[0].append(0)
        self._first[1].append(0)
        self._articles = None
        if not fresh:
            self._taken[place] = own
            return
        self._pending[place] = own
        self._held += len(own.sentences)
        if self._held >= self.size:
            self.close_batch()

    @property
    def parts(self) -> Sequence[Parts]:
        """Every article's `Parts`, in order (a fresh one's made when read)."""
        return _PartsOf(self)

    @property
    def articles(self) -> Sequence[Article]:
        """The articles of `parts`, in order (the same object until a part is added)."""
        if self._articles is None:
            self._articles = self._rows(np.frombuffer(self._codes, dtype=np.int64).copy() if self._codes else np.zeros(0, np.int64))
        return self._articles

    def _rows(self, codes: np.ndarray) -> Sequence[Article]:
        source = self.source
        if isinstance(source, ArticleTable):
            return source if np.array_equal(codes, np.arange(len(source))) else source.take(codes)
        return [source[c] for c in codes.tolist()]

    def close_batch(self) -> None:
        """Join the fresh articles since the last batch into tables and keep their rows."""
        if not self._pending:
            return
        places = list(self._pending)
        articles = self._rows(np.asarray([self._codes[i] for i in places], dtype=np.int64))
        tables = _joined([self._pending[i] for i in places], articles)
        self._place(places, len(self._tables))
        self._tables.append(tables)
        self._pending, self._held = {}, 0

    def joined(self) -> Tables:
        """The build's tables: every part end to end. The fresh parts are then rows of them,
        so that the batches' tables are let go (the parts taken over stay as they were:
        `qa.indexing.reuse.Reusable.kept_rows` knows them by identity)."""
        self.close_batch()
        articles = self.articles
        joins = (
            lambda pieces: joined_sentences(pieces, articles), joined_tokens,
            lambda pieces: joined_chunks(pieces, articles), joined_tokens,
        )
        made = []
        trim_heap()  # what reading the articles left, handed back before the build's fullest moment
        for kind, join in enumerate(joins):
            made.append(join(self._pieces(kind)))
            # the batches' tables of this kind are copied: let them go (and their pages) before
            # the next kind is joined (with the two below, a million one-sentence rows peaked
            # 0.3 GB lower: `docs/benchmarks.md`)
            self._tables = [_without(batch, kind) for batch in self._tables]
            trim_heap()
        tables: Tables = (made[0], made[1], made[2], made[3])
        self._tables = [tables]
        self._place(range(len(self._codes)), 0)
        return tables

    def _place(self, places: Iterable[int], batch: int) -> None:
        """The parts at `places` are rows of the tables of `batch`, back to back: record
        where each fresh one of them starts there."""
        counts, first = self._counts, self._first
        rows = [0, 0]
        for i in places:
            if i not in self._taken:
                self._batch[i] = batch
                first[0][i], first[1][i] = rows
            rows[0] += counts[0][i]
            rows[1] += counts[1][i]

    def _pieces(self, kind: int) -> Any:
        """Every part's records of one kind (0 sentences, 1 their tokens, 2 chunks, 3 their
        tokens), in order: a taken-over part's as they are, each fresh one as `Rows` of its
        batch's table (runs of them coalesced by `joined_*`)."""
        rows = 0 if kind < 2 else 1  # counted in sentences, else in chunks
        for i in range(len(self._codes)):
            own = self._taken.get(i)
            if own is not None:
                yield (own.sentences, own.sentence_tokens, own.chunks, own.chunk_tokens)[kind]
            else:
                start = self._first[rows][i]
                yield Rows(self._tables[self._batch[i]][kind], start, start + self._counts[rows][i])

    def part(self, i: int) -> Parts:
        """The parts of the i-th article added."""
        own = self._taken.get(i) or self._pending.get(i)
        if own is not None:
            return own
        tables = self._tables[self._batch[i]]
        s, c = self._first[0][i], self._first[1][i]
        s_end, c_end = s + self._counts[0][i], c + self._counts[1][i]
        code, source = self._codes[i], self.source
        sha256 = source.column("sha256")[code] if isinstance(source, ArticleTable) else source[code].sha256
        return Parts(sha256, Rows(tables[0], s, s_end), Rows(tables[1], s, s_end), Rows(tables[2], c, c_end), Rows(tables[3], c, c_end))


class _PartsOf(LazyRows):
    """`Batches.parts`: each part made when read."""

    def __init__(self, batches: Batches) -> None:
        self._batches = batches

    def __len__(self) -> int:
        return len(self._batches._codes)

    def _row(self, i: int) -> Parts:
        return self._batches.part(i)


Tables = tuple[SentenceTable, TokenTable, ChunkTable, TokenTable]


def _without(tables: Tables, kind: int) -> Tables:
    """`tables` with the table of `kind` let go (None: no part reads it again)."""
    return tables[:kind] + (None,) + tables[kind + 1 :]  # type: ignore[return-value]


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
    arithmetic is part of what the pipeline fingerprint hashes). The parts are read twice, the
    runs' sizes first, so that no run's parts are held at once (`Batches.parts` makes a fresh
    article's when read: a run of a million)."""
    width = int(sentence_vectors.shape[1])
    runs: list[tuple[int, int, int, int]] = []  # (first part, end, its first sentence row, its chunks)
    kept: dict[int, Any] = {}  # first part of a run of none -> the chunk vectors taken over
    row = 0
    for i, own in enumerate(parts):
        if own.chunk_vectors is not None:
            kept[len(runs)] = own.chunk_vectors
            runs.append((i, i + 1, row, -1))
        elif runs and runs[-1][3] >= 0 and runs[-1][1] == i:
            first, _, start, chunks = runs[-1]
            runs[-1] = (first, i + 1, start, chunks + len(own.chunks))
        else:
            runs.append((i, i + 1, row, len(own.chunks)))
        row += len(own.sentences)
    blocks = [kept[k] if chunks < 0 else _pooled_run(parts, first, end, start, chunks, sentence_vectors, scratch)
              for k, (first, end, start, chunks) in enumerate(runs)]
    release_pages(sentence_vectors)
    return joined_rows(blocks, width) if blocks else np.zeros((0, width), dtype=np.float32)


def _pooled_run(
    parts: Sequence[Parts], first: int, end: int, row: int, chunks: int, vectors: np.ndarray | StackedRows, scratch: Scratch | None
) -> np.ndarray:
    """The chunk vectors of `parts[first:end]` (`chunks` of them), pooled from their sentences' vectors from `row` on."""
    out = table_in(scratch, chunks, int(vectors.shape[1]))
    at = 0
    for k in range(first, end):
        own = parts[k]
        spans = _chunk_spans(own.chunks)
        pooled_chunk_vectors(out[at : at + len(spans[0])], *spans, _positions(own.sentences), vectors[row : row + len(own.sentences)])
        at += len(spans[0])
        row += len(own.sentences)
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
