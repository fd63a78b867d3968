"""Column tables: how a loaded index holds its sentences and tokens without a Python
object per row until a row is asked for.

An index of 100k sentences holds about a million entities and a million tokens. Building
a `Sentence` and its `Entity` tuples for every row at load time took seconds; a
`SentenceTable` keeps the columns as NumPy arrays and makes a row's `Sentence` on first
use (a question reads a few hundred). A `TokenTable` keeps BM25 tokens as word ids with a
vocabulary in order of first appearance, which is exactly what `Postings` needs.

Both are read-only sequences: `table[i]`, `len(table)`, iteration, slices (as tuples),
and `==` against any sequence of the same rows. `columns_of_*` turn any sequence of
records (tables or plain tuples) into the JSON-ready columns `qa.indexing.store` writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Iterable, Mapping, overload

import numpy as np

from qa.types import Article, Chunk, Entity, Sentence


class _Rows(Sequence):
    """A read-only sequence of rows made on demand; slices are tuples, `==` compares rows."""

    def _row(self, i: int) -> Any:
        raise NotImplementedError

    @overload
    def __getitem__(self, i: int) -> Any: ...
    @overload
    def __getitem__(self, i: slice) -> tuple: ...
    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):
            return tuple(self._row(j) for j in range(*i.indices(len(self))))
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"row {i} of {len(self)}")
        return self._row(i)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None  # type: ignore[assignment]


class TokenTable(_Rows):
    """Each document's tokens: `ids[offsets[d]:offsets[d + 1]]` index `words`."""

    def __init__(self, words: list[str], offsets: np.ndarray, ids: np.ndarray) -> None:
        self.words = words
        self.offsets = offsets
        self.ids = ids

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def _row(self, i: int) -> tuple[str, ...]:
        words = self.words
        return tuple(words[j] for j in self.ids[self.offsets[i] : self.offsets[i + 1]].tolist())


class SentenceTable(_Rows):
    """Sentences as columns; `table[i]` is the `Sentence` of row i, made once."""

    def __init__(self, articles: Sequence[Article], columns: Mapping[str, Any]) -> None:
        self.articles = articles
        self.columns = columns
        self.ids: list[str] = columns["id"]
        self.article_rows: np.ndarray = columns["article"]
        self.positions: np.ndarray = columns["position"]
        self._starts: np.ndarray = columns["start"]
        self._ends: np.ndarray = columns["end"]
        self._quotable: np.ndarray = columns["quotable"]
        self._entities: Mapping[str, Any] = columns["entities"]
        self._made: list[Sentence | None] = [None] * len(self.ids)
        self._doc_ids: list[str] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def doc_ids(self) -> list[str]:
        """Each row's doc_id, without making the rows (worked out once; do not change the list)."""
        if self._doc_ids is None:
            names = [a.doc_id for a in self.articles]
            self._doc_ids = [names[r] for r in self.article_rows.tolist()]
        return self._doc_ids

    def entities(self, i: int) -> tuple[Entity, ...]:
        """Row i's entities."""
        e = self._entities
        a, b = int(e["offsets"][i]), int(e["offsets"][i + 1])
        labels, roles, governors = e["labels"], e["roles"], e["governors"]
        return tuple(
            Entity(start, end, labels[label], roles[role], governors[governor])
            for start, end, label, role, governor in zip(
                e["start"][a:b].tolist(), e["end"][a:b].tolist(), e["label"][a:b].tolist(),
                e["role"][a:b].tolist(), e["governor"][a:b].tolist(),
            )
        )

    def _row(self, i: int) -> Sentence:
        made = self._made[i]
        if made is None:
            article = self.articles[int(self.article_rows[i])]
            start, end = int(self._starts[i]), int(self._ends[i])
            made = self._made[i] = Sentence(
                self.ids[i], article.doc_id, int(self.positions[i]), start, end, article.text[start:end],
                bool(self._quotable[i]), self.entities(i),
            )
        return made


def doc_ids_of(sentences: Sequence[Sentence]) -> list[str]:
    """Each sentence's doc_id (from the columns of a table, without making its rows)."""
    return sentences.doc_ids() if isinstance(sentences, SentenceTable) else [s.doc_id for s in sentences]


def ids_of(sentences: Sequence[Sentence]) -> list[str]:
    """Each sentence's id (from the columns of a table, without making its rows)."""
    return sentences.ids if isinstance(sentences, SentenceTable) else [s.id for s in sentences]


