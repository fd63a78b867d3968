"""Column tables: how a loaded index holds its sentences, chunks and tokens without a
Python object per row until a row is asked for.

An index of 100k sentences holds about a million entities and a million tokens. Building
a `Sentence` and its `Entity` tuples for every row at load time took seconds; a
`SentenceTable` keeps the columns as NumPy arrays and makes a row's `Sentence` on first
use (a question reads a few hundred). A `TokenTable` keeps BM25 tokens as word ids with a
vocabulary in order of first appearance, which is exactly what `Postings` needs.

Both are read-only sequences: `table[i]`, `len(table)`, iteration, slices (as tuples),
and `==` against any sequence of the same rows. `qa.indexing.columns` reads and writes
them as JSON-ready columns; `qa.indexing.joining` puts a new build together from rows of
the last one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Mapping

import numpy as np

from qa.indexing.article_table import ArticleTable, field
from qa.indexing.content_ids import HexIds, compact_ids, id_number
from qa.indexing.lazy_rows import LazyRows as _Rows
from qa.types import Article, Chunk, Entity, Sentence


class TokenTable(_Rows):
    """Each document's tokens: `ids[offsets[d]:offsets[d + 1]]` index `words`."""

    def __init__(self, words: list[str], offsets: np.ndarray, ids: np.ndarray, postings: Any = None) -> None:
        self.words = words
        self.offsets = offsets
        self.ids = ids
        self.postings = postings  # the `qa.indexing.postings.WordPostings` stored with them, if any
        self.ordered: bool | None = None  # ids numbered in order of first appearance (`qa.indexing.joining.first_use_ordered`)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def _row(self, i: int) -> tuple[str, ...]:
        words = self.words
        return tuple(words[j] for j in self.ids[self.offsets[i] : self.offsets[i + 1]].tolist())


class _ArticleRows(_Rows):
    """Rows that each belong to an article: `ids`, and `article_rows` into `articles`."""

    articles: Sequence[Article]
    ids: Sequence[str]  # `qa.indexing.content_ids.HexIds` where they are content ids
    article_rows: np.ndarray
    _doc_ids: list[str] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def doc_ids(self) -> list[str]:
        """Each row's doc_id, without making the rows (worked out once; do not change the list)."""
        if self._doc_ids is None:
            names = field(self.articles, "doc_id")
            self._doc_ids = [names[r] for r in self.article_rows.tolist()]
        return self._doc_ids


class SentenceTable(_ArticleRows):
    """Sentences as columns; `table[i]` is the `Sentence` of row i, made once."""

    def __init__(self, articles: Sequence[Article], columns: Mapping[str, Any]) -> None:
        self.articles = articles
        self.columns = columns = {**columns, "id": compact_ids(columns["id"])}
        self.ids: Sequence[str] = columns["id"]
        self.article_rows: np.ndarray = columns["article"]
        self.positions: np.ndarray = columns["position"]
        self._starts: np.ndarray = columns["start"]
        self._ends: np.ndarray = columns["end"]
        self._quotable: np.ndarray = columns["quotable"]
        self._entities: Mapping[str, Any] = columns["entities"]
        # rows whose entities no build has read yet (`Settings.parse == "demand"`): `parser` reads them
        parsed = columns.get("parsed")
        self.parsed: np.ndarray = np.ones(len(self.ids), dtype=bool) if parsed is None else parsed
        self.parser: Any = None  # a `qa.indexing.demand.DemandParser`, set by the index holding the table
        self._made: list[Sentence | None] = [None] * len(self.ids)

    def entities(self, i: int) -> tuple[Entity, ...]:
        """Row i's entities (read by the parser now if no build has: see `parsed`)."""
        if not self.parsed[i]:
            return self.parser.entities(i) if self.parser is not None else ()
        return self.stored_entities(i)

    def stored_entities(self, i: int) -> tuple[Entity, ...]:
        """Row i's entities as the build stored them (none for a row not parsed yet)."""
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
            doc_id, text = _doc_and_text(self.articles, int(self.article_rows[i]))
            start, end = int(self._starts[i]), int(self._ends[i])
            made = Sentence(
                self.ids[i], doc_id, int(self.positions[i]), start, end, text[start:end],
                bool(self._quotable[i]), self.entities(i),
            )
            if self.parsed[i] or self.parser is not None:  # else made again once a parser can read it
                self._made[i] = made
        return made


