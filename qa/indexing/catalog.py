"""Find, check, build and cache the index of a corpus folder.

The index folder on disk (its lock, the CURRENT pointer, writing a build and swapping it
in) is `qa.indexing.folder`; this module decides when an index is current, keeps the
loaded ones in memory, and runs the builds.

Builds never block questions that can be answered: while one runs (in a thread of its own
at a lower CPU priority, or in another process holding `.lock`), `ensure_index(...,
wait=False)` returns the last good index, and the new one is swapped in when it is
complete. One build runs per index at a time; every caller that needs it waits for that
same build. Anything unexpected on disk means a rebuild with an `IndexWarning`, never a crash.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
import warnings
from functools import partial
from pathlib import Path
from typing import Callable

from qa.config import Settings
from qa.indexing import store
from qa.indexing.build import Progress, pipeline_fingerprint
from qa.indexing.embedder import Embedder, embedder_on_demand
from qa.indexing.folder import Entry, IndexWarning, file_lock, load_current, same_stats, write_build
from qa.indexing.memory import SearchIndex
from qa.ingest.corpus import FileState, scan

BUILD_NICENESS = 10  # builds run this much nicer than questions


class _Build:
    """One build under way; everyone who needs it waits for this same one."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.entry: Entry | None = None
        self.error: BaseException | None = None
        self._listeners: list[Progress] = []
        self._listeners_guard = threading.Lock()

    def listen(self, progress: Progress | None) -> None:
        if progress is not None:
            with self._listeners_guard:
                self._listeners.append(progress)

    def report(self, stage: str, done: int, total: int) -> None:
        with self._listeners_guard:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(stage, done, total)
            except Exception:  # noqa: BLE001 - a progress display that fails must not fail the build
                pass


class _Home:
    """What this process knows of one index home: the index in use and the build under way."""

    def __init__(self) -> None:
        self.guard = threading.Lock()  # held only to read or swap the fields below
        self.loading = threading.Lock()  # held while the index in use is read from disk
        self.entry: Entry | None = None
        self.build: _Build | None = None
        self.failed: tuple[tuple[FileState, ...], str] | None = None  # corpus state a build failed on


_homes: dict[Path, _Home] = {}
_homes_guard = threading.Lock()


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
    wait: bool = True,
) -> SearchIndex:
    """A current index of `corpus`: cached, loaded from disk, or (re)built.

    Args:
        corpus: the folder of articles.
        settings: model, chunking and index location.
        embedder: defaults to the configured sentence-transformers model.
        progress: called as progress(stage, done, total) while building.
        force: rebuild from scratch (nothing reused from the last build), even when it is current.
        wait: True returns an index of the corpus as it is now, waiting for (or running)
            the build that makes it. False returns the last good index at once when there
            is one, and makes sure a build brings it up to date in a background thread;
            it waits only when there is no index at all yet.

    Returns:
        The searchable index.

    Raises:
        CorpusError: the corpus folder is missing or holds no readable article.
    """
    corpus = Path(corpus)
    folder = index_home(corpus, settings)
    home = _home(folder)
    while True:
        states = scan(corpus)
        with home.guard:
            entry = home.entry
        if entry is None:
            with home.loading:  # many first questions at once: one of them reads the index from disk
                with home.guard:
                    entry = home.entry
                if entry is None:
                    entry = load_current(folder)
                    with home.guard:
                        home.entry = home.entry or entry
        if entry is not None and not force and _matches(entry, states, corpus, settings):
            return entry.index
        if entry is not None and not wait:
            _build_in_background(home, folder, corpus, settings, embedder, tuple(states))
            return entry.index
        job, mine = _claim(home, progress)
        if not mine:
            # Someone else's build: wait for it, then check it against the corpus as it is now
            # (it may have started before the change this caller must see).
            job.done.wait()
            force = False
            continue
        in_background(folder.name, partial(_run, job, home, folder, corpus, settings, embedder, force))
        job.done.wait()
        if job.error is not None:
            raise job.error
        return job.entry.index  # type: ignore[union-attr]


def building(corpus: Path, settings: Settings) -> bool:
    """Whether a build of `corpus`'s index is under way in this process (cheap; for a UI)."""
    home = _homes.get(index_home(Path(corpus), settings))
    return home is not None and home.build is not None


