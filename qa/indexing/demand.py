"""Entities read when a question first needs them, kept on disk beside the index.

A build with `Settings.parse == "demand"` stores what retrieval needs (sentences, tokens,
vectors) and leaves the parse of every sentence it has not parsed before for later: on two
cores the parser took longer than the embedding model (`qa scale` prints both). A question
reads the entities of a few dozen sentences; `DemandParser` reads the paragraphs that hold
them then (`qa.ingest.annotate.parse_around`: each paragraph alone, as a build reads it,
so the entities are the same), and `ParseCache` keeps what it read in `parsed.sqlite` in the
index's home folder, where the next process and the next build find it (entities are keyed
by sentence id, which hashes the text and its place). `parse_rest` reads every paragraph not
read yet; `qa index` runs it once the new index is in use, and the chat in the background.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import warnings
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np
import orjson

from qa.ingest.annotate import AnnotationError, annotate_many, parse_around
from qa.indexing.tables import SentenceTable
from qa.types import Entity, Sentence

CACHE_FILE = "parsed.sqlite"


class ParseWarning(UserWarning):
    """A paragraph could not be parsed: its sentences are answered without entities."""


class ParseCache:
    """Entities by sentence id in an SQLite file, for one annotator and annotation code (`key`); a
    file made for another key is emptied. Safe to share between threads; other processes
    may read and write the same file."""

    def __init__(self, path: Path, key: Mapping[str, object], earlier: Sequence[Mapping[str, object]] = ()) -> None:
        """Open (or make) the cache at `path` for `key`; a file made under one of the `earlier`
        keys (the same entities, keyed as an older version wrote them) is kept and re-keyed."""
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, timeout=30.0, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        self._db.execute("CREATE TABLE IF NOT EXISTS entities (sid TEXT PRIMARY KEY, rows BLOB)")
        wanted = json.dumps(dict(key), sort_keys=True)
        found = self._db.execute("SELECT value FROM meta WHERE key = 'key'").fetchone()
        if found is None or found[0] != wanted:
            kept = found is not None and found[0] in {json.dumps(dict(k), sort_keys=True) for k in earlier}
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                if not kept:
                    self._db.execute("DELETE FROM entities")
                self._db.execute("INSERT OR REPLACE INTO meta VALUES ('key', ?)", (wanted,))

    def get(self, sid: str) -> tuple[Entity, ...] | None:
        with self._lock:
            row = self._db.execute("SELECT rows FROM entities WHERE sid = ?", (sid,)).fetchone()
        return None if row is None else _entities(row[0])

    def get_many(self, sids: list[str]) -> dict[str, tuple[Entity, ...]]:
        return {sid: _entities(rows) for sid, rows in self._select("sid, rows", sids)}

    def holds(self, sids: list[str]) -> set[str]:
        """Which of `sids` the cache holds entities for, without reading the entities (at the
        year of news, reading them all to learn which were there took 27 s and 1.4 GB)."""
        return {sid for (sid,) in self._select("sid", sids)}

    def _select(self, columns: str, sids: list[str]) -> Iterator[tuple]:
        """`columns` of the rows of `sids` the cache holds, 500 ids a query; the lock is taken a
        query at a time, so a question's reads wait for one query at most."""
        for start in range(0, len(sids), 500):
            batch = sids[start : start + 500]
            query = f"SELECT {columns} FROM entities WHERE sid IN ({','.join('?' * len(batch))})"
            with self._lock:
                rows = self._db.execute(query, batch).fetchall()
            yield from rows

    def put(self, found: Iterable[tuple[str, tuple[Entity, ...]]]) -> None:
        rows = [(sid, orjson.dumps([list(e) for e in entities])) for sid, entities in found]
        if not rows:
            return
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany("INSERT OR REPLACE INTO entities VALUES (?, ?)", rows)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def prune(self, keep: Sequence[str]) -> int:
        """Forget the entities of sentences outside `keep` (the build in use), once more have
        been written since the last pruning than `keep` holds, so the file stays within about
        twice what the build needs however often its articles change; the number forgotten.
        The check is a lookup of two numbers; a pruning copies the ids into a temporary table
        (a few seconds at a million sentences). A process still serving an older build reads a
        paragraph again if it needs one forgotten."""
        with self._lock:
            written = self._db.execute("SELECT coalesce(max(rowid), 0) FROM entities").fetchone()[0]
            found = self._db.execute("SELECT value FROM meta WHERE key = 'pruned_at'").fetchone()
            if written - (int(found[0]) if found else 0) <= len(keep):
                return 0
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("CREATE TEMP TABLE IF NOT EXISTS keep (sid TEXT PRIMARY KEY)")
                self._db.execute("DELETE FROM temp.keep")
                self._db.executemany("INSERT OR IGNORE INTO temp.keep VALUES (?)", ((sid,) for sid in keep))
                gone = self._db.execute("DELETE FROM entities WHERE sid NOT IN (SELECT sid FROM temp.keep)").rowcount
                self._db.execute("DROP TABLE temp.keep")
                # rows written later are numbered on from the highest left (SQLite's rowids)
                left = self._db.execute("SELECT coalesce(max(rowid), 0) FROM entities").fetchone()[0]
                self._db.execute("INSERT OR REPLACE INTO meta VALUES ('pruned_at', ?)", (str(left),))
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return int(gone)

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _entities(blob: bytes) -> tuple[Entity, ...]:
    return tuple(Entity(*row) for row in orjson.loads(blob))


