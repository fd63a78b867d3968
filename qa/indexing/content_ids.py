"""A table's sentence or chunk ids held as 8-byte numbers rather than strings.

Every id a build makes is 16 hex digits (`qa.ingest.chunker.content_id`). As Python strings
a million sentences' and a million chunks' ids took 135 MB of a loaded index, and as much in a
build; as big-endian 64-bit numbers they take 16 MB, and an id is written out as its digits
again when read. Ids of any other form (an index of records made by hand, a test's) stay a list.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any, Iterable, Iterator

import numpy as np

DIGITS = 16  # hex digits of an id
_NUMBER = np.dtype(">u8")  # big-endian, so an id's bytes are its digits' bytes in order


class HexIds(Sequence):
    """Ids of 16 lowercase hex digits as numbers; a read-only sequence of the strings."""

    __slots__ = ("numbers",)

    def __init__(self, numbers: np.ndarray) -> None:
        self.numbers = numbers.astype(_NUMBER, copy=False)  # (NumPy joins arrays in its own byte order)

    def __len__(self) -> int:
        return len(self.numbers)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return HexIds(self.numbers[i])
        i = operator.index(i)
        if i < 0:
            i += len(self.numbers)
        if not 0 <= i < len(self.numbers):
            raise IndexError("id index out of range")
        return self.numbers[i : i + 1].tobytes().hex()

    def __iter__(self) -> Iterator[str]:
        digits = self.numbers.tobytes().hex()
        return (digits[k : k + DIGITS] for k in range(0, len(digits), DIGITS))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, HexIds):
            return np.array_equal(self.numbers, other.numbers)
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(other) == len(self) and list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"HexIds({len(self)} ids)"

    def __reduce__(self) -> Any:
        return (HexIds, (self.numbers,))

    def tolist(self) -> list[str]:
        return list(self)


def id_number(sid: object) -> int | None:
    """The number `HexIds` holds for the id `sid`; None for a string that is not 16 lowercase
    hex digits (no such id is in a `HexIds`)."""
    if not isinstance(sid, str) or len(sid) != DIGITS:
        return None
    try:
        number = int(sid, 16)
    except ValueError:
        return None
    return number if format(number, "016x") == sid else None


def compact_ids(ids: Sequence[str]) -> Sequence[str]:
    """`ids` as `HexIds` when each is 16 lowercase hex digits (already so: as they are), else
    as a list of them."""
    if isinstance(ids, HexIds):
        return ids
    ids = ids if isinstance(ids, list) else list(ids)
    if not ids or set(map(len, ids)) != {DIGITS} or set(map(type, ids)) != {str}:
        return ids
    digits = "".join(ids)
    if not digits.isascii() or digits != digits.lower():
        return ids
    try:
        data = bytes.fromhex(digits)
    except ValueError:  # not hex digits
        return ids
    if len(data) * 2 != len(digits):  # spaces between the digits, which fromhex skips
        return ids
    return HexIds(np.frombuffer(data, dtype=_NUMBER).copy())


def joined_ids(parts: Iterable[Sequence[str]]) -> Sequence[str]:
    """The ids of `parts` end to end: numbers joined as numbers when every part is `HexIds`."""
    parts = list(parts)
    if parts and all(isinstance(part, HexIds) for part in parts):
        return HexIds(np.concatenate([part.numbers for part in parts]))
    return compact_ids([i for part in parts for i in part])

