"""The sentence vectors of a build: embedded on threads while the parser reads the
articles (`EarlyEmbedding`), and put together with the vectors the last build already has
(`sentence_table`).
"""

from __future__ import annotations

import os
import threading
from typing import Callable, Sequence

import numpy as np

from qa.indexing.embedder import Embedder
from qa.indexing.rows import release_pages
from qa.indexing.journal import Journal
from qa.indexing.rows import StackedRows, taken_rows
from qa.indexing.tables import ids_of
from qa.types import Sentence

Progress = Callable[[str, int, int], None]
EMBED_BATCH = 256  # sentences per encode call (int8 vectors depend on their batch: qa.distributed.embedding)
EMBED_WORKERS = min(2, os.cpu_count() or 1)  # threads embedding at once once the parse is done
# While the parser processes run, one thread embeds: the cores are busy either way, and each
# thread running the network at once holds its own working memory (ONNX Runtime's arena).
EMBED_WORKERS_WHILE_PARSING = 1


class EarlyEmbedding:
    """Embeds the new sentences on threads while the parser reads the articles.

    Sentence texts are known before parsing, and the parser runs in worker processes, so
    on two cores the two overlap: one thread embeds while the parser runs, and once parsing
    is done, `EMBED_WORKERS` threads keep every core busy (both embedders are safe to call
    from several threads), each taking the next batch not yet taken. `start` is called once
    the parser has forked its workers (forking a process while other threads run is best
    avoided); `wait` starts every thread. The batches are those embedding afterwards would
    make (the same sentences, in the same order and groups), so the vectors are the same.
    Leaving the `with` block early (an error, an interrupt) stops the threads at their next
    batch. The last thread to finish has the embedder hand back its runtime's working
    memory, so that the rest of the build (assembling and saving the index) does not hold it.
    """

    def __init__(
        self,
        embedder: Embedder,
        ids: list[str],
        texts: Sequence[str],
        workers: int = 0,
        journal: Journal | None = None,
        out: np.ndarray | None = None,
    ) -> None:
        self.ids = ids  # of the sentences to embed, in order
        self._journal = journal  # batches a cut-short run embedded are read back, new ones written
        self._texts = texts
        self._embedder = embedder
        # where the vectors go: a memory-mapped file (`out`, its pages handed back as it fills), or memory
        self.vectors = out if out is not None else np.zeros((len(ids), embedder.dimension), dtype=np.float32)
        self._finished = [0] * (workers or EMBED_WORKERS)
        self._errors: list[BaseException] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()  # guards starting threads, counting those running, and taking batches
        self._running = 0
        self._next = 0  # the offset of the next batch to embed: each thread takes the next one free
        self._released = False  # the embedder was told to hand back its working memory
        self._threads = [
            threading.Thread(target=self._run, args=(k,), name=f"early-embedding-{k}", daemon=True)
            for k in range(len(self._finished))
        ]

    def __enter__(self) -> EarlyEmbedding:  # noqa: PYI034 (typing.Self needs Python 3.11; we support 3.10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            if thread.ident is not None:
                thread.join()

    def start(self, threads: int = 0) -> None:
        """Embed on `threads` threads (0: all of them); a later call may start more, never fewer."""
        with self._lock:
            for thread in self._threads:
                if sum(t.ident is not None for t in self._threads) >= (threads or len(self._threads)):
                    return
                if thread.ident is None:
                    self._running += 1
                    thread.start()

    def _take(self) -> int | None:
        """The offset of the next batch to embed; None when all are taken or an error stopped it."""
        with self._lock:
            if self._next >= len(self._texts) or self._stop.is_set():
                return None
            offset, self._next = self._next, self._next + EMBED_BATCH
            return offset

    def _run(self, worker: int) -> None:
        try:
            while (offset := self._take()) is not None:
                batch = self._texts[offset : offset + EMBED_BATCH]
                ids = self.ids[offset : offset + EMBED_BATCH]
                kept = self._journal.vectors(ids) if self._journal is not None else None
                if kept is None:
                    kept = self._embedder.encode(batch)
                    if self._journal is not None:
                        self._journal.add_vectors(ids, kept)
                self.vectors[offset : offset + len(batch)] = kept
                self._finished[worker] += len(batch)
                if (offset // EMBED_BATCH) % 64 == 63:
                    release_pages(self.vectors)  # a memory-mapped table's written pages stay in the file
        except BaseException as error:  # noqa: BLE001 (handed to the building thread by `wait`)
            self._errors.append(error)
            self._stop.set()
        finally:
            with self._lock:
                self._running -= 1
                last = self._running == 0 and self._next >= len(self._texts) and not self._released
                self._released = self._released or last
            if last and self._texts:
                release_memory(self._embedder)

    def wait(self, report: Progress) -> np.ndarray:
        """All the vectors, once embedded (reporting progress meanwhile); a thread's error, if any."""
        self.start()
        for thread in self._threads:
            while thread.is_alive():
                report(EMBEDDING, sum(self._finished), len(self.ids))
                thread.join(timeout=0.5)
        if self._errors:
            raise self._errors[0]
        report(EMBEDDING, len(self.ids), len(self.ids))
        return self.vectors


EMBEDDING = "embedding sentences"


def sentence_table(
    records: Sequence[Sentence],
    rows: np.ndarray,
    previous: np.ndarray | StackedRows,
    embedder: Embedder,
    early: EarlyEmbedding,
    report: Progress,
) -> tuple[np.ndarray | StackedRows, np.ndarray]:
    """Each record's vector, taken from the previous build's table `previous` where `rows`
    gives its row there (-1: none), else
    embedded (by `early`, or here for what it did not cover: sentences of an article the
    parser skipped are dropped, so the rest must be matched by id); and `rows`, the row each
    was taken from. The taken rows are read where the previous build holds them
    (`qa.indexing.rows.taken_rows`), not copied."""
    missing = np.flatnonzero(rows < 0).tolist()
    embedded = early.wait(report)
    ids = ids_of(records)
    wanted = [ids[i] for i in missing]
    if len(missing) == len(records) and wanted == early.ids:
        return embedded, rows  # all new, in order (a fresh build): the embedded table is the table
    fresh = embedded if wanted == early.ids else _late_vectors(records, missing, embedded, early.ids, embedder, report)
    return taken_rows(previous, rows, fresh), rows


def _late_vectors(
    records: Sequence[Sentence],
    missing: list[int],
    embedded: np.ndarray,
    embedded_ids: list[str],
    embedder: Embedder,
    report: Progress,
) -> np.ndarray:
    """The vectors of `records[missing]`: those `early` embedded, matched by id, and the rest embedded now."""
    out = np.zeros((len(missing), embedder.dimension), dtype=np.float32)
    found = {sid: row for row, sid in enumerate(embedded_ids)}
    late = []
    for k, i in enumerate(missing):
        if records[i].id in found:
            out[k] = embedded[found[records[i].id]]
        else:
            late.append(k)
    for offset in range(0, len(late), EMBED_BATCH):
        batch = late[offset : offset + EMBED_BATCH]
        out[batch] = embedder.encode([records[missing[k]].text for k in batch])
        report(EMBEDDING, offset + len(batch), len(late))
    if late:
        release_memory(embedder)
    return out


def release_memory(embedder: Embedder) -> None:
    """Hand back what the embedder's runtime kept for its largest batches (ONNX Runtime's
    arena, about 0.6 GB after a large build), so that it is not held through the rest of the
    build, its parse above all. Embedders without it (torch) hold nothing of the kind."""
    release = getattr(embedder, "release_memory", None)
    if release is not None:
        release()