def positions_of(sentences: Sequence[Sentence]) -> list[int]:
    """Each sentence's position in its article."""
    return sentences.positions.tolist() if isinstance(sentences, SentenceTable) else [s.position for s in sentences]


def entities_by_id(sentences: Sequence[Sentence]) -> Mapping[str, tuple[Entity, ...]]:
    """Sentence id to its entities; a table's rows are decoded only when looked up."""
    if isinstance(sentences, SentenceTable):
        return _EntitiesById(sentences)
    return {s.id: s.entities for s in sentences}


class _EntitiesById(Mapping):
    def __init__(self, table: SentenceTable) -> None:
        self._table = table
        self._row = {sid: i for i, sid in enumerate(table.ids)}

    def __getitem__(self, sid: str) -> tuple[Entity, ...]:
        return self._table.entities(self._row[sid])

    def __contains__(self, sid: object) -> bool:
        return sid in self._row

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._row)

    def __len__(self) -> int:
        return len(self._row)


# ---- joining: a new build from the previous build's rows and freshly read ones ----------


class Rows:
    """Rows [start, stop) of a table, taken over into a new build without being made."""

    def __init__(self, table: SentenceTable | TokenTable, start: int, stop: int) -> None:
        self.table, self.start, self.stop = table, start, stop

    def __len__(self) -> int:
        return self.stop - self.start

    def __iter__(self):  # type: ignore[no-untyped-def]
        return (self.table[i] for i in range(self.start, self.stop))


def rows_of(records: Sequence[Any], start: int, stop: int) -> Sequence[Any] | Rows:
    """Rows [start, stop) of `records`: a `Rows` of a table, else a plain slice."""
    if isinstance(records, (SentenceTable, TokenTable)):
        return Rows(records, start, stop)
    return records[start:stop]


def coalesced(pieces: Sequence[Any]) -> list[Any]:
    """The pieces with each run of back-to-back `Rows` of one table made one `Rows` (an
    update keeps most of the last build in order, so its rows are copied in a few blocks)."""
    out: list[Any] = []
    for piece in pieces:
        last = out[-1] if out else None
        if isinstance(piece, Rows) and isinstance(last, Rows) and last.table is piece.table and last.stop == piece.start:
            out[-1] = Rows(piece.table, last.start, piece.stop)
        else:
            out.append(piece)
    return out


def joined_tokens(pieces: Sequence[Sequence[tuple[str, ...]] | Rows]) -> TokenTable:
    """One `TokenTable` of the pieces end to end, its vocabulary in order of first appearance
    over the whole (so BM25 sums its idf in the very order a fresh build would)."""
    vocabulary: dict[str, int] = {}
    offsets, ids = [np.zeros(1, dtype=np.int64)], []
    for piece in coalesced(pieces):
        if isinstance(piece, Rows):
            table = piece.table
            a, b = int(table.offsets[piece.start]), int(table.offsets[piece.stop])
            local, words = table.ids[a:b], table.words
            lengths = np.diff(table.offsets[piece.start : piece.stop + 1])
        else:
            columns = token_columns(piece)
            local, words = np.asarray(columns["ids"], dtype=np.int64), columns["words"]
            lengths = np.diff(np.asarray(columns["offsets"], dtype=np.int64))
        if len(local):
            present, first = np.unique(local, return_index=True)
            remap = np.zeros(int(present.max()) + 1, dtype=np.int64)
            for word in present[np.argsort(first, kind="stable")].tolist():
                remap[word] = vocabulary.setdefault(words[word], len(vocabulary))
            ids.append(remap[local])
        offsets.append(offsets[-1][-1] + np.cumsum(lengths))
    all_ids = np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)
    return TokenTable(list(vocabulary), np.concatenate(offsets), all_ids)


def joined_sentences(pieces: Sequence[Sequence[Sentence] | Rows], articles: Sequence[Article]) -> SentenceTable:
    """One `SentenceTable` over `articles` of the pieces end to end; `Rows` of an earlier
    table are copied column by column, never made into records."""
    article_row = {a.doc_id: row for row, a in enumerate(articles)}
    parts = [_piece_columns(piece, article_row) for piece in coalesced(pieces)]
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
    columns: dict[str, Any] = {"id": [i for part in parts for i in part["id"]], "entities": entities}
    for key in ("article", "position", "start", "end"):
        columns[key] = _joined_ints([part[key] for part in parts])
    columns["quotable"] = np.concatenate([part["quotable"] for part in parts]) if parts else np.zeros(0, dtype=bool)
    return SentenceTable(articles, columns)