class ChunkTable(_ArticleRows):
    """Chunks as columns; `table[i]` is the `Chunk` of row i, made when read and not kept
    (a question reads a few; holding a record and its text per chunk cost about 0.8 KB)."""

    COLUMNS = ("article", "start", "end", "first_sentence", "last_sentence")

    def __init__(self, articles: Sequence[Article], columns: Mapping[str, Any]) -> None:
        self.articles = articles
        self.columns = columns = {**columns, "id": compact_ids(columns["id"])}
        self.ids: Sequence[str] = columns["id"]
        self.article_rows: np.ndarray = columns["article"]

    def _row(self, i: int) -> Chunk:
        c = self.columns
        doc_id, text = _doc_and_text(self.articles, int(self.article_rows[i]))
        start, end = int(c["start"][i]), int(c["end"][i])
        return Chunk(self.ids[i], doc_id, start, end, text[start:end],
                     int(c["first_sentence"][i]), int(c["last_sentence"][i]))


def _doc_and_text(articles: Sequence[Article], row: int) -> tuple[str, str]:
    """An article's doc id and text (a table's read without making the rest of its record)."""
    if isinstance(articles, ArticleTable):
        return articles.doc_ids[row], articles.column("text")[row]
    article = articles[row]
    return article.doc_id, article.text


def doc_ids_of(rows: Sequence[Sentence] | Sequence[Chunk]) -> list[str]:
    """Each sentence's or chunk's doc_id (from the columns of a table, without making its rows)."""
    return rows.doc_ids() if isinstance(rows, _ArticleRows) else [r.doc_id for r in rows]


def article_starts(rows: Sequence[Sentence] | Sequence[Chunk], articles: Sequence[Article]) -> list[int]:
    """Where each article's rows start in a table whose rows come article by article in
    `articles` order, and where the table ends (len(articles) + 1 numbers); a table of
    those very articles is counted, not compared row by row."""
    if isinstance(rows, _ArticleRows) and _same_articles(rows.articles, articles):
        counts = np.bincount(rows.article_rows, minlength=len(articles)) if len(rows) else np.zeros(len(articles), int)
        return [0, *np.cumsum(counts).tolist()]
    doc_ids = doc_ids_of(rows)
    starts, row = [0], 0
    for doc_id in field(articles, "doc_id"):
        while row < len(doc_ids) and doc_ids[row] == doc_id:
            row += 1
        starts.append(row)
    return starts


def article_rows_in(rows: Sequence[Sentence] | Sequence[Chunk], articles: Sequence[Article]) -> np.ndarray | None:
    """Each row's place in `articles` when `rows` is a table over those very articles (its
    article rows), else None (find them by doc_id)."""
    if isinstance(rows, _ArticleRows) and _same_articles(rows.articles, articles):
        return rows.article_rows
    return None


def _same_articles(a: Sequence[Article], b: Sequence[Article]) -> bool:
    if isinstance(a, ArticleTable) or isinstance(b, ArticleTable):
        return a is b
    return a is b or (len(a) == len(b) and all(x is y for x, y in zip(a, b)))


def rows_in(rows: Sequence[Sentence] | Sequence[Chunk], doc_ids: set[str]) -> np.ndarray:
    """Which rows (sentences or chunks) belong to an article of `doc_ids`, as a bool mask;
    a table's is decided per article, not per row (a year of news has 600k sentences)."""
    if isinstance(rows, _ArticleRows):
        wanted = np.fromiter((d in doc_ids for d in field(rows.articles, "doc_id")), bool, len(rows.articles))
        return wanted[rows.article_rows] if len(rows) else np.zeros(0, dtype=bool)
    return np.fromiter((d in doc_ids for d in doc_ids_of(rows)), bool, len(rows))


