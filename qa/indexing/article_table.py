"""A loaded index's articles as columns: an `Article` is made when one is read.

A news dump of a million short rows is a million articles. As `Article` records their
strings and objects took about 0.9 KB each (the text, the title, a 64-character hash, the
same file path and dates again for every row, the record itself, the index's dictionaries),
more than the sentences' columns and vectors together. An `ArticleTable` keeps each text
field as UTF-8 bytes end to end (`TextColumn`), fields that repeat from row to row (the file,
outlet, author, date) as codes into their distinct values (`RepeatedColumn`), and the doc ids as
strings (looked up by every question); `table[i]` makes row i's `Article`, `table.code(doc_id)`
finds a row. It is a read-only sequence of articles like the tuple it replaces: `len`,
iteration, slices (tuples), `==` against any sequence of the same articles.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from datetime import date
from typing import Any, Iterable, Iterator, Mapping

import numpy as np

from qa.indexing.lazy_rows import LazyRows
from qa.types import Article

TEXT_FIELDS = ("title", "text", "sha256", "url")  # a value per row, few repeats
REPEATED_FIELDS = ("path", "outlet", "author", "published")  # the same few values on many rows
FIELDS = ("doc_id", *TEXT_FIELDS, *REPEATED_FIELDS)  # every field of an `Article`
MADE_KEPT = 1024  # articles kept once made (`ArticleTable.__getitem__`)
ITER_BLOCK = 1 << 16  # rows of a column made into strings at a time when it is walked
_REQUIRED = ("doc_id", "title", "text", "path", "sha256")


class TextColumn:
    """Strings stored as UTF-8 bytes: string i is `data[starts[i]:ends[i]]` (`starts` None:
    end to end, each starting where the one before ended). `data` is `bytes`, or a
    `memoryview` of a loaded build's bytes read in place (`qa.indexing.mapped`)."""

    def __init__(self, data: bytes | memoryview, ends: np.ndarray, starts: np.ndarray | None = None) -> None:
        self.data, self.ends, self.starts = data, ends, starts

    def __getitem__(self, i: int) -> str:
        if self.starts is not None:
            start = int(self.starts[i])
        else:
            start = int(self.ends[i - 1]) if i else 0
        return str(self.data[start : int(self.ends[i])], "utf-8")

    def nbytes(self) -> int:
        return len(self.data) + self.ends.nbytes + (self.starts.nbytes if self.starts is not None else 0)

    def byte_lengths(self) -> np.ndarray:
        """Each string's length in UTF-8 bytes."""
        return self.ends - self.starts if self.starts is not None else np.diff(self.ends, prepend=0)

    def filled(self) -> np.ndarray:
        """Which strings are not empty, as a bool each."""
        return self.byte_lengths() > 0

    @classmethod
    def of(cls, strings: Sequence[str]) -> TextColumn:
        """`strings` end to end."""
        encoded = [s.encode("utf-8") for s in strings]
        return cls(b"".join(encoded), np.cumsum([len(b) for b in encoded], dtype=np.int64))

    @classmethod
    def joined(cls, columns: Sequence[TextColumn]) -> TextColumn:
        """The strings of `columns` (each end to end), one column after another."""
        shifts = np.cumsum([0] + [len(c.data) for c in columns[:-1]])
        ends = [c.ends + shift for c, shift in zip(columns, shifts.tolist())]
        return cls(b"".join(c.data for c in columns), np.concatenate(ends) if ends else np.zeros(0, np.int64))

    def strings(self) -> list[str]:
        """Every string, in order (ASCII bytes, such as a dump's doc ids, decoded at once)."""
        if self.starts is None or not _ascii(self.data):
            return self.strings_between(0, len(self.ends))
        text = str(self.data, "ascii")
        return [text[a:b] for a, b in zip(self.starts.tolist(), self.ends.tolist())]

    def strings_between(self, first: int, last: int) -> list[str]:
        """Strings `first` to `last` - 1; stored end to end, their bytes decoded at once if ASCII."""
        ends = self.ends[first:last].tolist()
        base = (int(self.ends[first - 1]) if first else 0) if ends else 0
        starts = [base, *ends[:-1]] if self.starts is None else self.starts[first:last].tolist()
        if self.starts is None and ends and _ascii(self.data[base : ends[-1]]):
            text = str(self.data[base : ends[-1]], "ascii")
            return [text[a - base : b - base] for a, b in zip(starts, ends)]
        return [str(self.data[a:b], "utf-8") for a, b in zip(starts, ends)]

    def compact(self) -> TextColumn:
        """These strings end to end (a taken column's bytes, gathered run by run)."""
        if self.starts is None:
            return self
        breaks = np.flatnonzero(self.starts[1:] != self.ends[:-1]) + 1
        firsts = np.concatenate(([0], breaks)).tolist()
        lasts = np.concatenate((breaks, [len(self.ends)])).tolist() if len(self.ends) else []
        view = memoryview(self.data)
        data = b"".join(view[int(self.starts[a]) : int(self.ends[b - 1])] for a, b in zip(firsts, lasts))
        return TextColumn(data, np.cumsum(self.byte_lengths(), dtype=np.int64))

    def take(self, rows: np.ndarray) -> TextColumn:
        """The strings at `rows`, in that order, sharing these bytes: a build's articles, and
        each batch's, are rows of the table it read (copies of a million rows' texts were
        0.3 GB beside them), which lives as long as they do."""
        starts, ends = self.bounds()
        return TextColumn(self.data, ends[rows], starts[rows])

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Where each string starts and ends in `data`."""
        ends = self.ends
        return (self.starts if self.starts is not None else np.concatenate([np.zeros(1, dtype=np.int64), ends[:-1]])), ends


def _ascii(data: bytes | memoryview) -> bool:
    return data.isascii() if isinstance(data, bytes) else bytes(data).isascii()


class RepeatedColumn:
    """Strings stored as codes into their distinct values."""

    def __init__(self, values: list[str], codes: np.ndarray) -> None:
        self.values, self.codes = values, codes

    def __getitem__(self, i: int) -> str:
        return self.values[int(self.codes[i])]

    def nbytes(self) -> int:
        return self.codes.nbytes + sum(len(v) + 49 for v in self.values)


class ArticleColumns:
    """Collects articles into the columns of an `ArticleTable`, one at a time (a dump of a
    million rows is never a million records at once); `extra` names optional per-row strings
    kept beside them ("" when a row has none), such as a build's stored text keys."""

    def __init__(self, extra: tuple[str, ...] = ()) -> None:
        self.doc_ids: list[str] = []
        self._lengths = array("q")  # each text's length in characters (what citation offsets count)
        self.extra_names = extra
        self._texts = {name: (bytearray(), array("q")) for name in (*TEXT_FIELDS, *extra)}
        self._repeated: dict[str, tuple[dict[str, int], array]] = {name: ({}, array("i")) for name in REPEATED_FIELDS}

    def add(self, article: Article, **extra: str | None) -> None:
        """Append `article`, with its `extra` strings (by name; a missing one is "")."""
        self.add_fields({**{name: getattr(article, name) for name in FIELDS}, **extra})

    def add_fields(self, fields: Mapping[str, Any]) -> None:
        """Append an article given as its fields (`FIELDS` and the extra ones; a missing
        optional one is "", as is an extra one given as None).

        Raises:
            ValueError: a field is not text, or doc_id, title, text, path or sha256 is missing.
        """
        try:
            doc_id, text = fields["doc_id"], fields["text"]
            for name in _REQUIRED:
                if not isinstance(fields[name], str):
                    raise ValueError(f"article {fields.get('doc_id')!r} has a {name} that is not text")
        except KeyError as error:
            raise ValueError(f"article {fields.get('doc_id')!r} has no {error.args[0]}") from None
        self.doc_ids.append(doc_id)
        self._lengths.append(len(text))
        for name, (data, ends) in self._texts.items():
            value = fields.get(name) or ""
            if not isinstance(value, str):
                raise ValueError(f"article {doc_id!r} has a {name} that is not text")
            data += value.encode("utf-8")
            ends.append(len(data))
        for name, (values, codes) in self._repeated.items():
            value = fields.get(name, "")
            if not isinstance(value, str):
                raise ValueError(f"article {doc_id!r} has a {name} that is not text")
            codes.append(values.setdefault(value, len(values)))

    def __len__(self) -> int:
        return len(self.doc_ids)

    def table(self) -> ArticleTable:
        texts = {name: TextColumn(bytes(data), np.frombuffer(ends, dtype=np.int64).copy()) for name, (data, ends) in self._texts.items()}
        repeated = {name: RepeatedColumn(list(values), np.frombuffer(codes, dtype=np.int32).copy())
                    for name, (values, codes) in self._repeated.items()}
        return ArticleTable(self.doc_ids, texts, repeated, np.frombuffer(self._lengths, dtype=np.int64).copy())


