"""The base of every table whose rows are made when read (`qa.indexing.tables`,
`qa.indexing.article_table`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, overload


class LazyRows(Sequence):
    """A read-only sequence of rows made on demand; slices are tuples, `==` compares rows."""

    def _row(self, i: int) -> Any:
        raise NotImplementedError

    @overload
    def __getitem__(self, i: int) -> Any: ...
    @overload
    def __getitem__(self, i: slice) -> tuple: ...
    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):
            return tuple(self._row(j) for j in range(*i.indices(len(self))))
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"row {i} of {len(self)}")
        return self._row(i)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None  # type: ignore[assignment]
