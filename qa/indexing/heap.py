"""Handing a build's freed memory back to the system, and keeping its largest tables out of it.

Python returns large strings and the arrays of large lists to the C heap when they are
freed, and glibc's allocator keeps what lies below the top of its heap: after the records
of a year of news are let go, RSS stays where it was. `malloc_trim` hands such free pages
back (0.13 GB after reading the year's 7,445 articles, for example). Elsewhere than glibc
this does nothing.

A build's largest tables, its sentence and chunk vectors (2.25 GB a million sentences), are
written to memory-mapped files as they are made (`Scratch`), their pages handed back as they
are written and read (`qa.indexing.rows.release_pages`), so a build holds its text tables, not
its vectors.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np


@lru_cache(maxsize=1)
def _libc() -> Any:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def trim_heap() -> bool:
    """Hand the C heap's free pages back to the system; whether it could (glibc only)."""
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


SCRATCH_MIN_ROWS = 50_000  # smaller vector tables are held in memory


class Scratch:
    """Vector tables a build writes into files of `folder` rather than memory, memory-mapped
    (their pages handed back as they are written and read, `qa.indexing.rows.release_pages`),
    for tables of at least `SCRATCH_MIN_ROWS` rows; each table a new file. The build's owner
    removes the folder once the build is saved."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._made = 0

    def table(self, rows: int, width: int) -> np.ndarray | None:
        """A new float32 table of `rows` x `width` in a file (None: too small, hold it in memory)."""
        if rows < max(SCRATCH_MIN_ROWS, 1):
            return None
        self.folder.mkdir(parents=True, exist_ok=True)
        self._made += 1
        path = self.folder / f"table-{self._made}.npy"
        return np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(rows, width))


def table_in(scratch: Scratch | None, rows: int, width: int) -> np.ndarray:
    """A float32 table for `rows` x `width` values: in `scratch`'s files where it takes it, else in memory."""
    mapped = scratch.table(rows, width) if scratch is not None else None
    return mapped if mapped is not None else np.empty((rows, width), dtype=np.float32)
