"""The parser's worker processes: an ordered map over batches, each process on one BLAS
thread, handing back the heap memory a batch freed (`qa.ingest.annotate` runs spaCy in it)."""

from __future__ import annotations

import ctypes
import multiprocessing
from contextlib import contextmanager
from functools import lru_cache, partial
from typing import Any, Callable, Iterator

from threadpoolctl import threadpool_limits


@contextmanager
def batch_mapper(processes: int) -> Iterator[Callable[..., Iterator[Any]]]:
    """An ordered map over batches: a pool of forked parser processes, or the plain `map`.

    Our own pool rather than spaCy's `n_process`: a worker sends back only the spans, where
    spaCy's sends each whole parsed document to be read back here (a fifth of the parse's
    CPU time). Each parser uses one BLAS thread: its matrices are small, and more threads
    only contend with the other parser and with the embedding running meanwhile.
    """
    with threadpool_limits(limits=1, user_api="blas"):
        if processes > 1 and "fork" in multiprocessing.get_all_start_methods():
            with multiprocessing.get_context("fork").Pool(processes, initializer=_one_blas_thread) as pool:
                yield lambda work, batches: pool.imap(partial(then_trimmed, work), batches)
        else:
            yield map


def _one_blas_thread() -> None:
    threadpool_limits(limits=1, user_api="blas")


def then_trimmed(work: Callable[[Any], Any], batch: Any) -> Any:
    """`work(batch)` in a parser process, which then hands the heap memory the batch freed
    back to the system (glibc keeps it otherwise: about 50 MB a parser on a large build)."""
    try:
        return work(batch)
    finally:
        trim_heap()


@lru_cache(maxsize=1)
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(None).malloc_trim  # glibc; elsewhere there is nothing to trim this way
    except (OSError, AttributeError):
        return None


def trim_heap() -> None:
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
