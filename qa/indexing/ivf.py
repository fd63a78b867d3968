"""Inverted-file search for large vector tables, with its clustering kept in the build.

Up to `FLAT_MAX_VECTORS` vectors an exact search is fast enough (about 4 ms at 40k on
one core). Above it, vectors are grouped around k-means centroids and a question
searches the `PROBES` groups nearest to it (`eval/scale.py` measures both, and the
recall@10 of this search against the exact one).

Learning the centroids takes seconds at 100k vectors, so a build keeps them, and each
vector's group, beside the vectors (`CoarseLists`). Loading then only files the vectors
into their groups; an update keeps the centroids and the groups of the vectors it keeps,
and places only the new vectors.
"""

from __future__ import annotations

from dataclasses import dataclass

import faiss
import numpy as np
from faiss.contrib.ivf_tools import add_preassigned

FLAT_MAX_VECTORS = 40_000
PROBES = 32  # groups searched per question: recall@10 about 0.97 at 100k sentences
SAMPLE_PER_CENTROID = 32  # k-means learns from at most this many vectors per centroid
RETRAIN_GROWTH = 2.0  # centroids are learned again once the table is this many times the size they were learned at


@dataclass(frozen=True)
class CoarseLists:
    """The clustering of one vector table: centroids, each vector's group, and the size
    of the table the centroids were learned from."""

    centroids: np.ndarray  # (groups, dimension) float32
    groups: np.ndarray  # (vectors,) int64, a row of `centroids` per vector
    trained_on: int

    def problem(self, vectors: int, dimension: int) -> str | None:
        """What makes these lists unusable for a table of `vectors` rows, or None."""
        if self.centroids.ndim != 2 or self.centroids.shape[1] != dimension or not len(self.centroids):
            return "centroids of the wrong shape"
        if self.groups.shape != (vectors,):
            return "a group count that does not match the vectors"
        if len(self.groups) and (self.groups.min() < 0 or self.groups.max() >= len(self.centroids)):
            return "groups outside the centroids"
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
    data = np.ascontiguousarray(vectors, dtype=np.float32)
    fresh_start = (
        previous is None
        or kept is None
        or previous.centroids.shape[1] != data.shape[1]
        or len(data) > RETRAIN_GROWTH * previous.trained_on
    )
    if fresh_start:
        return learned_lists(data)
    groups = np.full(len(data), -1, dtype=np.int64)
    known = np.flatnonzero(kept >= 0)
    groups[known] = previous.groups[kept[known]]
    placed = np.flatnonzero(groups < 0)
    if len(placed):
        groups[placed] = nearest_centroid(previous.centroids, data[placed])
    return CoarseLists(previous.centroids, groups, previous.trained_on)


def learned_lists(vectors: np.ndarray) -> CoarseLists:
    """A clustering learned afresh for `vectors`, whatever their number."""
    data = np.ascontiguousarray(vectors, dtype=np.float32)
    centroids = _learned_centroids(data)
    return CoarseLists(centroids, nearest_centroid(centroids, data), len(data))


def ivf_index(vectors: np.ndarray, coarse: CoarseLists, probes: int = PROBES) -> faiss.IndexIVFFlat:
    """An inner-product inverted-file index of `vectors`, filed by `coarse` (no training)."""
    data = np.ascontiguousarray(vectors, dtype=np.float32)
    quantizer = faiss.IndexFlatIP(data.shape[1])
    quantizer.add(np.ascontiguousarray(coarse.centroids, dtype=np.float32))
    index = faiss.IndexIVFFlat(quantizer, data.shape[1], len(coarse.centroids), faiss.METRIC_INNER_PRODUCT)
    index.is_trained = True
    if len(data):
        add_preassigned(index, data, np.ascontiguousarray(coarse.groups, dtype=np.int64))
    index.nprobe = probes
    return index


def nearest_centroid(centroids: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Each vector's nearest centroid by inner product."""
    quantizer = faiss.IndexFlatIP(centroids.shape[1])
    quantizer.add(np.ascontiguousarray(centroids, dtype=np.float32))
    _, nearest = quantizer.search(np.ascontiguousarray(vectors, dtype=np.float32), 1)
    return nearest[:, 0].astype(np.int64)


def _learned_centroids(data: np.ndarray) -> np.ndarray:
    """2 sqrt(n) centroids learned by FAISS's k-means for inner product (spherical), on a
    fixed sample, so the same table always gets the same centroids."""
    groups = int(2 * np.sqrt(len(data)))
    quantizer = faiss.IndexFlatIP(data.shape[1])
    learner = faiss.IndexIVFFlat(quantizer, data.shape[1], groups, faiss.METRIC_INNER_PRODUCT)
    sample = np.random.default_rng(0).choice(len(data), size=min(len(data), SAMPLE_PER_CENTROID * groups), replace=False)
    learner.train(data[np.sort(sample)])
    return faiss.rev_swig_ptr(quantizer.get_xb(), groups * data.shape[1]).reshape(groups, data.shape[1]).copy()