def cache_key(annotator: str, annotation: str) -> dict[str, str]:
    """What the entities kept in a cache depend on: the annotator, and the code and parser
    that read them (`qa.indexing.build.annotation_fingerprint`)."""
    return {"annotator": annotator, "annotation": annotation}


def earlier_key(annotator: str, pipeline: str) -> dict[str, str]:
    """The key caches were made under before 2026-12-06 (the whole text-processing code's
    fingerprint): one made by the code running now holds the same entities."""
    return {"annotator": annotator, "pipeline": pipeline}


class DemandParser:
    """The entities of a table's rows no build parsed, read on first use (in memory, then
    from the cache, else parsed now and put in the cache). Safe to share between threads:
    one paragraph is parsed at a time."""

    def __init__(self, table: SentenceTable, annotator: str, cache: ParseCache | None = None) -> None:
        self._table = table
        self.annotator = annotator
        self.cache = cache
        self._lock = threading.Lock()
        self._known: dict[int, tuple[Entity, ...]] = {}
        rows = table.article_rows
        self._sorted = bool(len(rows) < 2 or np.all(rows[1:] >= rows[:-1]))
        self._rest_started = False

    def knows(self, row: int) -> bool:
        """Whether this process has read `row`'s entities already."""
        return row in self._known

    def start_rest(self) -> bool:
        """True the first time it is called: the caller reads the rest (`parse_rest`) in the background."""
        with self._lock:
            first, self._rest_started = not self._rest_started, True
            return first

    def entities(self, row: int) -> tuple[Entity, ...]:
        known = self._known.get(row)
        if known is not None:
            return known
        with self._lock:
            if row in self._known:
                return self._known[row]
            found = self.cache.get(self._table.ids[row]) if self.cache is not None else None
            if found is not None:
                self._known[row] = found
                return found
            read, whole = self._read(row)
            if whole:  # a failed reading is not kept: the next process tries again
                self.keep(read)
            self._known.update(read)
            return read.get(row, ())

    def keep(self, read: Mapping[int, tuple[Entity, ...]]) -> None:
        """Keep the entities read for these rows: in the cache (where a question finds them
        again), else in memory."""
        if self.cache is not None:
            self.cache.put((self._table.ids[r], entities) for r, entities in read.items())
        else:
            self._known.update(read)

    def _read(self, row: int) -> tuple[dict[int, tuple[Entity, ...]], bool]:
        """The entities of `row` and of the other rows of its article the same reading covers,
        and whether the annotator read them (else every row of the article has none)."""
        table = self._table
        first, stop = self.article_span(row)
        article = table.articles[int(table.article_rows[row])]
        sentences = [_bare(table, article.text, r) for r in range(first, stop)]
        try:
            found = parse_around(article, sentences, row - first, self.annotator)
        except AnnotationError as error:
            warnings.warn(f"read {article.path} without entities: {error}", ParseWarning, stacklevel=4)
            return {r: () for r in range(first, stop) if not table.parsed[r]}, False
        return {first + i: entities for i, entities in found.items() if not table.parsed[first + i]}, True

    def article_span(self, row: int) -> tuple[int, int]:
        """The rows [first, stop) of `row`'s article (a build keeps an article's rows together)."""
        rows = self._table.article_rows
        article = rows[row]
        if self._sorted:
            return int(np.searchsorted(rows, article, "left")), int(np.searchsorted(rows, article, "right"))
        same = np.flatnonzero(rows == article)
        return int(same[0]), int(same[-1]) + 1


