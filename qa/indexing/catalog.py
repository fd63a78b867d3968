"""Find, check, build and cache the index of a corpus folder.

Layout under the index root (setting `index_dir`, env `QA_INDEX_DIR`):

    <corpus-name>-<hash of its path>/
        CURRENT            name of the build in use, replaced atomically
        build-<id>/        one complete build (see `qa.indexing.store`)
        .lock              serialises builds across processes

A build is written in full before CURRENT points at it, so an interrupted or failed
build leaves the last good index in use.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import threading
import uuid
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from qa.indexing import store
from qa.indexing.build import Progress, build, pipeline_fingerprint
from qa.config import Settings
from qa.ingest.corpus import FileState, load_corpus, scan
from qa.indexing.embedder import Embedder, embedder_for
from qa.errors import IndexCorruptError
from qa.types import Article
from qa.indexing.memory import SearchIndex


class IndexWarning(UserWarning):
    """The index was damaged or stale and has been rebuilt."""


@dataclass
class _Entry:
    index: SearchIndex
    verified: dict[str, FileState] = field(default_factory=dict)


_cache: dict[Path, _Entry] = {}
_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()


def index_home(corpus: Path, settings: Settings) -> Path:
    """The folder holding the builds of `corpus` under the configured index root."""
    resolved = Path(corpus).resolve()
    digest = hashlib.sha1(str(resolved).encode("utf-8")).hexdigest()[:10]
    return Path(settings.index_dir) / f"{resolved.name or 'corpus'}-{digest}"


def ensure_index(
    corpus: Path,
    settings: Settings,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
    force: bool = False,
) -> SearchIndex:
    """A current index of `corpus`: cached, loaded from disk, or (re)built.

    Args:
        corpus: the folder of articles.
        settings: model, chunking and index location.
        embedder: defaults to the configured sentence-transformers model.
        progress: called as progress(stage, done, total) while building.
        force: rebuild even when the index is current.

    Returns:
        The searchable index.

    Raises:
        CorpusError: the corpus folder is missing or holds no readable article.
    """
    corpus = Path(corpus)
    home = index_home(corpus, settings)
    with _lock_for(home):
        states = scan(corpus)
        entry = _cache.get(home)
        if entry and not force and _matches(entry, states, corpus, settings):
            return entry.index
        encoder = embedder or embedder_for(settings)
        previous = None if force else _load_current(home)
        if previous is not None and _matches(previous, states, corpus, settings):
            _cache[home] = previous
            return previous.index
        with _file_lock(home):
            previous = previous or _load_current(home)
            entry = _rebuild(corpus, states, home, settings, encoder, previous, progress)
        _cache[home] = entry
        return entry.index


def forget_cached() -> None:
    """Drop every in-memory index (tests use this to force a load from disk)."""
    _cache.clear()


def _lock_for(home: Path) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(home, threading.Lock())


@contextmanager
def _file_lock(home: Path) -> Iterator[None]:
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _load_current(home: Path) -> _Entry | None:
    current = home / "CURRENT"
    if not current.is_file():
        return None
    try:
        name = current.read_text(encoding="utf-8").strip()
        if not name.startswith("build-") or "/" in name:
            raise IndexCorruptError(f"{current} does not name a build")
        stored = store.load(home / name)
    except (IndexCorruptError, OSError) as error:
        warnings.warn(f"the index in {home} is damaged or outdated ({error}); rebuilding it", IndexWarning, stacklevel=4)
        return None
    return _Entry(SearchIndex(stored))


def _matches(entry: _Entry, states: list[FileState], corpus: Path, settings: Settings) -> bool:
    """Same settings and the same files with the same content (sizes and times first, then hashes)."""
    manifest = entry.index.manifest
    if manifest.get("model") != settings.model or manifest.get("settings") != settings.index_shape():
        return False
    if manifest.get("pipeline") != pipeline_fingerprint():
        return False
    files: dict[str, dict] = manifest.get("files", {})
    if set(files) != {s.relpath for s in states}:
        return False
    for state in states:
        known = files[state.relpath]
        seen = entry.verified.get(state.relpath)
        if (state.size, state.mtime_ns) == (known["size"], known["mtime_ns"]):
            continue
        if seen == state:
            continue
        if store.sha256_file(corpus / state.relpath) != known["sha256"]:
            return False
        entry.verified[state.relpath] = state  # touched but unchanged: do not hash it again
    return True


def _rebuild(
    corpus: Path,
    states: list[FileState],
    home: Path,
    settings: Settings,
    embedder: Embedder,
    previous: _Entry | None,
    progress: Progress | None,
) -> _Entry:
    articles = load_corpus(corpus)
    files = _file_records(corpus, states, articles)
    reuse = previous.index.stored if previous else None
    stored = build(articles, settings, embedder, files, reuse, progress)
    name = f"build-{uuid.uuid4().hex[:12]}"
    staging = home / f".{name}.partial"
    try:
        store.save(staging, stored)
        staging.rename(home / name)
        store.write_atomic(home / "CURRENT", (name + "\n").encode("utf-8"))
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    _remove_other_builds(home, keep=name)
    return _Entry(SearchIndex(store.load(home / name)))


def _file_records(
    corpus: Path, states: list[FileState], articles: list[Article]
) -> dict[str, dict[str, object]]:
    """What the manifest remembers per file; stats taken before reading, so a file
    changed meanwhile looks changed at the next check."""
    records: dict[str, dict[str, object]] = {}
    by_path = {Path(a.path).resolve(): a for a in articles}
    for state in states:
        path = (corpus / state.relpath).resolve()
        article = by_path.get(path)
        records[state.relpath] = {
            "doc_id": article.doc_id if article else None,
            "sha256": article.sha256 if article else store.sha256_file(path),
            "size": state.size,
            "mtime_ns": state.mtime_ns,
        }
    return records


def _remove_other_builds(home: Path, keep: str) -> None:
    for path in home.iterdir():
        if path.name != keep and (path.name.startswith("build-") or path.name.endswith(".partial")):
            shutil.rmtree(path, ignore_errors=True)
