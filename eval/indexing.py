"""Bring up the index a benchmark runs on, timing the model load and the build apart.

`prepare_index` says whether the index was rebuilt from scratch, built (or brought up to
date) or loaded, and carries the manifest's `build_seconds` of the build in use.
"""

from __future__ import annotations

import resource
import statistics
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tqdm import tqdm

from eval.records import EvalSet

if TYPE_CHECKING:
    from qa.config import Settings
    from qa.indexing.memory import SearchIndex

PROBE_QUESTION = "Who accepted the pledge of allegiance, and when was it announced?"


@dataclass(frozen=True)
class IndexInfo:
    """How the index of a run came to be and what it holds.

    `action` is "rebuilt" (forced from scratch), "built" (built or brought up to date;
    unchanged articles may reuse earlier vectors) or "loaded" (current on disk or in
    memory). `seconds` is this run's wall time for it; `build_seconds` is the time the
    build in use took, from its manifest; `read_seconds` the time then taken to read the
    paragraphs the build left for questions (`Settings.parse == "demand"`), before any
    question is timed.
    """

    action: str
    seconds: float
    build_seconds: float | None
    built_at: str | None
    model: str
    articles: int
    chunks: int
    model_load_seconds: float
    read_seconds: float = 0.0


@dataclass(frozen=True)
class PreparedIndex:
    """A loaded index and how it was obtained; pass one to several `run` calls."""

    index: SearchIndex
    info: IndexInfo


def prepare_index(
    evalset: EvalSet, settings: Settings, *, rebuild: bool = False, show_progress: bool = True
) -> PreparedIndex:
    """Load the model, then build or load the index of the set's corpus, timing both.

    Args:
        evalset: the question set; its `corpus_dir` is indexed.
        settings: model, chunking and index location.
        rebuild: build from scratch even if a current index exists (a true build time).
        show_progress: draw build progress bars on stderr.

    Returns:
        The index and its `IndexInfo`.

    Raises:
        CorpusError: the corpus folder is missing or empty.
        ModelError: the embedding model cannot be loaded.
    """
    import qa
    from qa.api import read_articles
    from qa.indexing.embedder import embedder_for

    started = time.perf_counter()
    # Loading the model apart from the build keeps it out of the build time.
    embedder_for(settings).encode(["warm up"])
    model_seconds = time.perf_counter() - started
    progress = _BuildProgress(show_progress)
    started = time.perf_counter()
    try:
        index = qa.build_index(evalset.corpus_dir, settings=settings, progress=progress, force=rebuild, read_all=False)
        seconds = time.perf_counter() - started
        built = progress.called
        started = time.perf_counter()
        read_articles(index, progress)
        read_seconds = time.perf_counter() - started
    finally:
        progress.close()
    manifest = index.manifest
    action = "rebuilt" if rebuild else ("built" if built else "loaded")
    info = IndexInfo(
        action=action,
        seconds=round(seconds, 3),
        read_seconds=round(read_seconds, 3),
        build_seconds=manifest.get("build_seconds"),
        built_at=manifest.get("built_at"),
        model=str(manifest.get("model", settings.model)),
        articles=len(index.articles),
        chunks=len(index.chunks),
        model_load_seconds=round(model_seconds, 3),
    )
    return PreparedIndex(index, info)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (`getrusage` ru_maxrss).

    Unlike tracemalloc this counts native allocations (torch, FAISS, NumPy).
    """
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kibibytes, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def encode_probe_ms(settings: Settings, repeats: int = 20) -> float:
    """Median wall time of encoding one fixed question: a yardstick of the machine's state.

    On an idle machine this takes a few milliseconds; when other processes hold the CPUs,
    torch's thread pool waits on descheduled threads and it can grow a hundredfold, which
    inflates every latency figure of the run alike.

    Args:
        settings: the embedding model and runtime (loaded if needed).
        repeats: encodes to take the median of.

    Returns:
        Milliseconds.
    """
    from qa.indexing.embedder import embedder_for

    embedder = embedder_for(settings)
    times = []
    for _ in range(max(1, repeats)):
        started = time.perf_counter()
        embedder.encode([PROBE_QUESTION])
        times.append((time.perf_counter() - started) * 1000.0)
    return statistics.median(times)


class _BuildProgress:
    """A `qa` build progress callback: one tqdm bar per stage; remembers whether it was called."""

    def __init__(self, show: bool) -> None:
        self.show = show
        self.called = False
        self._stage: str | None = None
        self._bar: tqdm | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        self.called = True
        if not self.show:
            return
        if stage != self._stage or self._bar is None:
            self.close()
            self._stage = stage
            self._bar = tqdm(total=total, desc=f"index: {stage}", file=sys.stderr, leave=False)
        self._bar.total = total
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