class ArticleTable(LazyRows):
    """Articles as columns (see the module's docstring)."""

    def __init__(
        self, doc_ids: list[str], texts: Mapping[str, TextColumn], repeated: Mapping[str, RepeatedColumn], lengths: np.ndarray
    ) -> None:
        self.doc_ids = doc_ids
        self.lengths = lengths
        self._texts = dict(texts)
        self._repeated = dict(repeated)
        self._codes: dict[str, int] | None = None
        self._made: dict[int, Article] = {}  # the articles read lately (a question reads a few dozen, many times)

    @classmethod
    def of(cls, articles: Iterable[Article]) -> ArticleTable:
        columns = ArticleColumns()
        for article in articles:
            columns.add(article)
        return columns.table()

    def __len__(self) -> int:
        return len(self.doc_ids)

    def _row(self, i: int) -> Article:
        made = self._made.get(i)
        if made is None:
            if len(self._made) >= MADE_KEPT:
                self._made.clear()
            made = self._made[i] = self._article(i)
        return made

    def _article(self, i: int) -> Article:
        t, r = self._texts, self._repeated
        return Article(
            doc_id=self.doc_ids[i], title=t["title"][i], text=t["text"][i], path=r["path"][i], sha256=t["sha256"][i],
            outlet=r["outlet"][i], url=t["url"][i], author=r["author"][i], published=r["published"][i],
        )

    def __iter__(self) -> Iterator[Article]:
        return (self._article(i) for i in range(len(self)))  # each made, none kept

    def code(self, doc_id: str) -> int | None:
        """The row of the article `doc_id`, or None (the lookup is made on first use)."""
        if self._codes is None:
            self._codes = {d: i for i, d in enumerate(self.doc_ids)}
        return self._codes.get(doc_id)

    def column(self, name: str) -> Sequence[str]:
        """One field of every row (`Article`'s name for it), read when asked for, without
        making the articles."""
        if name == "doc_id":
            return self.doc_ids
        return _Column(self._texts[name] if name in self._texts else self._repeated[name], len(self))

    def extra(self, name: str) -> Sequence[str | None]:
        """A per-row string kept with `ArticleColumns(extra=...)`, None where a row has none
        (read when asked for)."""
        return _Column(self._texts[name], len(self), none_for_empty=True)

    def strings(self, name: str) -> list[str]:
        """Every row's `name` field at once (a column of a million rows in a fraction of a
        second, rather than a string made per row read)."""
        if name == "doc_id":
            return list(self.doc_ids)
        if name in self._texts:
            return self._texts[name].strings()
        repeated = self._repeated[name]
        return [repeated.values[c] for c in repeated.codes.tolist()]

    def text_column(self, name: str) -> TextColumn:
        """The stored bytes of the text column `name` (a field of `TEXT_FIELDS`, or an extra one)."""
        return self._texts[name]

    def repeated_column(self, name: str) -> RepeatedColumn:
        """The values and codes of the repeated column `name` (a field of `REPEATED_FIELDS`)."""
        return self._repeated[name]

    def take(self, rows: np.ndarray) -> ArticleTable:
        """A table of the rows `rows` of this one, in that order."""
        rows = np.asarray(rows, dtype=np.int64)
        texts = {name: column.take(rows) for name, column in self._texts.items()}
        repeated = {name: RepeatedColumn(column.values, column.codes[rows]) for name, column in self._repeated.items()}
        doc_ids = self.doc_ids
        return ArticleTable([doc_ids[i] for i in rows.tolist()], texts, repeated, self.lengths[rows])

    def days(self) -> np.ndarray:
        """Each article's publication day as a proleptic ordinal, -1 when unknown (each distinct
        date read once)."""
        published = self._repeated["published"]
        ordinals = np.asarray([date.fromisoformat(v).toordinal() if v else -1 for v in published.values] or [-1], dtype=np.int64)
        return ordinals[published.codes]

    def outlets_in(self, outlets: set[str]) -> np.ndarray:
        """Whether each article's outlet, case-folded, is one of `outlets` (each distinct outlet compared once)."""
        outlet = self._repeated["outlet"]
        wanted = np.asarray([v.casefold() in outlets for v in outlet.values] or [False], dtype=bool)
        return wanted[outlet.codes]

    def nbytes(self) -> int:
        """About what the columns hold (the doc id strings included)."""
        held = sum(column.nbytes() for column in (*self._texts.values(), *self._repeated.values()))
        return held + sum(len(d) + 57 for d in self.doc_ids)


