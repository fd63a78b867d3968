"""A new build put together from rows of the last build's tables and freshly read records.

An update keeps almost every article: their rows are copied column by column, in as few
blocks as they allow, and never made into `Sentence` records (see `qa.indexing.tables`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Sequence

import numpy as np

from qa.indexing.article_table import field
from qa.indexing.columns import ENTITY_NAMES, ENTITY_NUMBERS, SENTENCE_FIELDS, entity_columns, record_columns, token_ids
from qa.indexing.content_ids import joined_ids
from qa.indexing.postings import WordPostings, word_postings
from qa.indexing.tables import ChunkTable, SentenceTable, TokenTable
from qa.types import Article, Chunk, Sentence


class Rows:
    """Rows [start, stop) of a table, taken over into a new build without being made."""

    __slots__ = ("table", "start", "stop")  # an update makes four per article taken over

    def __init__(self, table: SentenceTable | ChunkTable | TokenTable, start: int, stop: int) -> None:
        self.table, self.start, self.stop = table, start, stop

    def __len__(self) -> int:
        return self.stop - self.start

    def __iter__(self):  # type: ignore[no-untyped-def]
        return (self.table[i] for i in range(self.start, self.stop))


def rows_of(records: Sequence[Any], start: int, stop: int) -> Sequence[Any] | Rows:
    """Rows [start, stop) of `records`: a `Rows` of a table, else a plain slice."""
    return cutter(records)(start, stop)


def cutter(records: Sequence[Any]) -> Callable[[int, int], Sequence[Any] | Rows]:
    """`rows_of(records, start, stop)` as a function of (start, stop), its kind of cut chosen
    once (an update cuts each table of the last build per article: 100k to a million cuts)."""
    if isinstance(records, (SentenceTable, ChunkTable, TokenTable)):
        return partial(Rows, records)
    return lambda start, stop: records[start:stop]


def coalesced(pieces: Sequence[Any]) -> list[Any]:
    """The pieces with each run of back-to-back `Rows` of one table made one `Rows` (an
    update keeps most of the last build in order, so its rows are copied in a few blocks),
    and each run of fresh records made one list: every piece costs a few array operations,
    and a dump of a million one-sentence rows is a million pieces."""
    out: list[Any] = []
    run: list[Any] | None = None  # the records of the fresh pieces since the last `Rows`
    for piece in pieces:
        last = out[-1] if out else None
        if not isinstance(piece, Rows):
            if run is None:
                run = []
                out.append(run)
            run.extend(piece)
            continue
        run = None
        if isinstance(last, Rows) and last.table is piece.table and last.stop == piece.start:
            out[-1] = Rows(piece.table, last.start, piece.stop)
        else:
            out.append(piece)
    return out


def joined_tokens(pieces: Sequence[Sequence[tuple[str, ...]] | Rows], postings: bool = True) -> TokenTable:
    """One `TokenTable` of the pieces end to end, its vocabulary in order of first appearance
    over the whole (so BM25 sums its idf in the very order a fresh build would), with its word
    postings (unless not `postings`: a table no one searches): those of `Rows` cut from their
    table's stored postings, not sorted out again.

    An update's pieces are mostly two or three `Rows` of the last build's table: a prefix of a
    table whose vocabulary is in order of first appearance holds exactly its words 0..n, so
    its ids are taken as they are, and only the words a later piece adds are looked for among
    its tokens. The postings are placed word by word where the joined table's go (no sort of
    every pair): at a million sentences, 1.25 s of an update's 3.5 s went here before.
    """
    vocabulary: dict[str, int] = {}
    # per table (by identity): each of its words' id here, -1: none yet (int32: ids of a
    # vocabulary that fits in memory, and half the bytes of the joined table's ids)
    global_ids: dict[int, np.ndarray] = {}
    offsets, ids, end = [np.zeros(1, dtype=np.int64)], [], 0  # end: tokens so far (a piece may hold no rows)
    held: list[_PiecePostings] = []
    documents = 0
    for piece in coalesced(pieces):
        if isinstance(piece, Rows):
            table = piece.table
            a, b = int(table.offsets[piece.start]), int(table.offsets[piece.stop])
            local, words = table.ids[a:b], table.words
            lengths = np.diff(table.offsets[piece.start : piece.stop + 1])
            mapping = global_ids.get(id(table))
            if mapping is None:
                mapping = global_ids[id(table)] = np.full(len(words), -1, dtype=np.int32)
        else:
            words, piece_offsets, local = token_ids(piece)
            lengths = np.diff(piece_offsets)
            mapping = np.full(len(words), -1, dtype=np.int32)
        if len(local):
            if not vocabulary and isinstance(piece, Rows) and piece.start == 0 and first_use_ordered(piece.table):
                top = int(local.max()) + 1  # the prefix's words are 0..top - 1, in order of first appearance
                vocabulary = dict(zip(words[:top], range(top)))
                mapping[:top] = np.arange(top, dtype=np.int32)
                ids.append(local)
            else:
                for word in _new_in_order(local, mapping).tolist():
                    mapping[word] = vocabulary.setdefault(words[word], len(vocabulary))
                ids.append(mapping[local])
            if postings:
                held.append(_piece_postings(piece, local, lengths, mapping, documents))
        offsets.append(end + np.cumsum(lengths))
        end += int(lengths.sum())
        documents += len(lengths)
    all_ids = np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)
    made = _joined_postings(held, len(vocabulary), documents) if postings else None
    table = TokenTable(list(vocabulary), np.concatenate(offsets), all_ids, made)
    table.ordered = True  # new words numbered as they first appear, piece after piece
    return table


def first_use_ordered(table: TokenTable) -> bool:
    """Whether the table's word ids are numbered in order of first appearance (0, then 1, ...),
    as `joined_tokens` numbers them; worked out once for a table loaded from disk."""
    if table.ordered is None:
        ids = table.ids
        table.ordered = not len(ids) or (int(ids[0]) == 0 and bool(np.all(np.diff(np.maximum.accumulate(ids)) <= 1)))
    return table.ordered


def _new_in_order(local: np.ndarray, mapping: np.ndarray) -> np.ndarray:
    """The words of `local` that `mapping` does not know yet, in order of first appearance."""
    unseen = mapping < 0
    return _in_order_of_first_use(local if unseen.all() else local[unseen[local]], len(mapping))


@dataclass(frozen=True)
class _PiecePostings:
    """A piece's word postings: for its word w (its own ids), `documents[first[w]:last[w]]`
    (ascending) and their counts, the documents numbered from `shift` below the joined
    table's; `mapping` gives w's id in the joined table."""

    first: np.ndarray
    last: np.ndarray
    documents: np.ndarray
    counts: np.ndarray
    shift: int
    mapping: np.ndarray


def _piece_postings(piece: Any, local: np.ndarray, lengths: np.ndarray, mapping: np.ndarray, at: int) -> _PiecePostings:
    """A piece's postings as `_PiecePostings`, its first document the joined table's `at`."""
    stored = piece.table.postings if isinstance(piece, Rows) else None
    whole = stored is None or (piece.start == 0 and piece.stop == len(piece.table))
    if stored is None:
        stored = word_postings(local, lengths, len(mapping))
    start = 0 if whole else piece.start
    starts = np.zeros(len(stored.frequency) + 1, dtype=np.int64)
    np.cumsum(stored.frequency, out=starts[1:])
    if whole:
        first, last = starts[:-1], starts[1:]
    else:
        first = _first_at_least(stored.documents, starts, start)
        last = _first_at_least(stored.documents, starts, start + len(lengths))
    return _PiecePostings(first, last, stored.documents, stored.counts, at - start, mapping)


def _first_at_least(documents: np.ndarray, starts: np.ndarray, value: int) -> np.ndarray:
    """Per word, where its first document >= `value` is among `documents` (each word's
    `documents[starts[w]:starts[w + 1]]` ascending): a bisection of every word at once."""
    low, high = starts[:-1].copy(), starts[1:].copy()
    open_ = np.flatnonzero(low < high)
    while len(open_):
        middle = (low[open_] + high[open_]) // 2
        below = documents[middle] < value
        low[open_[below]] = middle[below] + 1
        high[open_[~below]] = middle[~below]
        open_ = open_[low[open_] < high[open_]]
    return low


_FEWEST_BLOCKS = 64  # copied a block at a time up to this many blocks (or one per 64 words)
_PLACED_AT_ONCE = 1 << 22  # postings placed per step: bounds the index arrays to about 100 MB


def _joined_postings(held: list[_PiecePostings], words: int, documents: int) -> WordPostings:
    """The pieces' postings as one table's: grouped by word, documents ascending within a word
    (the pieces come in document order, so each word's postings of one piece go after those
    of the pieces before it)."""
    small = np.int32 if documents < np.iinfo(np.int32).max else np.int64
    frequency = np.zeros(words, dtype=np.int64)
    present = []
    for piece in held:
        counts = piece.last - piece.first
        own = np.flatnonzero(counts)
        present.append(own)
        frequency[piece.mapping[own]] += counts[own]  # a piece's words are distinct here
    free = np.zeros(words, dtype=np.int64)  # where each word's next postings go
    np.cumsum(frequency[:-1], out=free[1:])
    total = int(frequency.sum())
    out_documents, out_counts = np.empty(total, dtype=small), np.empty(total, dtype=np.int32)
    for piece, own in zip(held, present):
        to, at, size = piece.mapping[own], piece.first[own], (piece.last - piece.first)[own]
        start = free[to]
        free[to] += size
        if _placed_in_blocks(out_documents, out_counts, piece, start, at, size):
            continue
        ends = np.cumsum(size)
        lo = 0
        while lo < len(own):  # a step at a time: whole words, about _PLACED_AT_ONCE postings
            hi = max(lo + 1, int(np.searchsorted(ends, (ends[lo - 1] if lo else 0) + _PLACED_AT_ONCE, side="right")))
            sizes = size[lo:hi]
            before = ends[lo:hi] - sizes - (ends[lo - 1] if lo else 0)  # each word's first posting in this step
            step = np.arange(int(sizes.sum()), dtype=np.int64)
            offset = np.repeat(start[lo:hi] - before, sizes)
            offset += step
            source = np.repeat(at[lo:hi] - before, sizes)
            source += step
            del step
            out_documents[offset] = piece.documents[source] + piece.shift
            out_counts[offset] = piece.counts[source]
            lo = hi
    return WordPostings(frequency, out_documents, out_counts)


def _placed_in_blocks(
    out_documents: np.ndarray, out_counts: np.ndarray, piece: _PiecePostings, start: np.ndarray, at: np.ndarray, size: np.ndarray
) -> bool:
    """Copy the piece's postings a block at a time where consecutive words' postings are
    back to back both where they are and where they go (a whole table before a new article:
    a block per word the article shares), if there are few such blocks; else copy nothing."""
    if not len(size):
        return True
    ends = at + size
    breaks = np.flatnonzero((at[1:] != ends[:-1]) | (start[1:] != start[:-1] + size[:-1])) + 1
    if len(breaks) > max(_FEWEST_BLOCKS, len(size) // 64):
        return False
    for first, last in zip([0, *breaks.tolist()], [*breaks.tolist(), len(size)]):
        source, target = int(at[first]), int(start[first])
        length = int(ends[last - 1]) - source
        np.add(piece.documents[source : source + length], piece.shift, out=out_documents[target : target + length], casting="unsafe")
        out_counts[target : target + length] = piece.counts[source : source + length]
    return True


def _in_order_of_first_use(ids: np.ndarray, size: int) -> np.ndarray:
    """The distinct values of `ids` (all below `size`) in order of first appearance.

    One pass with `np.minimum.at` rather than sorting every id (np.unique): about nine
    times faster on the million tokens of a 100k-sentence build.
    """
    first = np.full(size, len(ids), dtype=np.int64)
    np.minimum.at(first, ids, np.arange(len(ids), dtype=np.int64))
    present = np.flatnonzero(first < len(ids))
    return present[np.argsort(first[present], kind="stable")]


def joined_sentences(pieces: Sequence[Sequence[Sentence] | Rows], articles: Sequence[Article]) -> SentenceTable:
    """One `SentenceTable` over `articles` of the pieces end to end; `Rows` of an earlier
    table are copied column by column, never made into records."""
    article_row = {d: row for row, d in enumerate(field(articles, "doc_id"))}
    moved = _MovedArticles(article_row)
    parts = [_piece_columns(piece, article_row, moved) for piece in coalesced(pieces)]
    names: dict[str, dict[str, int]] = {"labels": {}, "roles": {}, "governors": {}}
    entity_parts: dict[str, list[np.ndarray]] = {key: [] for key in ("start", "end", "label", "role", "governor")}
    counts = []
    remaps: dict[int, np.ndarray] = {}  # per name list: rows of one table share theirs, so map it once

    def remap(kind: str, local: list[str]) -> np.ndarray:
        if id(local) not in remaps:
            found = names[kind]
            remaps[id(local)] = np.asarray([found.setdefault(n, len(found)) for n in local] or [0], dtype=np.int64)
        return remaps[id(local)]

    for part in parts:
        e = part["entities"]
        counts.append(np.diff(e["offsets"]))
        entity_parts["start"].append(e["start"])
        entity_parts["end"].append(e["end"])
        for key, kind in (("label", "labels"), ("role", "roles"), ("governor", "governors")):
            entity_parts[key].append(remap(kind, e[kind])[e[key]])
    entities: dict[str, Any] = {key: _joined_ints(value) for key, value in entity_parts.items()}
    entities["offsets"] = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(_joined_ints(counts))])
    entities.update({kind: list(found) for kind, found in names.items()})
    columns: dict[str, Any] = {"id": joined_ids(part["id"] for part in parts), "entities": entities}
    for key in ("article", "position", "start", "end"):
        columns[key] = _joined_ints([part[key] for part in parts])
    for key in ("quotable", "parsed"):
        columns[key] = np.concatenate([part[key] for part in parts]) if parts else np.zeros(0, dtype=bool)
    return SentenceTable(articles, columns)


def joined_chunks(pieces: Sequence[Sequence[Chunk] | Rows], articles: Sequence[Article]) -> ChunkTable:
    """One `ChunkTable` over `articles` of the pieces end to end; `Rows` of an earlier table
    are copied column by column, never made into records."""
    article_row = {d: row for row, d in enumerate(field(articles, "doc_id"))}
    moved = _MovedArticles(article_row)
    ids: list[Sequence[str]] = []
    columns: dict[str, list[np.ndarray]] = {key: [] for key in ChunkTable.COLUMNS}
    for piece in coalesced(pieces):
        if isinstance(piece, Rows):
            table, a, b = piece.table, piece.start, piece.stop
            own = {"id": table.ids[a:b], "article": moved.rows(table, a, b),
                   **{key: table.columns[key][a:b] for key in ChunkTable.COLUMNS[1:]}}
        else:
            own = record_columns(piece, ChunkTable.COLUMNS[1:], article_row)
        ids.append(own["id"])
        for key in ChunkTable.COLUMNS:
            columns[key].append(np.asarray(own[key], dtype=np.int64))
    return ChunkTable(articles, {"id": joined_ids(ids), **{key: _joined_ints(value) for key, value in columns.items()}})


class _MovedArticles:
    """The article rows of an earlier table's rows as rows of a new build's articles (every
    article of a row taken over is in the new build); each table's mapping is made once."""

    def __init__(self, article_row: Mapping[str, int]) -> None:
        self._article_row = article_row
        self._maps: dict[int, np.ndarray] = {}

    def rows(self, table: SentenceTable | ChunkTable, start: int, stop: int) -> np.ndarray:
        mapping = self._maps.get(id(table))
        if mapping is None:
            found = [self._article_row.get(d, -1) for d in field(table.articles, "doc_id")]
            mapping = self._maps[id(table)] = np.asarray(found or [0], dtype=np.int64)
        rows = mapping[table.article_rows[start:stop]]
        if len(rows) and rows.min() < 0:
            raise KeyError("a row taken over belongs to an article the new build does not hold")
        return rows