def _piece_columns(piece: Sequence[Sentence] | Rows, article_row: Mapping[str, int]) -> dict[str, Any]:
    """One piece's columns, its entity names local to it and its article rows those of the new build."""
    if not isinstance(piece, Rows):
        columns = sentence_columns(piece, [()] * len(piece), article_row)
        e = columns["entities"]
        return {
            **{key: np.asarray(columns[key], dtype=np.int64) for key in ("article", "position", "start", "end")},
            "id": columns["id"], "quotable": np.asarray(columns["quotable"], dtype=bool),
            "entities": {**{key: np.asarray(e[key], dtype=np.int64) for key in ("offsets", "start", "end", "label", "role", "governor")},
                         **{key: e[key] for key in ("labels", "roles", "governors")}},
        }
    table, a, b = piece.table, piece.start, piece.stop
    old = table.columns
    e = old["entities"]
    first, last = int(e["offsets"][a]), int(e["offsets"][b])
    doc_ids = [art.doc_id for art in table.articles]
    return {
        "id": old["id"][a:b],
        "article": np.asarray([article_row[doc_ids[r]] for r in old["article"][a:b].tolist()], dtype=np.int64),
        **{key: old[key][a:b] for key in ("position", "start", "end", "quotable")},
        "entities": {
            "offsets": e["offsets"][a : b + 1] - first,
            **{key: e[key][first:last] for key in ("start", "end", "label", "role", "governor")},
            **{key: e[key] for key in ("labels", "roles", "governors")},
        },
    }


