"""Inverted-file search for large vector tables, with its clustering kept in the build.

Up to `FLAT_MAX_VECTORS` vectors an exact search is fast enough (about 4 ms at 40k on
one core). Above it, vectors are grouped around k-means centroids and a question
searches the `PROBES` groups nearest to it (`eval/scale.py` measures both, and the
recall@10 of this search against the exact one).

Learning the centroids takes seconds at 100k vectors, so a build keeps them, and each
vector's group, beside the vectors (`CoarseLists`). Loading then only files the vectors
into their groups; an update keeps the centroids and the groups of the vectors it keeps,
and places only the new vectors. In a running process, an update does not even file the
kept vectors again: `IvfSearch` carries the filed lists over and files only what is new.

The file holds each vector as half a byte a dimension (FAISS's 4-bit scalar quantizer, its
ranges learned from a fixed sample of the table with the centroids, and kept with them): an
eighth of the float32 table, which stays on disk, memory-mapped. A build stores each
vector's code too (`CoarseLists.codes`, `qa.indexing.ivf_codes`), so a load files codes
rather than making them. A search takes the file's best candidates and ranks them by their exact inner products, read from the table, so its scores are exact and
its recall that of the probes (`eval/scale.py` prints recall@10 against exact search): on
600 SQuAD questions over 100k real sentence vectors, recall@10 against exact search was
0.907 with one byte a dimension and with half a byte alike, candidates re-scored 64 to 256,
the probes alone deciding it, while the file of a million vectors is 0.19 GB, not 0.38 GB.
Product quantisation (48 bytes a vector) cost 0.3 points of recall with 256 re-scored, and
its codes take about 25 microseconds a vector to make, too slow for a load: see the
benchmarks' "Product quantisation, measured".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import faiss
import numpy as np
from faiss.contrib.ivf_tools import add_preassigned

from qa.indexing.ivf_codes import CODE, FILE_BLOCK, code_size, file_codes, table_ranges
from qa.indexing.rows import MAPPED_BLOCK, read_rows, release_pages

FLAT_MAX_VECTORS = 40_000
PROBES = 32  # groups searched per question: recall@10 about 0.97 at 100k sentences
SAMPLE_PER_CENTROID = 32  # k-means learns from at most this many vectors per centroid
RETRAIN_GROWTH = 2.0  # centroids are learned again once the table is this many times the size they were learned at


@dataclass(frozen=True)
class CoarseLists:
    """The clustering of one vector table: centroids, each vector's group, and the size
    of the table the centroids were learned from; the ranges of the file's codes (learned
    with the centroids and kept with them, None in a build made before 2026-12-07, when
    they are learned at filing) and, once a build is saved, each vector's code (`codes`:
    read from the build, so that a load files the codes rather than making them)."""

    centroids: np.ndarray  # (groups, dimension) float32
    groups: np.ndarray  # (vectors,) int64, a row of `centroids` per vector
    trained_on: int
    ranges: np.ndarray | None = None  # (2 * dimension,) float32: FAISS's scalar quantizer's trained ranges
    codes: Any = None  # (vectors, code_size(dimension)) uint8 rows, memory-mapped, or None

    def problem(self, vectors: int, dimension: int) -> str | None:
        """What makes these lists unusable for a table of `vectors` rows, or None."""
        if self.centroids.ndim != 2 or self.centroids.shape[1] != dimension or not len(self.centroids):
            return "centroids of the wrong shape"
        if self.groups.shape != (vectors,):
            return "a group count that does not match the vectors"
        if len(self.groups) and (self.groups.min() < 0 or self.groups.max() >= len(self.centroids)):
            return "groups outside the centroids"
        if self.ranges is not None and (self.ranges.dtype != np.float32 or self.ranges.shape != (2 * dimension,)):
            return "code ranges of the wrong shape"
        if self.codes is not None and (self.ranges is None or tuple(self.codes.shape) != (vectors, code_size(dimension))):
            return "codes that do not match the vectors"
        return None


def coarse_lists(
    vectors: np.ndarray, previous: CoarseLists | None = None, kept: np.ndarray | None = None
) -> CoarseLists | None:
    """The clustering a table of `vectors` needs (None: small enough for exact search).

    `previous` is the clustering of an earlier table and `kept[i]` the row that vector `i`
    had there (-1 if new); kept vectors stay in their group and new ones join their
    nearest centroid, unless the table has grown past `RETRAIN_GROWTH` times the size
    the centroids were learned from, or is new, when the centroids are learned afresh.
    """
    if len(vectors) <= FLAT_MAX_VECTORS:
        return None
    fresh_start = (
        previous is None
        or kept is None
        or previous.centroids.shape[1] != vectors.shape[1]
        or len(vectors) > RETRAIN_GROWTH * previous.trained_on
    )
    if fresh_start:
        return learned_lists(vectors)
    groups = np.full(len(vectors), -1, dtype=np.int64)
    known = np.flatnonzero(kept >= 0)
    groups[known] = previous.groups[kept[known]]
    placed = np.flatnonzero(groups < 0)
    if len(placed):  # only these rows are read: an update's table is not copied together
        groups[placed] = nearest_centroid(previous.centroids, vectors[placed])
    ranges = previous.ranges if previous.ranges is not None else table_ranges(vectors)  # kept with the centroids
    return CoarseLists(previous.centroids, groups, previous.trained_on, ranges)


def learned_lists(vectors: np.ndarray) -> CoarseLists:
    """A clustering learned afresh for `vectors`, whatever their number."""
    # a memory-mapped table (a build's) is read where it lies, a block at a time (`nearest_centroid`)
    data = vectors if isinstance(vectors, np.memmap) else np.ascontiguousarray(vectors, dtype=np.float32)
    centroids = _learned_centroids(data)
    return CoarseLists(centroids, nearest_centroid(centroids, data), len(data), table_ranges(data))


def ivf_index(
    vectors: np.ndarray, coarse: CoarseLists, probes: int = PROBES, ranges: np.ndarray | None = None
) -> faiss.IndexIVFScalarQuantizer:
    """An inner-product inverted file of `vectors` filed by `coarse`, each vector held as half
    a byte a dimension (`ranges`: the per-dimension ranges of another table's file, else
    `coarse`'s, else learned from a fixed sample of these vectors, in milliseconds). The
    vectors are read a block at a time, and a memory-mapped table's pages are handed back
    after each block, so filing a table does not hold it in memory. Lists that carry their
    codes have them filed as they are, a block at a time: about a third of the time of
    making them (a million vectors in about 0.8 s rather than 2.3 s), the same file."""
    dimension = int(vectors.shape[1])
    quantizer = faiss.IndexFlatIP(dimension)
    quantizer.add(np.ascontiguousarray(coarse.centroids, dtype=np.float32))
    index = faiss.IndexIVFScalarQuantizer(
        quantizer, dimension, len(coarse.centroids), CODE, faiss.METRIC_INNER_PRODUCT
    )
    index.by_residual = False
    codes = coarse.codes if ranges is None and coarse.ranges is not None else None
    if ranges is None:
        ranges = coarse.ranges if coarse.ranges is not None else table_ranges(vectors)
    if ranges is not None:
        faiss.copy_array_to_vector(np.asarray(ranges, dtype=np.float32), index.sq.trained)
    index.is_trained = True
    groups = np.ascontiguousarray(coarse.groups, dtype=np.int64)
    if codes is not None:
        file_codes(index, codes, groups)
    else:
        for start in range(0, len(vectors), FILE_BLOCK):
            block = np.ascontiguousarray(vectors[start : start + FILE_BLOCK], dtype=np.float32)
            add_preassigned(index, block, groups[start : start + FILE_BLOCK])
            release_pages(vectors)
    index.nprobe = probes
    return index


# a search re-scores at least this many of the file's best rows exactly (k * 4 when more): with
# half a byte a dimension, 64 missed true neighbours among the tight clusters of tests/indexing
RESCORED = 128


def nearest_centroid(centroids: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Each vector's nearest centroid by inner product. A memory-mapped table is read a block
    at a time, its pages handed back after each (a build's table is not held whole); the
    blocks start where FAISS's own query blocks do, so the answer is the same."""
    quantizer = faiss.IndexFlatIP(centroids.shape[1])
    quantizer.add(np.ascontiguousarray(centroids, dtype=np.float32))
    if not isinstance(vectors, np.memmap) or len(vectors) < 2 * MAPPED_BLOCK:
        _, nearest = quantizer.search(np.ascontiguousarray(vectors, dtype=np.float32), 1)
        return nearest[:, 0].astype(np.int64)
    out = np.empty(len(vectors), dtype=np.int64)
    starts = list(range(0, len(vectors) - MAPPED_BLOCK, MAPPED_BLOCK))  # the last block takes the rest
    for start, stop in zip(starts, starts[1:] + [len(vectors)]):
        _, nearest = quantizer.search(np.ascontiguousarray(vectors[start:stop], dtype=np.float32), 1)
        out[start:stop] = nearest[:, 0]
        release_pages(vectors)
    return out


def _learned_centroids(data: np.ndarray) -> np.ndarray:
    """2 sqrt(n) centroids learned by FAISS's k-means for inner product (spherical), on a
    fixed sample, so the same table always gets the same centroids."""
    groups = int(2 * np.sqrt(len(data)))
    quantizer = faiss.IndexFlatIP(data.shape[1])
    learner = faiss.IndexIVFFlat(quantizer, data.shape[1], groups, faiss.METRIC_INNER_PRODUCT)
    sample = np.random.default_rng(0).choice(len(data), size=min(len(data), SAMPLE_PER_CENTROID * groups), replace=False)
    learner.train(_rows(data, np.sort(sample)))
    return faiss.rev_swig_ptr(quantizer.get_xb(), groups * data.shape[1]).reshape(groups, data.shape[1]).copy()


def _rows(data: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """data[rows] (ascending rows); from a memory-mapped table a block at a time, its pages
    handed back after each (a sample's rows lie across the whole file)."""
    if not isinstance(data, np.memmap):
        return data[rows]
    out = np.empty((len(rows), data.shape[1]), dtype=data.dtype)
    bounds = np.searchsorted(rows, np.arange(0, len(data) + MAPPED_BLOCK, MAPPED_BLOCK))
    for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
        out[a:b] = data[rows[a:b]]
        release_pages(data)
    return out


REFILE_SHARE = 0.1  # an update files the whole table again once masked plus added rows pass this share of the filed ones


class IvfSearch:
    """Inverted-file search over a vector table, kept current by updates without filing
    the whole table again.

    A table filed afresh is one FAISS inverted file, its ids the table's rows. An update
    (`updated`) keeps the inverted file it had, `base`, as it is: the rows the new table
    lost are masked out of every search (a FAISS id selector), and the ids of the rows it
    kept map to their new rows. The rows added since `base` was filed go into a small
    inverted file, `delta`, under the same centroids. A search probes the same groups in
    both and merges the two top lists, so it finds what one inverted file of the new table
    would. Adding an article at 100k sentences then files a few hundred vectors, not
    100,000 (about 200 MB of new memory). Once masked and added rows pass `REFILE_SHARE`
    of the base, or the centroids change, the table is filed afresh.

    Searches read and never change it, so threads may share it. It answers FAISS's
    `search(queries, k) -> (scores, ids)`, with the table's rows as ids.
    """

    def __init__(
        self,
        centroids: np.ndarray,
        vectors: Any,
        base: faiss.IndexIVFScalarQuantizer,
        base_rows: np.ndarray | None = None,
        delta: faiss.IndexIVFScalarQuantizer | None = None,
        delta_rows: np.ndarray | None = None,
    ) -> None:
        self.centroids = centroids
        self.vectors = vectors  # the table (row order), read for the exact scores of the candidates
        self.base = base
        self.base_rows = base_rows  # base id -> row of the table, -1 if gone; None: the ids are the rows
        self.delta = delta
        self.delta_rows = delta_rows  # delta id -> row of the table
        self.ntotal = (base.ntotal if base_rows is None else int((base_rows >= 0).sum())) + (delta.ntotal if delta else 0)
        self._params: faiss.SearchParametersIVF | None = None
        if base_rows is not None and (base_rows < 0).any():
            self._params, self._held = _masked(base_rows >= 0, base.nprobe)

    @classmethod
    def filed(cls, vectors: np.ndarray, coarse: CoarseLists, probes: int = PROBES) -> IvfSearch:
        """A search over `vectors`, filed afresh by `coarse`."""
        return cls(coarse.centroids, vectors, ivf_index(vectors, coarse, probes))

    @property
    def nprobe(self) -> int:
        return int(self.base.nprobe)

    def updated(self, vectors: np.ndarray, coarse: CoarseLists, kept: np.ndarray) -> IvfSearch:
        """The search over a new table `vectors` (filed by `coarse`) whose row i was row
        `kept[i]` of this one's table, or is new where it is -1."""
        if coarse.centroids is not self.centroids and not np.array_equal(coarse.centroids, self.centroids):
            return IvfSearch.filed(vectors, coarse, self.nprobe)
        rows = self.base_rows if self.base_rows is not None else np.arange(self.base.ntotal, dtype=np.int64)
        reused = np.flatnonzero(kept >= 0)
        old_rows = max(int(rows.max(initial=-1)), int(kept.max(initial=-1))) + 1
        new_row = np.full(old_rows, -1, dtype=np.int64)
        new_row[kept[reused]] = reused
        base_rows = np.where(rows >= 0, new_row[np.maximum(rows, 0)], -1)
        covered = np.zeros(len(kept), dtype=bool)
        covered[base_rows[base_rows >= 0]] = True
        added = np.flatnonzero(~covered)
        if int((base_rows < 0).sum()) + len(added) > REFILE_SHARE * self.base.ntotal:
            return IvfSearch.filed(vectors, coarse, self.nprobe)
        delta = None
        if len(added):
            added_lists = CoarseLists(coarse.centroids, coarse.groups[added], coarse.trained_on)
            ranges = faiss.vector_to_array(self.base.sq.trained)
            delta = ivf_index(np.asarray(vectors[added]), added_lists, self.nprobe, ranges)
        return IvfSearch(self.centroids, vectors, self.base, base_rows, delta, added if len(added) else None)

    def search(self, queries: np.ndarray, k: int, keep: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows) of the `k` nearest rows to each query, best first; -1 where fewer.
        With `keep` (a bool per row of the table), only the rows it keeps.

        The file's coded vectors choose the candidates (max(`RESCORED`, 4 k) of them),
        and their exact inner products with the table's vectors rank them."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        scores, ids = self._candidates(queries, max(RESCORED, 4 * k), keep)
        exact = np.full(ids.shape, -np.inf, dtype=np.float32)
        for q, (query, rows) in enumerate(zip(queries, ids)):
            found = rows >= 0
            if found.any():
                exact[q, found] = np.asarray(read_rows(self.vectors, rows[found]), dtype=np.float32) @ query
        scores = np.where(ids >= 0, exact, scores)
        order = _best_first(scores, ids)[:, :k]
        return np.take_along_axis(scores, order, axis=1), np.take_along_axis(ids, order, axis=1)

    def _candidates(self, queries: np.ndarray, k: int, keep: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The `k` best rows by the file's coded vectors (base and delta merged), among
        the rows `keep` keeps (all: None)."""
        params, held = self._params, None
        if keep is not None:
            live = keep if self.base_rows is None else (self.base_rows >= 0) & keep[np.maximum(self.base_rows, 0)]
            params, held = _masked(live, self.base.nprobe)
        scores, ids = self.base.search(queries, k, params=params)
        if self.base_rows is not None:
            ids = np.where(ids >= 0, self.base_rows[np.maximum(ids, 0)], -1)
        if self.delta is not None and self.delta_rows is not None:
            more_params, more_held = _masked(keep[self.delta_rows], self.delta.nprobe) if keep is not None else (None, None)
            more_scores, more_ids = self.delta.search(queries, k, params=more_params)
            del more_held
            more_ids = np.where(more_ids >= 0, self.delta_rows[np.maximum(more_ids, 0)], -1)
            scores, ids = np.concatenate([scores, more_scores], axis=1), np.concatenate([ids, more_ids], axis=1)
        order = _best_first(scores, ids)[:, :k]
        del held  # (the selector's bits lived until the searches were done)
        return np.take_along_axis(scores, order, axis=1), np.take_along_axis(ids, order, axis=1)


def _masked(live: np.ndarray, probes: int) -> tuple[faiss.SearchParametersIVF, tuple]:
    """Search parameters that skip the ids `live` does not keep, and what must stay alive
    while they are used (FAISS's selector points into the bit array)."""
    bits = np.packbits(np.asarray(live, dtype=bool), bitorder="little")
    selector = faiss.IDSelectorBitmap(len(bits), faiss.swig_ptr(bits))
    return faiss.SearchParametersIVF(sel=selector, nprobe=probes), (bits, selector)


def _best_first(scores: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Per query, the order of its hits best first, equal scores by row (so the order is the
    same however the rows were filed), misses (-1) last."""
    return np.lexsort((np.where(ids >= 0, ids, np.iinfo(np.int64).max), np.where(ids >= 0, -scores, np.inf)))
