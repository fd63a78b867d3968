"""A build's articles on disk: as columns (`table_arrays`: each
text field's UTF-8 bytes end to end with their offsets, the fields that repeat as codes into
their values, and each article's text key) in NumPy segment files an update links
(`qa.indexing.segments`; format 9); one JSON line each in such segment files (format 8), or
all in one articles.jsonl (formats 6 and 7).

Columns because a loaded build reads its articles into columns anyway: a million articles
as JSON lines took 7.8 s to read into them, stored as columns 1.2 s.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from qa.files import file_checksum
from qa.indexing.article_table import (
    REPEATED_FIELDS,
    TEXT_FIELDS,
    ArticleColumns,
    ArticleTable,
    RepeatedColumn,
    TextColumn,
)
from qa.indexing.durable import read_jsonl
from qa.indexing.mapped import MappedArchive, mapped_arrays
from qa.indexing.manifest import ARTICLES_FILE
from qa.indexing.segments import ARTICLE_TABLE, Origin, Written, write_segments
from qa.ingest.corpus import known_text_key
from qa.types import Article

EXTRA = ("text_key",)  # kept beside each article's fields: the key that tells repeated texts apart (or none)
SEGMENT_SUFFIX = ".npz"
COLUMNS_SINCE = 9  # the format version whose article segments are columns (JSON lines before)


def write_articles(folder: Path, articles: Sequence[Article], origin: Origin | None) -> Written:
    """Save the articles in the new build folder `folder` as segment files, linking those of
    `origin` (the build they were updated from) where that is worth it; an origin whose
    articles are JSON lines (format 8) has its articles written again, as columns."""
    if origin is not None and origin.manifest.get("format_version", 0) < COLUMNS_SINCE:
        origin = None

    def write(path: Path, rows: np.ndarray | None) -> str:
        if isinstance(articles, ArticleTable):
            table = articles if rows is None else articles.take(rows)
        else:
            table = ArticleTable.of(articles if rows is None else [articles[i] for i in rows.tolist()])
        # what tells articles of the same text apart, where this process has worked it out
        keys = [known_text_key(s, p) for s, p in zip(table.strings("sha256"), table.strings("path"))]
        with open(path, "wb") as out:
            np.savez(out, **table_arrays(table, {"text_key": keys}))  # type: ignore[arg-type] # names are columns', never NumPy's keywords
            out.flush()
            os.fsync(out.fileno())
        return file_checksum(path)

    return write_segments(folder, ARTICLE_TABLE, len(articles), write, origin, "article_files", SEGMENT_SUFFIX)


def read_articles(
    folder: Path, manifest: dict[str, Any], held: list[MappedArchive] | None = None
) -> tuple[ArticleTable, list[str | None]]:
    """The build's articles (as columns, `qa.indexing.article_table`) and their stored
    `text_key`s (None where a row has none): from its segment files, run by run (formats 8
    and 9), else from the one articles.jsonl (the rows of removed articles in a linked segment
    are read and passed over). JSON rows are read one at a time into the columns, never all
    held as records. The texts of a build of one segment are read in place
    (`qa.indexing.mapped`, its archive appended to `held`); those of several are joined.

    Raises:
        ValueError: a segment does not hold as many articles as the manifest says, or is not
            an article segment.
    """
    if manifest.get("format_version") in (6, 7):
        columns = ArticleColumns(extra=EXTRA)
        for row in read_jsonl(folder / ARTICLES_FILE):
            _add(columns, row)
        table = columns.table()
    else:
        layout = manifest["article_files"]
        first: dict[str, int] = {}  # each segment's first row among all the segments' rows
        segments = []
        for name, count in layout["files"].items():
            first[name] = sum(len(t) for t in segments)
            segments.append(_segment(folder / name, held))
            if len(segments[-1]) != count:
                raise ValueError(f"{name} holds {len(segments[-1])} articles, not {count}")
        whole = joined_tables(segments, EXTRA) if segments else ArticleColumns(extra=EXTRA).table()
        runs = [range(first[name] + start, first[name] + stop) for name, start, stop in layout[ARTICLE_TABLE]]
        rows = np.concatenate([np.arange(r.start, r.stop, dtype=np.int64) for r in runs]) if runs else np.zeros(0, np.int64)
        table = whole if np.array_equal(rows, np.arange(len(whole))) else whole.take(rows)
    return table, table.extra("text_key")


def _segment(path: Path, held: list[MappedArchive] | None = None) -> ArticleTable:
    """One segment's articles: columns (format 9) or JSON lines (format 8)."""
    if path.suffix == ".jsonl":
        columns = ArticleColumns(extra=EXTRA)
        for row in read_jsonl(path):
            _add(columns, row)
        return columns.table()
    table = table_of_arrays(mapped_arrays(path, held), EXTRA)
    lengths = table.text_column("text_key").byte_lengths()
    if bool(((lengths != 0) & (lengths != 64)).any()):
        raise ValueError(f"{path.name} has a text key that is not a SHA-256")
    return table


def _add(columns: ArticleColumns, row: dict[str, Any]) -> None:
    _text_key(row)  # a SHA-256 or none
    columns.add_fields(row)