def wait_for_build(corpus: Path, settings: Settings, timeout: float | None = None) -> bool:
    """Wait until no build of `corpus`'s index is under way in this process; False on timeout."""
    home = _homes.get(index_home(Path(corpus), settings))
    job = home.build if home is not None else None
    return job is None or job.done.wait(timeout)


def forget_cached() -> None:
    """Drop every in-memory index (tests use this to force a load from disk)."""
    with _homes_guard:
        for home in _homes.values():
            with home.guard:
                home.entry = None
                home.failed = None


def _home(folder: Path) -> _Home:
    with _homes_guard:
        return _homes.setdefault(folder, _Home())


def _claim(home: _Home, progress: Progress | None) -> tuple[_Build, bool]:
    """The build under way (joined), or a new one this caller must run: (build, mine)."""
    with home.guard:
        job, mine = home.build, False
        if job is None:
            job, mine = _Build(), True
            home.build = job
    job.listen(progress)
    return job, mine


def _build_in_background(
    home: _Home,
    folder: Path,
    corpus: Path,
    settings: Settings,
    embedder: Embedder | None,
    states: tuple[FileState, ...],
) -> None:
    """Start a build in a daemon thread unless one is under way or this corpus state just failed."""
    with home.guard:
        if home.build is not None or (home.failed is not None and home.failed[0] == states):
            return
        job = home.build = _Build()
    in_background(folder.name, partial(_run, job, home, folder, corpus, settings, embedder, False, states))


def in_background(name: str, build: Callable[[], None]) -> None:
    """Run `build` (a build, or other long work) in a thread of its own, at a lower CPU
    priority, so questions come first."""

    def work() -> None:
        _lower_priority()
        build()

    threading.Thread(target=work, name=f"qa-index-build-{name}", daemon=True).start()


def _lower_priority() -> None:
    """Give this thread a higher nice value (Linux gives each thread its own; elsewhere: no change).

    A build is long and questions are short: on a busy machine the questions get the CPU.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + BUILD_NICENESS))
    except OSError:
        pass


def _run(
    job: _Build,
    home: _Home,
    folder: Path,
    corpus: Path,
    settings: Settings,
    embedder: Embedder | None,
    force: bool,
    background_states: tuple[FileState, ...] | None = None,
) -> None:
    """Run `job`: load what another process built meanwhile, or build; then swap it in."""
    try:
        with file_lock(folder):
            states = scan(corpus)
            with home.guard:
                known = home.entry
            current = load_current(folder, known)
            if current is not None and not force and _matches(current, states, corpus, settings):
                entry = current  # another process built it while we waited for the lock
            else:
                # forced: from scratch, nothing taken over from a build that may be the problem
                previous = None if force else current or known
                encoder = embedder or embedder_on_demand(settings, previous.index.manifest if previous else None)
                entry = write_build(corpus, states, folder, settings, encoder, previous, job.report, resume=not force)
        job.entry = entry
        with home.guard:
            home.entry, home.failed = entry, None
    except BaseException as error:  # handed to every waiter, who raises it
        job.error = error
        if background_states is not None:
            with home.guard:
                home.failed = (background_states, str(error))
            warnings.warn(
                f"could not update the index in {folder} ({error}); questions are answered from the "
                f"last good index until the articles change again",
                IndexWarning,
                stacklevel=2,
            )
    finally:
        with home.guard:
            if home.build is job:
                home.build = None
        job.done.set()


def _matches(entry: Entry | None, states: list[FileState], corpus: Path, settings: Settings) -> bool:
    """Same settings and the same files with the same content (sizes and times first, then hashes)."""
    if entry is None:
        return False
    manifest = entry.index.manifest
    if manifest.get("model") != settings.model or manifest.get("settings") != settings.index_shape():
        return False
    if manifest.get("pipeline") != pipeline_fingerprint():
        return False
    if manifest.get("format_version") != store.FORMAT_VERSION:  # an older format: written again, vectors kept
        return False
    files: dict[str, dict] = manifest["files"]
    if set(files) != {s.relpath for s in states}:
        return False
    for state in states:
        known = files[state.relpath]
        if same_stats(state, known):
            continue
        if entry.verified.get(state.relpath) == state:
            continue
        try:
            if store.sha256_file(corpus / state.relpath) != known["sha256"]:
                return False
        except OSError:
            return False
        entry.verified[state.relpath] = state  # touched but unchanged: do not hash it again
    return True
