"""Rows of several arrays read as one table, never copied together.

Two uses: the shards' memory-mapped vectors seen as one table (`qa.distributed.serving`),
and an updated build's vector tables (`qa.indexing.build`): the rows it keeps are read
where the last build holds them, and only the new rows are new memory. An update at 100k
sentences then allocates a few hundred KB instead of copying 200 MB of vectors.
"""

from __future__ import annotations

import os
import weakref
from itertools import accumulate
from typing import Any, Sequence

import numpy as np

from qa.indexing.mapped import hand_back

Piece = tuple[np.ndarray, int, int]  # an array, and the first row and the row after the last read from it
FLOAT32 = np.dtype(np.float32)
MAX_PIECES = 64  # more pieces than this, or more unread rows held than rows read: copy into one array


class StackedRows:
    """The rows of `parts` (arrays, or `StackedRows`), in order, read as one 2-D array.

    Indexing by a row, a slice (step 1) or an array of rows reads as NumPy would; a slice
    is another `StackedRows` over the same memory. `np.asarray` copies the rows together.
    Consecutive rows of one array are one piece, however they were cut and joined.
    """

    ndim = 2
    # no __dict__: an update makes one per article taken over (a million at a dump of one-sentence rows)
    __slots__ = ("pieces", "shape", "dtype", "_starts")

    def __init__(self, parts: Sequence[Any], width: int | None = None) -> None:
        pieces: list[Piece] = []
        for part in parts:
            for piece in part.pieces if isinstance(part, StackedRows) else ((part, 0, len(part)),):
                _append(pieces, piece)
        if width is None:
            if not parts:
                raise ValueError("StackedRows needs its row width when it has no parts")
            width = int(parts[0].shape[1])
        self._hold(pieces, width)

    def _hold(self, pieces: Sequence[Piece], width: int, dtype: Any = None) -> None:
        self.pieces: tuple[Piece, ...] = tuple(pieces)
        self.shape = (sum(stop - start for _, start, stop in self.pieces), width)
        self.dtype = dtype if dtype is not None else self.pieces[0][0].dtype if self.pieces else FLOAT32
        self._starts: np.ndarray | None = None

    @property
    def _first(self) -> np.ndarray:
        """The first row of each piece, and the row count after them: worked out when first read
        (an update slices a table per article taken over, 100k to a million slices, and reads
        rows of few of them)."""
        if self._starts is None:
            # summed in Python: NumPy's cumsum of a short list costs ten times as much
            self._starts = np.array(list(accumulate((stop - start for _, start, stop in self.pieces), initial=0)), dtype=np.int64)
        return self._starts

    def __len__(self) -> int:
        return self.shape[0]

    def __iter__(self) -> Any:
        for array, start, stop in self.pieces:
            yield from np.asarray(array[start:stop])

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if len(self.pieces) == 1:
            array, start, stop = self.pieces[0]
            out = np.asarray(array[start:stop])
        elif not self.pieces:
            out = np.zeros(self.shape, dtype=self.dtype)
        else:
            out = np.concatenate([array[start:stop] for array, start, stop in self.pieces])
        return out if dtype is None else out.astype(dtype, copy=False)

    def __getitem__(self, rows: Any) -> Any:
        if isinstance(rows, (int, np.integer)):
            row = int(rows) + (len(self) if rows < 0 else 0)
            if not 0 <= row < len(self):
                raise IndexError(f"row {int(rows)} is outside a table of {len(self)} rows")
            at = int(np.searchsorted(self._first, row, side="right")) - 1
            array, start, _ = self.pieces[at]
            return np.asarray(array[start + row - int(self._first[at])])
        if isinstance(rows, slice):
            return self._slice(rows)
        rows = np.asarray(rows)
        if rows.dtype == bool:
            rows = np.flatnonzero(rows)
        return self._gather(rows.astype(np.int64, copy=False).reshape(-1))

    def _slice(self, rows: slice) -> StackedRows:
        first, last, step = rows.indices(len(self))
        if step != 1:
            raise IndexError("StackedRows slices rows with step 1 only")
        last = max(first, last)
        sliced = StackedRows.__new__(StackedRows)  # the pieces are cut already: none to join
        if len(self.pieces) == 1:  # the usual case, read without walking the pieces
            array, start, _ = self.pieces[0]
            sliced._hold(((array, start + first, start + last),) if first < last else (), self.shape[1], self.dtype)
            return sliced
        out = []
        starts = self._first
        at = max(0, int(np.searchsorted(starts, first, side="right")) - 1)  # the piece of row `first`: walked from there
        while at < len(self.pieces) and int(starts[at]) < last:
            (array, start, stop), offset = self.pieces[at], int(starts[at])
            low, high = max(start, start + first - offset), min(stop, start + last - offset)
            if low < high:
                out.append((array, low, high))
            at += 1
        sliced._hold(out, self.shape[1])
        return sliced

    def _gather(self, rows: np.ndarray) -> np.ndarray:
        rows = np.where(rows < 0, rows + len(self), rows)
        if len(rows) and (rows.min() < 0 or rows.max() >= len(self)):
            raise IndexError(f"rows outside a table of {len(self)} rows")
        at = np.searchsorted(self._first, rows, side="right") - 1
        out = np.empty((len(rows), self.shape[1]), dtype=self.dtype)
        for piece in np.unique(at).tolist():
            mine = at == piece
            array, start, _ = self.pieces[piece]
            out[mine] = read_rows(array, rows[mine] - int(self._first[piece]) + start)
        return out

    def unread_rows(self) -> int:
        """Rows the arrays behind this table hold but it does not read (what it keeps alive for nothing)."""
        held = {id(array): len(array) for array, _, _ in self.pieces}
        return sum(held.values()) - len(self)