def _joined_ints(arrays: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(arrays).astype(np.int64, copy=False) if arrays else np.zeros(0, dtype=np.int64)


# ---- columns on disk (JSON-ready dicts) -------------------------------------------------


def token_columns(documents: Sequence[tuple[str, ...]]) -> dict[str, Any]:
    """Tokens as a vocabulary in order of first appearance, per-document offsets and word ids."""
    if isinstance(documents, TokenTable):
        return {"words": documents.words, "offsets": documents.offsets.tolist(), "ids": documents.ids.tolist()}
    vocabulary: dict[str, int] = {}
    ids = [vocabulary.setdefault(t, len(vocabulary)) for d in documents for t in d]
    offsets = np.cumsum([0] + [len(d) for d in documents]).tolist()
    return {"words": list(vocabulary), "offsets": offsets, "ids": ids}


def token_table(columns: Mapping[str, Any]) -> TokenTable:
    """The `TokenTable` of `token_columns`' output.

    Raises:
        ValueError: the columns do not fit together.
    """
    words, offsets, ids = columns["words"], _ints(columns["offsets"]), _ints(columns["ids"])
    if not all(isinstance(w, str) for w in words) or len(offsets) < 1 or offsets[0] != 0 or offsets[-1] != len(ids):
        raise ValueError("token columns do not fit together")
    if np.any(np.diff(offsets) < 0) or (len(ids) and (ids.min() < 0 or ids.max() >= len(words))):
        raise ValueError("token columns point outside their vocabulary")
    return TokenTable(words, offsets, ids)


def sentence_columns(
    sentences: Sequence[Sentence], tokens: Sequence[tuple[str, ...]], article_row: Mapping[str, int]
) -> dict[str, Any]:
    """The columns `sentence_table` reads back."""
    if isinstance(sentences, SentenceTable) and [a.doc_id for a in sentences.articles] == list(article_row):
        c = sentences.columns
        e = c["entities"]
        return {
            "id": c["id"],
            **{key: c[key].tolist() for key in ("article", "position", "start", "end", "quotable")},
            "entities": {
                **{key: e[key].tolist() for key in ("offsets", "start", "end", "label", "role", "governor")},
                **{key: e[key] for key in ("labels", "roles", "governors")},
            },
            "tokens": token_columns(tokens),
        }
    labels: dict[str, int] = {}
    roles: dict[str, int] = {}
    governors: dict[str, int] = {}
    entity = {"offsets": [0], "start": [], "end": [], "label": [], "role": [], "governor": []}
    for sentence in sentences:
        for e in sentence.entities:
            entity["start"].append(e.start)
            entity["end"].append(e.end)
            entity["label"].append(labels.setdefault(e.label, len(labels)))
            entity["role"].append(roles.setdefault(e.role, len(roles)))
            entity["governor"].append(governors.setdefault(e.governor, len(governors)))
        entity["offsets"].append(len(entity["start"]))
    return {
        "id": [s.id for s in sentences],
        "article": [article_row[s.doc_id] for s in sentences],
        "position": [s.position for s in sentences],
        "start": [s.start for s in sentences],
        "end": [s.end for s in sentences],
        "quotable": [s.quotable for s in sentences],
        "entities": {**entity, "labels": list(labels), "roles": list(roles), "governors": list(governors)},
        "tokens": token_columns(tokens),
    }


def sentence_table(columns: Mapping[str, Any], articles: Sequence[Article]) -> tuple[SentenceTable, TokenTable]:
    """The sentences and their tokens from `sentence_columns`' output.

    Raises:
        ValueError, KeyError, TypeError: the columns are inconsistent.
    """
    ids = columns["id"]
    n = len(ids)
    if not all(isinstance(i, str) for i in ids):
        raise ValueError("sentence ids are not text")
    table = {"id": ids, "quotable": np.asarray(columns["quotable"], dtype=bool)}
    for key in ("article", "position", "start", "end"):
        table[key] = _ints(columns[key])
    if any(len(table[key]) != n for key in table):
        raise ValueError("sentence columns differ in length")
    if n and (table["article"].min() < 0 or table["article"].max() >= len(articles)):
        raise ValueError("a sentence points at no article")
    e = columns["entities"]
    entities = {key: _ints(e[key]) for key in ("offsets", "start", "end", "label", "role", "governor")}
    entities.update({key: list(e[key]) for key in ("labels", "roles", "governors")})
    offsets = entities["offsets"]
    if len(offsets) != n + 1 or offsets[0] != 0 or np.any(np.diff(offsets) < 0):
        raise ValueError("entity offsets do not fit the sentences")
    for key, names in (("label", "labels"), ("role", "roles"), ("governor", "governors")):
        column = entities[key]
        if len(column) != offsets[-1] or (len(column) and (column.min() < 0 or column.max() >= len(entities[names]))):
            raise ValueError(f"entity {key}s do not fit together")
    table["entities"] = entities
    tokens = token_table(columns["tokens"])
    if len(tokens) != n:
        raise ValueError("sentence tokens do not fit the sentences")
    return SentenceTable(articles, table), tokens


def chunk_columns(
    chunks: Iterable[Chunk], tokens: Sequence[tuple[str, ...]], article_row: Mapping[str, int]
) -> dict[str, Any]:
    """The columns `chunk_records` reads back."""
    chunks = list(chunks)
    return {
        "id": [c.id for c in chunks],
        "article": [article_row[c.doc_id] for c in chunks],
        "start": [c.start for c in chunks],
        "end": [c.end for c in chunks],
        "first_sentence": [c.first_sentence for c in chunks],
        "last_sentence": [c.last_sentence for c in chunks],
        "tokens": token_columns(tokens),
    }


def chunk_records(columns: Mapping[str, Any], articles: Sequence[Article]) -> tuple[tuple[Chunk, ...], TokenTable]:
    """The chunks (made at once: there are a third as many as sentences) and their tokens.

    Raises:
        ValueError, KeyError, TypeError: the columns are inconsistent.
    """
    ids = columns["id"]
    rows, starts, ends, firsts, lasts = (
        _ints(columns[key]) for key in ("article", "start", "end", "first_sentence", "last_sentence")
    )
    if any(len(c) != len(ids) for c in (rows, starts, ends, firsts, lasts)) or not all(isinstance(i, str) for i in ids):
        raise ValueError("chunk columns differ in length")
    if len(ids) and (rows.min() < 0 or rows.max() >= len(articles)):
        raise ValueError("a chunk points at no article")
    chunks = []
    for cid, row, start, end, first, last in zip(ids, rows.tolist(), starts.tolist(), ends.tolist(), firsts.tolist(), lasts.tolist()):
        article = articles[row]
        chunks.append(Chunk(cid, article.doc_id, start, end, article.text[start:end], first, last))
    tokens = token_table(columns["tokens"])
    if len(tokens) != len(chunks):
        raise ValueError("chunk tokens do not fit the chunks")
    return tuple(chunks), tokens


def _ints(values: Any) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
        raise ValueError("a column that should hold integers does not")
    return array.astype(np.int64, copy=False)