class _Column(LazyRows):
    """A column's strings, made when read (with `none_for_empty`, None for an empty one)."""

    def __init__(self, column: TextColumn | RepeatedColumn, length: int, none_for_empty: bool = False) -> None:
        self._column, self._length, self._none = column, length, none_for_empty

    def __len__(self) -> int:
        return self._length

    def _row(self, i: int) -> str | None:
        value = self._column[i]
        return (value or None) if self._none else value

    def __iter__(self) -> Iterator[str | None]:
        """The strings in order, a block of rows at a time (a row at a time: 1 s of an update at 100k rows)."""
        column = self._column
        for first in range(0, self._length, ITER_BLOCK):
            last = min(first + ITER_BLOCK, self._length)
            if isinstance(column, TextColumn):
                values = column.strings_between(first, last)
            else:
                values = [column.values[c] for c in column.codes[first:last].tolist()]
            yield from ((value or None) for value in values) if self._none else values


def filled_rows(column: Sequence[str | None]) -> np.ndarray:
    """The rows of `column` holding a string that is not empty (a table's column is not read
    row by row: a million articles' stored text keys, most of them absent, took 3.4 s)."""
    if isinstance(column, _Column) and isinstance(column._column, TextColumn):
        return np.flatnonzero(column._column.filled()[: len(column)])
    return np.asarray([i for i, value in enumerate(column) if value], dtype=np.int64)


def field(articles: Sequence[Article], name: str) -> Sequence[str]:
    """One field of each article (`doc_id`, `path`, `sha256` ...): a table's column, without
    making its articles, else each record's."""
    if isinstance(articles, ArticleTable):
        return articles.column(name)
    return [getattr(a, name) for a in articles]


def text_lengths(articles: Sequence[Article]) -> np.ndarray:
    """Each article's text length in characters."""
    if isinstance(articles, ArticleTable):
        return articles.lengths
    return np.fromiter((len(a.text) for a in articles), np.int64, len(articles))