def _text_key(row: dict[str, Any]) -> str | None:
    key = row.get("text_key")
    if key is not None and not (isinstance(key, str) and len(key) == 64):
        raise ValueError(f"article {row.get('doc_id')!r} has a text key that is not a SHA-256")
    return key


def table_arrays(table: ArticleTable, extra: Mapping[str, Sequence[str | None]] | None = None) -> dict[str, np.ndarray]:
    """`table`'s articles as the arrays an article segment file holds (format 9), with the `extra` strings given per row (None: ""): per text
    column `<name>.data` (its UTF-8 bytes end to end) and `<name>.ends`; per repeated column
    its distinct values the same way (`<name>.values.data`, `<name>.values.ends`) and
    `<name>.codes`; the doc ids as a text column; `lengths`."""
    arrays: dict[str, np.ndarray] = {"lengths": np.asarray(table.lengths, dtype=np.int64)}
    _put_text(arrays, "doc_id", TextColumn.of(table.doc_ids))
    for name in TEXT_FIELDS:
        _put_text(arrays, name, table.text_column(name).compact())
    for name, strings in (extra or {}).items():
        if len(strings) != len(table):
            raise ValueError(f"{len(strings)} {name} strings for {len(table)} articles")
        _put_text(arrays, name, TextColumn.of([s or "" for s in strings]))
    for name in REPEATED_FIELDS:
        repeated = table.repeated_column(name)
        _put_text(arrays, f"{name}.values", TextColumn.of(repeated.values))
        arrays[f"{name}.codes"] = np.asarray(repeated.codes, dtype=np.int32)
    return arrays


def table_of_arrays(arrays: Mapping[str, np.ndarray], extra: tuple[str, ...] = ()) -> ArticleTable:
    """The table `table_arrays` stored (with the `extra` text columns it holds).

    Raises:
        ValueError: an array is missing, of another type or length, or its offsets do not
            fit its bytes (the file is not an article segment of this format).
    """
    lengths = _array(arrays, "lengths", np.int64)
    count = len(lengths)
    doc_ids = _text_of(arrays, "doc_id", count).strings()
    texts = {name: _text_of(arrays, name, count) for name in (*TEXT_FIELDS, *extra)}
    repeated = {}
    for name in REPEATED_FIELDS:
        values = _text_of(arrays, f"{name}.values", None).strings()
        codes = _array(arrays, f"{name}.codes", np.int32)
        if len(codes) != count or (count and (int(codes.min()) < 0 or int(codes.max()) >= len(values))):
            raise ValueError(f"the article column {name} has codes that are not {count} rows of its {len(values)} values")
        repeated[name] = RepeatedColumn(values, codes)
    if count and int(lengths.min()) < 0:
        raise ValueError("an article has a negative text length")
    return ArticleTable(doc_ids, texts, repeated, lengths)


def _put_text(arrays: dict[str, np.ndarray], name: str, column: TextColumn) -> None:
    arrays[f"{name}.data"] = np.frombuffer(column.data, dtype=np.uint8)
    arrays[f"{name}.ends"] = np.asarray(column.ends, dtype=np.int64)


def _text_of(arrays: Mapping[str, np.ndarray], name: str, count: int | None) -> TextColumn:
    data, ends = _array(arrays, f"{name}.data", np.uint8), _array(arrays, f"{name}.ends", np.int64)
    if count is not None and len(ends) != count:
        raise ValueError(f"the article column {name} has {len(ends)} rows, not {count}")
    if (int(ends[-1]) if len(ends) else 0) != len(data) or (len(ends) and (int(ends[0]) < 0 or bool((np.diff(ends) < 0).any()))):
        raise ValueError(f"the article column {name} has offsets that do not fit its {len(data)} bytes")
    # the texts stay where they are read (a question decodes the few it cites); the short columns are walked whole
    return TextColumn(memoryview(data) if name == "text" else data.tobytes(), ends)


def _array(arrays: Mapping[str, np.ndarray], name: str, dtype: type) -> np.ndarray:
    if name not in arrays:
        raise ValueError(f"the articles have no column {name}")
    array = arrays[name]
    if array.dtype != dtype or array.ndim != 1:
        raise ValueError(f"the article column {name} is {array.dtype} of {array.ndim} dimensions, not {np.dtype(dtype)} rows")
    return array


def joined_tables(tables: Sequence[ArticleTable], extra: tuple[str, ...] = ()) -> ArticleTable:
    """The rows of `tables` (with their `extra` text columns), one table after another (the segments of a build)."""
    if len(tables) == 1:
        return tables[0]
    texts = {name: TextColumn.joined([t.text_column(name).compact() for t in tables]) for name in (*TEXT_FIELDS, *extra)}
    repeated = {}
    for name in REPEATED_FIELDS:
        merged: dict[str, int] = {}
        codes = []
        for table in tables:
            column = table.repeated_column(name)
            recoded = np.asarray([merged.setdefault(v, len(merged)) for v in column.values] or [0], dtype=np.int32)
            codes.append(recoded[column.codes])
        repeated[name] = RepeatedColumn(list(merged), np.concatenate(codes))
    doc_ids = [d for table in tables for d in table.doc_ids]
    return ArticleTable(doc_ids, texts, repeated, np.concatenate([t.lengths for t in tables]))