def _bare(table: SentenceTable, text: str, row: int) -> Sentence:
    """Row `row` as a sentence without entities (what the annotator reads)."""
    start, end = int(table.columns["start"][row]), int(table.columns["end"][row])
    return Sentence(table.ids[row], "", int(table.positions[row]), start, end, text[start:end])


def attach(
    table: SentenceTable, annotator: str, cache_path: Path | None, annotation: str, pipeline: str
) -> DemandParser | None:
    """Give `table` a parser for its rows no build parsed (none when every row is parsed),
    with its cache at `cache_path` (None: in memory only), keyed by `cache_key` (a cache of
    `earlier_key` with this `pipeline` fingerprint is kept)."""
    if table.parser is not None or bool(table.parsed.all()):
        return table.parser
    cache = None
    if cache_path is not None:
        try:
            cache = ParseCache(cache_path, cache_key(annotator, annotation), [earlier_key(annotator, pipeline)])
        except sqlite3.Error as error:
            warnings.warn(f"parsing without a cache: {cache_path} cannot be used ({error})", ParseWarning, stacklevel=2)
    table.parser = DemandParser(table, annotator, cache)
    return table.parser


def parse_rest(
    table: SentenceTable,
    progress: Callable[[str, int, int], None] | None = None,
    stop: threading.Event | None = None,
    processes: int = 1,
) -> int:
    """Read every article with rows that no build or question has parsed yet, as a build
    reads them (`annotate_many`, in `processes` parser processes), and keep what is read
    (in the cache; in memory where there is none). Returns the rows read. `stop` ends it
    between batches of articles; what was read by then is kept."""
    parser: DemandParser | None = table.parser
    if parser is None:
        return 0
    pending = np.flatnonzero(~table.parsed).tolist()
    if parser.cache is not None:
        ids = [table.ids[r] for r in pending]
        cached = parser.cache.holds(ids)
        pending = [r for r, sid in zip(pending, ids) if sid not in cached]
    pending = [r for r in pending if not parser.knows(r)]
    if not pending:
        return 0
    report = progress or (lambda stage, done, total: None)
    report(PARSING, 0, len(pending))
    articles: dict[int, list[int]] = {}  # article row -> its pending rows
    for row in pending:
        articles.setdefault(int(table.article_rows[row]), []).append(row)
    done = 0
    todo = list(articles.items())
    for start in range(0, len(todo), _ARTICLES_PER_BATCH):
        if stop is not None and stop.is_set():
            break
        batch = todo[start : start + _ARTICLES_PER_BATCH]
        items, spans = [], []
        for code, rows in batch:
            first, end = parser.article_span(rows[0])
            article = table.articles[code]
            items.append((article, [_bare(table, article.text, r) for r in range(first, end)]))
            spans.append(first)
        read: dict[int, tuple[Entity, ...]] = {}
        for (code, rows), first, result in zip(batch, spans, annotate_many(items, parser.annotator, processes)):
            if isinstance(result, AnnotationError):
                warnings.warn(f"read {table.articles[code].path} without entities: {result}", ParseWarning, stacklevel=2)
            for row in rows:
                read[row] = () if isinstance(result, AnnotationError) else result[row - first].entities
        parser.keep(read)
        done += len(read)
        report(PARSING, done, len(pending))
    return done


_ARTICLES_PER_BATCH = 200  # articles parsed, then kept, together by `parse_rest`
PARSING = "reading articles"
