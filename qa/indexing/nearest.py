"""The vector index of one table: exact FAISS search, or an inverted file above 40k vectors.

`dense_index` picks and builds it (carrying an inverted file over from the table an
update came from, see `qa.indexing.ivf.IvfSearch`); exact search holds the vectors once,
inside FAISS, and hands back a read-only view of them for the records. Searching (the
nearest rows, filtered views) is `qa.retrieve.dense`'s; this is the data it reads.
"""

from __future__ import annotations

from typing import Any, Protocol

import faiss
import numpy as np

from qa.indexing import ivf
from qa.indexing.ivf import CoarseLists


class VectorIndex(Protocol):
    """What a dense searcher reads of a table: FAISS's `search(queries, k) -> (scores, rows)`
    (-1 where fewer), best first, over `ntotal` unit vectors.

    A FAISS flat index or `qa.indexing.ivf.IvfSearch` for a table in memory;
    `qa.distributed.serving.ShardedVectors` for one spread over Ray shards.
    """

    ntotal: int

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows) of the `k` nearest rows to each query, best first."""
        ...


def described(index: VectorIndex) -> str:
    """How a vector index searches, for reports: "exact", "inverted file", or its own `description`."""
    if isinstance(index, ivf.IvfSearch):
        return "inverted file"
    if isinstance(index, faiss.IndexFlat):
        return "exact"
    return str(getattr(index, "description", type(index).__name__))


def dense_index(
    vectors: np.ndarray,
    coarse: CoarseLists | None = None,
    previous: Any = None,
    kept: np.ndarray | None = None,
) -> tuple[Any, np.ndarray]:
    """The search for `vectors` and the vectors to read: exact (FAISS flat) up to
    `FLAT_MAX_VECTORS`, else inverted-file (`qa.indexing.ivf.IvfSearch`), filed by the
    build's `coarse` lists (learned here if it has none). `previous` is the search of the
    table this one was updated from and `kept` each row's row there (-1: new): an
    inverted file is then carried over rather than filed afresh."""
    if len(vectors) <= ivf.FLAT_MAX_VECTORS:
        return flat_ip(np.asarray(vectors))
    lists = coarse or ivf.coarse_lists(vectors)
    if isinstance(previous, ivf.IvfSearch) and kept is not None and len(kept) == len(vectors):
        return previous.updated(vectors, lists, kept), vectors
    return ivf.IvfSearch.filed(vectors, lists), vectors


def flat_ip(vectors: np.ndarray) -> tuple[faiss.IndexFlatIP, np.ndarray]:
    """An exact inner-product index of `vectors`, and a read-only view of the copy it holds."""
    index = faiss.IndexFlatIP(vectors.shape[1])
    if not len(vectors):
        return index, np.zeros((0, vectors.shape[1]), dtype=np.float32)
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    view = faiss.rev_swig_ptr(index.get_xb(), index.ntotal * index.d).reshape(index.ntotal, index.d)
    owned = np.asarray(_KeepsAlive(index, view))  # the array's base holds the index, so its memory stays
    owned.flags.writeable = False
    return index, owned


class _KeepsAlive:
    """Exposes an array that points into `owner`'s memory, and keeps `owner` alive with it."""

    def __init__(self, owner: Any, view: np.ndarray) -> None:
        self.owner = owner
        self.__array_interface__ = view.__array_interface__
