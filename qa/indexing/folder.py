"""The index folder of one corpus on disk: its lock, the CURRENT pointer, and the atomic swap.

    <corpus-name>-<hash of its path>/
        CURRENT            name of the build in use, replaced atomically
        build-<id>/        one complete build (see `qa.indexing.store`)
        .lock              serialises builds across processes
        parsed.sqlite      entities read since the build (`qa.indexing.demand`), for every build
        .journal/          a build's finished work until it is saved (`qa.indexing.journal`)

`write_build` writes a build in full before CURRENT points at it, so an interrupted or
failed build leaves the last good index in use. `load_current` checks everything it reads
(CURRENT's shape, then `qa.indexing.store.load` checks the manifest and every file);
anything unexpected means None and an `IndexWarning`, so the caller rebuilds.
"""

from __future__ import annotations

import fcntl
import gc
import re
import shutil
import threading
import time
import uuid
import warnings
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from qa.config import Settings
from qa.errors import IndexCorruptError
from qa.indexing import journal, store
from qa.indexing.article_match import rows_before, same_records
from qa.indexing.article_table import ArticleTable, field as article_field, filled_rows
from qa.indexing.durable import write_atomic
from qa.indexing.build import Progress, annotation_fingerprint, build, pipeline_fingerprint
from qa.indexing.demand import CACHE_FILE, ParseCache, cache_key, earlier_key
from qa.indexing.embedder import Embedder
from qa.indexing.heap import Scratch, trim_heap
from qa.indexing.memory import SearchIndex
from qa.indexing.sentence_vectors import EMBED_BATCH
from qa.indexing.tables import ids_of
from qa.indexing.segments import Origin
from qa.ingest.corpus import FileState, each_article, forget_text_keys, remember_text_keys
from qa.ingest.formats import holds_many
from qa.text import stem
from qa.types import Article

POINTER = "CURRENT"
SCRATCH = ".vectors.partial"  # a build from nothing writes its vector tables here until saved (`qa.indexing.heap.Scratch`)
_BUILD_NAME = re.compile(r"build-[0-9a-f]{12}")
_MAX_POINTER_BYTES = 64
# A build swapped in (and the old one removed) while we read the old one: read the new one
# instead, for as long as builds keep being swapped, up to this many seconds. A count of
# attempts was not enough: on a busy machine a load can outlast several quick builds.
_SWAP_PATIENCE_S = 120.0


class IndexWarning(UserWarning):
    """The index was damaged or stale and has been rebuilt, or could not be updated."""


@dataclass
class Entry:
    index: SearchIndex
    name: str = ""  # the build folder it was loaded from
    verified: dict[str, FileState] = field(default_factory=dict)


