"""A build's articles on disk: one JSON line each (doc_id, title, path, sha256, text, the
metadata it has, and its text key), in segment files an update links (`qa.indexing.segments`;
format 8), or all in one articles.jsonl (formats 6 and 7).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from qa.indexing.article_table import ArticleColumns, ArticleTable
from qa.indexing.durable import read_jsonl, write_jsonl
from qa.indexing.manifest import ARTICLES_FILE
from qa.indexing.segments import ARTICLE_TABLE, Origin, Written, write_segments
from qa.ingest.corpus import known_text_key
from qa.types import Article


def write_articles(folder: Path, articles: Sequence[Article], origin: Origin | None) -> Written:
    """Save the articles in the new build folder `folder` as segment files, linking those of
    `origin` (the build they were updated from) where that is worth it."""

    def write(path: Path, rows: np.ndarray | None) -> str:
        return write_jsonl(path, (_article_row(articles[i]) for i in (range(len(articles)) if rows is None else rows.tolist())))

    return write_segments(folder, ARTICLE_TABLE, len(articles), write, origin, "article_files", ".jsonl")


def read_articles(folder: Path, manifest: dict[str, Any]) -> tuple[ArticleTable, list[str | None]]:
    """The build's articles (as columns, `qa.indexing.article_table`) and their stored
    `text_key`s (None where a row has none): from its segment files, run by run (format 8),
    else from the one articles.jsonl (the rows of removed articles in a linked segment are
    read and passed over). Rows are read one at a time into the columns, never all held as
    records.

    Raises:
        ValueError: a segment does not hold as many articles as the manifest says.
    """
    columns = ArticleColumns(extra=("text_key",))
    if manifest.get("format_version") in (6, 7):
        for row in read_jsonl(folder / ARTICLES_FILE):
            _add(columns, row)
        table = columns.table()
    else:
        layout = manifest["article_files"]
        first: dict[str, int] = {}  # each segment's first row among all the segments' rows
        for name, count in layout["files"].items():
            first[name] = len(columns)
            for row in read_jsonl(folder / name):
                _add(columns, row)
            if len(columns) - first[name] != count:
                raise ValueError(f"{name} holds {len(columns) - first[name]} articles, not {count}")
        whole = columns.table()
        runs = [range(first[name] + start, first[name] + stop) for name, start, stop in layout[ARTICLE_TABLE]]
        rows = np.concatenate([np.arange(r.start, r.stop, dtype=np.int64) for r in runs]) if runs else np.zeros(0, np.int64)
        table = whole if np.array_equal(rows, np.arange(len(whole))) else whole.take(rows)
    return table, table.extra("text_key")


def _add(columns: ArticleColumns, row: dict[str, Any]) -> None:
    _text_key(row)  # a SHA-256 or none
    columns.add_fields(row)


METADATA = ("outlet", "url", "author", "published")


def _article_row(a: Article) -> dict[str, Any]:
    row = {"doc_id": a.doc_id, "title": a.title, "path": a.path, "sha256": a.sha256, "text": a.text}
    row.update({key: getattr(a, key) for key in METADATA if getattr(a, key)})
    key = known_text_key(a)  # what tells articles of the same text apart, where this process has it
    if key is not None:
        row["text_key"] = key
    return row


def _text_key(row: dict[str, Any]) -> str | None:
    key = row.get("text_key")
    if key is not None and not (isinstance(key, str) and len(key) == 64):
        raise ValueError(f"article {row.get('doc_id')!r} has a text key that is not a SHA-256")
    return key