def ids_of(sentences: Sequence[Sentence]) -> list[str]:
    """Each sentence's id (from the columns of a table, or of rows of one, without making its rows)."""
    if isinstance(sentences, SentenceTable):
        return sentences.ids
    table = getattr(sentences, "table", None)  # `qa.indexing.joining.Rows` (which imports this module)
    if isinstance(table, SentenceTable):
        return table.ids[sentences.start : sentences.stop]  # type: ignore[attr-defined]
    return [s.id for s in sentences]


class TextsOf(Sequence):
    """The texts of some rows of a sentence table, each cut from its article when read (a
    build's new sentences, embedded a batch at a time, are not all held as strings at once)."""

    def __init__(self, table: SentenceTable, rows: np.ndarray) -> None:
        self._table, self._rows = table, rows

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, at: Any) -> Any:
        if isinstance(at, slice):
            return self._texts(self._rows[at])
        return self._texts(self._rows[[at]])[0]

    def _texts(self, rows: np.ndarray) -> list[str]:
        table = self._table
        articles, start, end = table.articles, table.columns["start"], table.columns["end"]
        spans = zip(table.article_rows[rows].tolist(), start[rows].tolist(), end[rows].tolist())
        return [_doc_and_text(articles, a)[1][s:e] for a, s, e in spans]


def positions_of(sentences: Sequence[Sentence]) -> list[int]:
    """Each sentence's position in its article."""
    return sentences.positions.tolist() if isinstance(sentences, SentenceTable) else [s.position for s in sentences]


def entities_by_id(sentences: Sequence[Sentence]) -> Mapping[str, tuple[Entity, ...]]:
    """Sentence id to its entities; a table's rows are decoded only when looked up."""
    if isinstance(sentences, SentenceTable):
        return _EntitiesById(sentences)
    return {s.id: s.entities for s in sentences}


class _EntitiesById(Mapping):
    """The stored entities of a table's parsed rows (a row not parsed yet has none to give).

    An update looks up the sentences of the articles it changed, a few dozen: ids held as
    numbers (`HexIds`) are found by bisection in the parsed rows' numbers, sorted once when
    first asked (a dictionary of every id took 0.5 s of each update at the year of news's
    625k sentences); other ids by a dictionary. Where an id repeats, the last row's counts."""

    def __init__(self, table: SentenceTable) -> None:
        self._table = table
        self._lookup: tuple[np.ndarray, np.ndarray] | dict[str, int] | None = None

    def _index(self) -> tuple[np.ndarray, np.ndarray] | dict[str, int]:
        if self._lookup is None:
            ids, parsed = self._table.ids, np.asarray(self._table.parsed, dtype=bool)
            if isinstance(ids, HexIds):
                rows = np.flatnonzero(parsed)
                numbers = ids.numbers[rows].astype(np.uint64)
                order = np.argsort(numbers, kind="stable")  # repeats stay in row order
                self._lookup = (numbers[order], rows[order])
            else:
                listed = parsed.tolist()
                self._lookup = {sid: i for i, sid in enumerate(ids) if listed[i]}
        return self._lookup

    def _row(self, sid: object) -> int | None:
        index = self._index()
        if isinstance(index, dict):
            return index.get(sid)  # type: ignore[call-overload]
        number = id_number(sid)
        if number is None:
            return None
        numbers, rows = index
        at = int(np.searchsorted(numbers, np.uint64(number), side="right")) - 1
        return int(rows[at]) if at >= 0 and int(numbers[at]) == number else None

    def __getitem__(self, sid: str) -> tuple[Entity, ...]:
        row = self._row(sid)
        if row is None:
            raise KeyError(sid)
        return self._table.stored_entities(row)

    def __contains__(self, sid: object) -> bool:
        return self._row(sid) is not None

    def __iter__(self):  # type: ignore[no-untyped-def]
        ids, parsed = self._table.ids, self._table.parsed
        return iter(dict.fromkeys(sid for sid, done in zip(ids, parsed.tolist()) if done))

    def __len__(self) -> int:
        index = self._index()
        return len(index) if isinstance(index, dict) else len(np.unique(index[0]))