@contextmanager
def file_lock(home: Path) -> Iterator[None]:
    if home.is_symlink() or (home.exists() and not home.is_dir()):
        warnings.warn(f"{home} is not an index folder; replacing it", IndexWarning, stacklevel=4)
        home.unlink()
    home.mkdir(parents=True, exist_ok=True)
    lock = home / ".lock"
    if lock.is_symlink() or (lock.exists() and not lock.is_file()):
        _remove(lock)
    with open(lock, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_pointer(home: Path) -> str | None:
    """The build CURRENT names; None when there is no CURRENT yet.

    Raises:
        IndexCorruptError: CURRENT is not a small text file naming an existing build folder.
    """
    pointer = home / POINTER
    if not pointer.exists() and not pointer.is_symlink():
        return None
    if pointer.is_symlink() or not pointer.is_file():
        raise IndexCorruptError(f"{pointer} is not a plain file")
    try:
        with open(pointer, "rb") as handle:
            data = handle.read(_MAX_POINTER_BYTES + 1)
    except OSError as error:
        raise IndexCorruptError(f"{pointer} cannot be read ({error.strerror})") from error
    name = data.decode("ascii", errors="replace").strip()
    if len(data) > _MAX_POINTER_BYTES or not _BUILD_NAME.fullmatch(name):
        raise IndexCorruptError(f"{pointer} does not name a build")
    build_folder = home / name
    if build_folder.is_symlink() or not build_folder.is_dir():
        raise IndexCorruptError(f"{pointer} names {name}, which is not a build folder")
    return name


def load_current(home: Path, known: Entry | None = None) -> Entry | None:
    """The build CURRENT names, checked and loaded (`known` is reused if it is that build).

    None when there is none or it is damaged (warned). A build swapped in while the old
    one was being read is read in turn, without a false alarm.
    """
    deadline = time.monotonic() + _SWAP_PATIENCE_S
    while True:
        seen = _pointer_bytes(home)  # what CURRENT said as this attempt began
        try:
            name = _read_pointer(home)
            if name is None:
                return None
            if known is not None and known.name == name:
                return known
            return Entry(SearchIndex(_loaded(home / name), parse_cache=home / CACHE_FILE), name)
        except Exception as error:  # noqa: BLE001 - anything unexpected in an index means: rebuild it
            # CURRENT changed meanwhile (the build it named, or the one being read, may already
            # be gone): not damage, read the new one. Unchanged: the index is damaged.
            if _pointer_bytes(home) != seen and time.monotonic() < deadline:
                continue
            warnings.warn(
                f"the index in {home} is damaged or outdated ({error}); rebuilding it", IndexWarning, stacklevel=4
            )
            return None


def _loaded(folder: Path) -> store.StoredIndex:
    """A build read from disk; the text keys of a build of this text-processing code are taken
    (`qa.ingest.corpus.remember_text_keys`)."""
    stored = store.load(folder)
    keys = stored.text_keys
    if keys is not None and stored.manifest.get("pipeline") == pipeline_fingerprint():
        rows = filled_rows(keys).tolist()  # only the rows holding one
        sha256, path = article_field(stored.articles, "sha256"), article_field(stored.articles, "path")
        remember_text_keys(((sha256[i], path[i]) for i in rows), (keys[i] for i in rows))
    return stored


def _pointer_bytes(home: Path) -> bytes | None:
    """CURRENT's first bytes as they are now, unchecked (None when it cannot be read)."""
    try:
        with open(home / POINTER, "rb") as handle:
            return handle.read(_MAX_POINTER_BYTES + 1)
    except OSError:
        return None


def write_build(
    corpus: Path,
    states: list[FileState],
    home: Path,
    settings: Settings,
    embedder: Embedder,
    previous: Entry | None,
    progress: Progress | None,
    resume: bool = True,
) -> Entry:
    """Build the corpus's index and swap it in; with `resume`, work a build of the same
    settings finished before it was cut short is taken from the journal (`qa.indexing.journal`),
    else the journal is cleared first (a forced build starts from nothing)."""
    if not resume:
        journal.clear(home)
        (home / CACHE_FILE).unlink(missing_ok=True)  # nor are entities read for questions since
        for suffix in ("-wal", "-shm"):
            (home / (CACHE_FILE + suffix)).unlink(missing_ok=True)
    reuse = previous.index.stored if previous else None
    same_code = reuse is not None and reuse.manifest.get("pipeline") == pipeline_fingerprint()
    if same_code:
        unread = unchanged_articles(corpus, states, reuse)
        read = each_article(corpus, known=one_article_files(reuse.articles).values(), unread=unread)
    else:
        read = each_article(corpus)
    articles = ArticleTable.of(read)  # columns as they are read: a dump's million rows are never records at once
    files = file_records(corpus, states, articles)
    trim_heap()  # what reading the files left
    kept = journal.Journal(home, _journal_key(settings))
    parsed = ParseCache(
        home / CACHE_FILE,
        cache_key(settings.annotator, annotation_fingerprint()),
        [earlier_key(settings.annotator, pipeline_fingerprint())],
    )
    # A build from nothing writes its large vector tables to files until it is saved (then it is
    # served from the saved ones); what a killed build left there is removed first.
    scratch = home / SCRATCH
    shutil.rmtree(scratch, ignore_errors=True)
    name = f"build-{uuid.uuid4().hex[:12]}"
    staging = home / f".{name}.partial"
    index = None
    # Writing and fsyncing is mostly waiting on the disk, so it runs beside the build: the record
    # columns from the moment the tables are joined (while the new sentences are embedded), the
    # rest while the search structures are made from the same read-only records.
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="qa-save") as pool:
            records: list[Future[dict[str, str]]] = []

            def tables_ready(*tables: Any) -> None:
                staging.mkdir(parents=True, exist_ok=False)
                records.append(pool.submit(store.write_records, staging, *tables))

            try:
                stored = build(
                    articles, settings, embedder, files, reuse, progress, kept, parsed,
                    Scratch(scratch) if previous is None else None, tables_ready,
                )
                parsed.prune(ids_of(stored.sentences))  # what questions read of articles since changed or removed
            except BaseException:
                shutil.rmtree(scratch, ignore_errors=True)
                raise
            finally:
                parsed.close()
            del articles  # the build holds those it kept
            if previous is None:
                # A build from nothing is served from the files it is saved to, as any later process
                # would serve it: its vector tables memory-mapped, its records not held twice while
                # the search structures are made (0.3 GB more at the peak of a 624k-sentence build).
                store.save(staging, stored, None, records[0].result() if records else None)
                del stored
                # what was remembered while the files were read (their text keys, the stems of their
                # words) was made among what reading left, and keeps that memory from being handed
                # back (most of Python's 1 MB arenas held a few such objects); loading remembers anew
                forget_text_keys()
                stem.cache_clear()
                gc.collect()
                trim_heap()
            else:
                origin = _origin(home, previous, stored)

                def save() -> dict[str, Any]:  # after the record columns: one worker, in order
                    return store.save(staging, stored, origin, records[0].result() if records else None)

                saving = pool.submit(save)
                index = SearchIndex(stored, previous.index, parse_cache=home / CACHE_FILE)
                index = index.saved_as(saving.result())
        staging.rename(home / name)
        pointer = home / POINTER
        if pointer.is_symlink() or (pointer.exists() and not pointer.is_file()):
            _remove(pointer)  # a folder or link where CURRENT belongs: it was damaged, replace it
        write_atomic(pointer, (name + "\n").encode("utf-8"))
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)  # saved, or failed to be: nothing maps it now
    journal.clear(home)  # saved: nothing left to resume
    _remove_leftovers(home, keep=name)
    if index is None:
        index = SearchIndex(_loaded(home / name), parse_cache=home / CACHE_FILE)
    return Entry(index, name)


