"""Files a build writes: fsynced before they count, checksummed as they are written, and
replaced atomically where a file is rewritten in place (`CURRENT`, a manifest).

`qa.indexing.store` writes a build's files with these; `qa.indexing.folder` swaps builds in
with `write_atomic`.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import orjson

from qa.files import checksum_digest, checksum_of
from qa.indexing.rows import MAPPED_BLOCK, release_pages


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary name beside `path`, fsync, then `os.replace` onto it.

    The temporary name is unique per call (threads of one process may write the same
    file), and it is removed if anything fails, so no stray temporary file is left.

    Raises:
        OSError: the write failed; `path` is unchanged.
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


class HashingFile:
    """A file opened for writing that hashes what goes into it, so a saved file need not be read back."""

    def __init__(self, path: Path) -> None:
        self._handle = open(path, "wb")  # noqa: SIM115 - closed in __exit__
        self._digest = checksum_digest()

    def write(self, data: bytes | memoryview) -> int:
        self._digest.update(data)
        return self._handle.write(data)

    def __enter__(self) -> "HashingFile":
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if exc[0] is None:
                self._handle.flush()
                os.fsync(self._handle.fileno())
        finally:
            self._handle.close()

    def hexdigest(self) -> str:
        return checksum_of(self._digest)


def read_jsonl(path: Path) -> Iterable[dict[str, Any]]:
    """The objects of a JSON-lines file (blank lines passed over)."""
    with open(path, "rb") as handle:
        for line in handle:
            if line.strip():
                yield orjson.loads(line)


def write_array(path: Path, array: np.ndarray) -> str:
    """The bytes np.save writes, a block of rows at a time: a build's memory-mapped table
    (`qa.indexing.heap.Scratch`) hands back its pages after each block, not held whole."""

    def blocks() -> Iterable[np.ndarray]:
        for start in range(0, len(array), MAPPED_BLOCK):
            # the block's own rows (a mapped table's are read from its pages), in C order as the header says
            yield np.ascontiguousarray(array[start : start + MAPPED_BLOCK])
            release_pages(array)

    return write_blocks(path, tuple(array.shape), array.dtype, blocks())


def write_blocks(path: Path, shape: tuple[int, ...], dtype: Any, blocks: Iterable[np.ndarray]) -> str:
    """The bytes np.save writes for an array of `shape` and `dtype` whose rows come as
    `blocks`, in order (never held whole); returns the file's checksum.

    Raises:
        ValueError: the blocks do not make that array.
    """
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": shape}
    rows = 0
    with HashingFile(path) as handle:
        np.lib.format.write_array_header_1_0(handle, header)
        for block in blocks:
            if block.dtype != np.dtype(dtype) or block.shape[1:] != shape[1:]:
                raise ValueError(f"a block of {block.dtype} {block.shape} in an array of {np.dtype(dtype)} {shape}")
            handle.write(memoryview(np.ascontiguousarray(block)).cast("B"))
            rows += len(block)
        if rows != shape[0]:
            raise ValueError(f"{rows} rows written to an array of {shape[0]}")
    return handle.hexdigest()


def fsync_dir(folder: Path) -> None:
    """Make a folder's entries (a file created or renamed in it) durable, where the system allows."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