def _append(pieces: list[Piece], piece: Piece) -> None:
    array, start, stop = piece
    if start >= stop:
        return
    if pieces and pieces[-1][0] is array and pieces[-1][2] == start:
        pieces[-1] = (array, pieces[-1][1], stop)
    else:
        pieces.append(piece)


def joined_rows(parts: Sequence[Any], width: int) -> Any:
    """`parts` read as one table: an array where they are one piece or all new (no
    `StackedRows` among them), a `StackedRows` over them where that stays cheap to read,
    else one array copied together."""
    stacked = StackedRows(parts, width)
    if not any(isinstance(part, StackedRows) for part in parts) and len(stacked.pieces) > 1:
        return np.concatenate([np.asarray(part) for part in parts])  # all new rows: one array, as built
    if len(stacked.pieces) == 1:
        array, start, stop = stacked.pieces[0]
        if start == 0 and stop == len(array) and isinstance(array, np.ndarray):
            return array  # itself: a memory-mapped table stays one (`qa.indexing.heap.Scratch`)
        return np.asarray(stacked)  # a view, not a copy
    if len(stacked.pieces) > MAX_PIECES or stacked.unread_rows() > len(stacked):
        return np.ascontiguousarray(stacked)
    return stacked


def taken_rows(source: Any, rows: np.ndarray, new: np.ndarray) -> Any:
    """A table whose row i is `source[rows[i]]` where rows[i] >= 0, and the next row of
    `new` where it is -1: read in place from both (`joined_rows`), not copied."""
    width = int(new.shape[1])
    if not len(rows):
        return np.zeros((0, width), dtype=np.float32)
    table = source if isinstance(source, StackedRows) else StackedRows([source], width)
    fresh = rows < 0
    # a run ends where a row is not the one after its neighbour in the same source
    step_ok = np.concatenate(([False], (fresh[1:] & fresh[:-1]) | (~fresh[1:] & ~fresh[:-1] & (np.diff(rows) == 1))))
    starts = np.flatnonzero(~step_ok)
    stops = np.append(starts[1:], len(rows))
    new_row = np.cumsum(fresh) - fresh  # where each new row is read from in `new`
    parts: list[Any] = []
    for start, stop in zip(starts.tolist(), stops.tolist()):
        if fresh[start]:
            parts.append(new[int(new_row[start]) : int(new_row[start]) + stop - start])
        else:
            parts.append(table[int(rows[start]) : int(rows[start]) + stop - start])
    return joined_rows(parts, width)


class OpenFile:
    """A file held open for reading (closed when nothing refers to it any more)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.fd = os.open(path, os.O_RDONLY)
        weakref.finalize(self, os.close, self.fd)


class FileRows:
    """Where the rows of a memory-mapped table lie in its file (`file`, from byte `first`,
    `count` rows of `row_bytes`), so that rows scattered over the file are read with `pread`
    rather than through the mapping: the kernel maps 64 KB around every row read through a
    mapping, so the 12k rows of a week scattered over a million-row table mapped 0.76 GB, which
    the next hand-back had to unmap again (80 ms a question each way, at the 1M-row dump)."""

    def __init__(self, file: OpenFile, first: int, count: int, row_bytes: int) -> None:
        self.file, self.first, self.count, self.row_bytes = file, first, count, row_bytes

    def read(self, rows: np.ndarray, width: int, dtype: Any) -> np.ndarray:
        """Rows `rows` (any order, repeats allowed), each run of consecutive rows in one read."""
        if len(rows) and (int(rows.min()) < 0 or int(rows.max()) >= self.count):
            raise IndexError(f"rows outside a table of {self.count} rows")
        wanted, where = np.unique(rows, return_inverse=True)
        out = np.empty((len(wanted), width), dtype=dtype)
        if not out.size:
            return out[where.reshape(-1)]
        view, size, fd = memoryview(out).cast("B"), self.row_bytes, self.file.fd
        breaks = np.flatnonzero(np.diff(wanted) != 1) + 1
        firsts, lasts = [0, *breaks.tolist()], [*breaks.tolist(), len(wanted)]
        for a, b, row in zip(firsts, lasts, wanted[firsts].tolist()):
            target, offset = view[a * size : b * size], self.first + row * size
            done = os.preadv(fd, [target], offset)
            while done < len(target):  # a short read (signals, network file systems): the rest
                if done <= 0:
                    raise OSError(f"the vector file ended {len(target)} bytes early")
                target, offset = target[done:], offset + done
                done = os.preadv(fd, [target], offset)
        return out[where.reshape(-1)]


def read_rows(table: Any, rows: np.ndarray) -> np.ndarray:
    """`table[rows]` as a new array: read from the file for a table `qa.indexing.segments`
    memory-mapped (its `file_rows`), so that no page of the mapping is touched."""
    rows = np.asarray(rows, dtype=np.int64).reshape(-1)
    where: FileRows | None = getattr(table, "file_rows", None)
    if where is None or not hasattr(os, "preadv"):
        return np.asarray(table[rows])
    rows = np.where(rows < 0, rows + len(table), rows)
    return where.read(rows, int(table.shape[1]), table.dtype)


# rows of a memory-mapped table read at once (a multiple of FAISS's 4096-query blocks, so results
# are the same): 16 * 4096 kept up to 0.1 GB of a million-row table's pages beside a build's peak
MAPPED_BLOCK = 4 * 4096


def release_pages(vectors: Any) -> None:
    """Hand back the pages of a memory-mapped table that have been read (they are read
    again from the file when needed): a table filed or searched once is not kept resident."""
    for piece in getattr(vectors, "pieces", None) or [(vectors, 0, 0)]:
        hand_back(getattr(piece[0], "_mmap", None))