def _journal_key(settings: Settings) -> dict[str, object]:
    """What the journal's work depends on: a journal of other settings is not read."""
    return {"settings": settings.index_shape(), "pipeline": pipeline_fingerprint(), "embed_batch": EMBED_BATCH}


def _origin(home: Path, previous: Entry | None, stored: store.StoredIndex) -> Origin | None:
    """The build `stored` was made from, on disk, so that its vector segments are linked, not rewritten."""
    if previous is None or stored.vector_origins is None:
        return None
    before, after = previous.index.stored.articles, stored.articles
    rows = rows_before(before, after)
    # an article taken over is the very record the last build held (`load_corpus`'s `known`)
    articles = np.where(same_records(before, rows, after), rows, -1)
    return Origin(home / previous.name, previous.index.stored.manifest, {**stored.vector_origins, "articles": articles})


def same_stats(state: FileState, record: dict) -> bool:
    """Whether a file's size and change times are those a build recorded for it (the test
    that says a file is unchanged without reading it; see `file_records`)."""
    ctime_ns = state.ctime_ns if state.ctime_ns is not None else 0
    return (state.size, state.mtime_ns, ctime_ns) == (record["size"], record["mtime_ns"], record["ctime_ns"])


def unchanged_articles(corpus: Path, states: list[FileState], reuse: store.StoredIndex) -> dict[str, Article]:
    """path -> the last build's article, for each one-article file whose size and change
    times are those the last build recorded for it (so it need not be read again)."""
    records: dict[str, dict] = reuse.manifest.get("files", {})
    by_path = one_article_files(reuse.articles)
    out = {}
    for state in states:
        record = records.get(state.relpath)
        if record is None or record.get("doc_id") is None or holds_many(state.relpath):
            continue
        if not same_stats(state, record):
            continue
        path = str(corpus / state.relpath)
        article = by_path.get(path)
        if article is not None and article.sha256 == record["sha256"]:
            out[path] = article
    return out


def one_article_files(articles: Sequence[Article]) -> dict[str, Article]:
    """path -> article, of the articles that are a file each (not a dump's, archive's or
    feed's rows): only those records are made from a loaded build's columns."""
    rows: dict[str, int] = {}
    for row, path in enumerate(article_field(articles, "path")):
        if path not in rows:
            rows[path] = row
    return {path: articles[row] for path, row in rows.items() if not holds_many(path)}


def file_records(
    corpus: Path, states: list[FileState], articles: Sequence[Article]
) -> dict[str, dict[str, object]]:
    """What the manifest remembers per file (of `states`; `articles` those read from them);
    stats taken before reading, so a file changed meanwhile looks changed at the next check."""
    records: dict[str, dict[str, object]] = {}
    by_path: dict[str, list[int]] = {}  # each file's articles (their rows), a dump's many
    for row, path in enumerate(article_field(articles, "path")):
        by_path.setdefault(path, []).append(row)
    by_relpath = {Path(path).relative_to(corpus).as_posix(): rows for path, rows in by_path.items()}
    for state in states:
        own = by_relpath.get(state.relpath, [])
        # One article per file: its hash is the file's. A dump's (archive's, feed's) articles hash their own rows.
        article = articles[own[0]] if len(own) == 1 else None
        try:
            sha256 = article.sha256 if article and not holds_many(state.relpath) else store.sha256_file(corpus / state.relpath)
        except OSError:
            sha256 = "0" * 64  # gone meanwhile: whatever is there later looks changed
        records[state.relpath] = {
            "doc_id": article.doc_id if article else None,
            "sha256": sha256,
            "size": state.size,
            "mtime_ns": state.mtime_ns,
            "ctime_ns": state.ctime_ns if state.ctime_ns is not None else 0,
        }
    return records


def _remove_leftovers(home: Path, keep: str) -> None:
    """Older builds, interrupted builds and temporary files (we hold the lock: none is in use).

    Old builds are renamed out of the way at once and deleted by a background thread, so
    an update does not wait for hundreds of MB to be unlinked; a deletion cut short leaves
    a `.trash` folder that the next build removes.
    """
    doomed = []
    for path in home.iterdir():
        name = path.name
        if name.startswith("build-") and name != keep:
            trash = home / f".{name}.{uuid.uuid4().hex[:8]}.trash"
            try:
                path.rename(trash)
            except OSError:
                trash = path
            doomed.append(trash)
        elif name.endswith(".trash"):
            doomed.append(path)
        elif name.endswith(".partial") or (name.startswith(".") and name.endswith(".tmp")):
            _remove(path)
    if doomed:
        threading.Thread(target=lambda: [_remove(p) for p in doomed], name="qa-remove-old-builds", daemon=True).start()


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
