"""Rows of several arrays read as one: the shards' memory-mapped vectors, never copied together."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np


class StackedRows:
    """The rows of several arrays (one per shard) read as one array, without copying them together."""

    def __init__(self, parts: Sequence[np.ndarray]) -> None:
        self._parts = list(parts)
        self._first = np.cumsum([0] + [len(p) for p in parts])
        self.shape = (int(self._first[-1]), parts[0].shape[1])
        self.dtype = parts[0].dtype

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows: Any) -> np.ndarray:
        if isinstance(rows, (int, np.integer)):
            shard = int(np.searchsorted(self._first, rows, side="right")) - 1
            return np.asarray(self._parts[shard][rows - self._first[shard]])
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        shards = np.searchsorted(self._first, rows, side="right") - 1
        out = np.empty((len(rows), self.shape[1]), dtype=self.dtype)
        for shard in np.unique(shards):
            mine = shards == shard
            out[mine] = self._parts[shard][rows[mine] - self._first[shard]]
        return out
