"""The codes of an inverted file: each vector as half a byte a dimension (FAISS's 4-bit scalar
quantizer), under per-dimension ranges learned from a fixed sample of the table.

A build learns the ranges with its centroids (`qa.indexing.ivf.learned_lists`) and keeps both
across updates, and stores every vector's code beside the vectors (`qa.indexing.store`), so a
load files the stored codes into their lists (`file_codes`) rather than making them: about a
third of the time, the same file byte for byte.
"""

from __future__ import annotations

from typing import Any, Iterator

import faiss
import numpy as np

from qa.indexing.rows import release_pages

CODE = faiss.ScalarQuantizer.QT_4bit  # how the file holds a vector: half a byte a dimension
RANGE_SAMPLE = 65_536  # vectors the ranges of the file's codes are learned from
FILE_BLOCK = 65_536  # vectors filed at a time
CODES_BLOCK = 4 * FILE_BLOCK  # rows of codes filed at a time (48 MB of codes at 384 dimensions)
SAMPLE_STRETCH = 4_096  # sample rows read between hand-backs of a memory-mapped table's pages


def table_ranges(vectors: Any) -> np.ndarray | None:
    """The ranges of a file's codes, learned from a fixed sample of the table `vectors` (None
    for an empty one)."""
    rows = np.sort(np.random.default_rng(0).choice(len(vectors), size=min(len(vectors), RANGE_SAMPLE), replace=False))
    return _trained_ranges(_sampled(vectors, rows)) if len(rows) else None


def code_size(dimension: int) -> int:
    """Bytes of a vector's code in the file."""
    return int(faiss.ScalarQuantizer(dimension, CODE).code_size)


def encoded(vectors: Any, ranges: np.ndarray) -> Iterator[np.ndarray]:
    """The codes of `vectors` under `ranges`, a block of rows at a time (a memory-mapped
    table's pages handed back after each): what a load files into the lists, made once
    when a build is saved."""
    quantizer = faiss.ScalarQuantizer(int(vectors.shape[1]), CODE)
    faiss.copy_array_to_vector(np.asarray(ranges, dtype=np.float32), quantizer.trained)
    for start in range(0, len(vectors), FILE_BLOCK):
        yield quantizer.compute_codes(np.ascontiguousarray(vectors[start : start + FILE_BLOCK], dtype=np.float32))
        release_pages(vectors)


def file_codes(index: faiss.IndexIVFScalarQuantizer, codes: Any, groups: np.ndarray) -> None:
    """File the rows given as `codes` (a table of the file's codes, read a block at a time) in
    their `groups`' lists, in row order within each list, as FAISS's own adding would: each
    list sized once, then filled block by block."""
    lists = index.invlists
    sizes = np.bincount(groups, minlength=index.nlist)
    for group in np.flatnonzero(sizes).tolist():
        lists.resize(group, int(sizes[group]))
    filled = np.zeros(index.nlist, dtype=np.int64)
    for start in range(0, len(groups), CODES_BLOCK):
        block_groups = groups[start : start + CODES_BLOCK]
        order = np.argsort(block_groups, kind="stable")
        ids = order.astype(np.int64) + start
        ordered = np.ascontiguousarray(np.asarray(codes[start : start + CODES_BLOCK])[order])
        release_pages(codes)
        bounds = np.searchsorted(block_groups[order], np.arange(index.nlist + 1))
        for group in np.flatnonzero(np.diff(bounds)).tolist():
            a, b = int(bounds[group]), int(bounds[group + 1])
            lists.update_entries(group, int(filled[group]), b - a, faiss.swig_ptr(ids[a:b]), faiss.swig_ptr(ordered[a:b]))
            filled[group] += b - a
    index.ntotal = len(groups)


def _sampled(vectors: Any, rows: np.ndarray) -> np.ndarray:
    """`vectors[rows]` (rows ascending) read a stretch of the table at a time, handing back the
    pages of a memory-mapped table after each: a sample spread over the whole file touches
    every page (the kernel maps the pages around each one read), so read at once it made the
    whole table resident (1.5 GB at a million sentences) before the first block was filed."""
    out = np.empty((len(rows), int(vectors.shape[1])), dtype=np.float32)
    for start in range(0, len(rows), SAMPLE_STRETCH):
        out[start : start + SAMPLE_STRETCH] = vectors[rows[start : start + SAMPLE_STRETCH]]
        release_pages(vectors)
    return out


def _trained_ranges(sample: np.ndarray) -> np.ndarray:
    quantizer = faiss.ScalarQuantizer(sample.shape[1], CODE)
    quantizer.train(sample)
    return faiss.vector_to_array(quantizer.trained)