def _piece_columns(piece: Sequence[Sentence] | Rows, article_row: Mapping[str, int], moved: _MovedArticles) -> dict[str, Any]:
    """One piece's columns, its entity names local to it and its article rows those of the new build."""
    if not isinstance(piece, Rows):
        columns = record_columns(piece, SENTENCE_FIELDS, article_row)
        e = entity_columns(piece)
        return {
            **{key: np.asarray(columns[key], dtype=np.int64) for key in ("article", "position", "start", "end")},
            "id": columns["id"], "quotable": np.asarray(columns["quotable"], dtype=bool),
            "parsed": np.fromiter((s.entities is not None for s in piece), bool, len(piece)),
            "entities": {**{key: np.asarray(e[key], dtype=np.int64) for key in ENTITY_NUMBERS},
                         **{key: e[key] for key in ENTITY_NAMES}},
        }
    table, a, b = piece.table, piece.start, piece.stop
    old = table.columns
    e = old["entities"]
    first, last = int(e["offsets"][a]), int(e["offsets"][b])
    return {
        "id": old["id"][a:b],
        "article": moved.rows(table, a, b),
        **{key: old[key][a:b] for key in ("position", "start", "end", "quotable")},
        "parsed": table.parsed[a:b],
        "entities": {
            "offsets": e["offsets"][a : b + 1] - first,
            **{key: e[key][first:last] for key in ("start", "end", "label", "role", "governor")},
            **{key: e[key] for key in ENTITY_NAMES},
        },
    }


def _joined_ints(arrays: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(arrays).astype(np.int64, copy=False) if arrays else np.zeros(0, dtype=np.int64)


