"""The arrays of a NumPy archive (`.npz`) read in place: memory-mapped, not copied.

`np.load` reads every array of an archive into memory; it memory-maps only a lone `.npy`
file. The index's archives (`sentences.npz`, `chunks.npz`, `articles-*.npz`) are written
uncompressed (`np.savez`), so each member's bytes lie in the file as they are: after the
zip's local header of the member and its NumPy header. `mapped_arrays` maps the file once,
read-only, and gives each member as an array over its own bytes there. A question then reads
the pages of the rows it touches (a candidate's entities, its words' postings, an article's
text), and the rest stays on disk: at the year of news, 0.28 GB of columns that a loaded
index held in memory before.

A member that is compressed, or of a type that cannot be mapped (an object array), is read
as `np.load` reads it. A member starts wherever the zip puts it, so most arrays are not
aligned to their type's size: NumPy reads them correctly, at no measurable cost to a question.
The mapping lives as long as any of its arrays, even once the file is
deleted or replaced (an update writes a new build folder and removes the old; POSIX keeps
an unlinked file's pages for the mappings that hold them). `release` hands back the pages
read so far: they are read again from the file when touched.
"""

from __future__ import annotations

import mmap
import struct
import zipfile
from pathlib import Path
from typing import BinaryIO, Sequence

import numpy as np

_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")  # a zip member's local file header (30 bytes)
_LOCAL_SIGNATURE = 0x04034B50


class MappedArchive:
    """The arrays of one `.npz`, by name (without `.npy`), over one read-only mapping of it."""

    def __init__(self, path: Path) -> None:
        """Map `path` and find each member's array in it.

        Raises:
            ValueError: `path` is not a NumPy archive, or a member's headers are damaged.
        """
        self.arrays: dict[str, np.ndarray] = {}
        self._mapping: mmap.mmap | None = None
        try:
            with zipfile.ZipFile(path) as archive:
                members = archive.infolist()
                copied = {m.filename for m in members if m.compress_type != zipfile.ZIP_STORED}
                with open(path, "rb") as handle:
                    if path.stat().st_size and len(copied) < len(members):
                        self._mapping = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
                    for member in members:
                        name = member.filename.removesuffix(".npy")
                        array = None if member.filename in copied else self._mapped(handle, member)
                        if array is None:  # compressed, or not a type a mapping can hold
                            with archive.open(member) as stored:
                                array = np.lib.format.read_array(stored, allow_pickle=False)
                        self.arrays[name] = array
        except zipfile.BadZipFile as error:
            raise ValueError(f"{path.name} is not a NumPy archive: {error}") from error

    def _mapped(self, handle: BinaryIO, member: zipfile.ZipInfo) -> np.ndarray | None:
        """`member`'s array over its bytes in the mapping (None: a type a mapping cannot hold)."""
        handle.seek(member.header_offset)
        header = handle.read(_LOCAL_HEADER.size)
        if len(header) != _LOCAL_HEADER.size or _LOCAL_HEADER.unpack(header)[0] != _LOCAL_SIGNATURE:
            raise ValueError(f"the archive member {member.filename} has no local header")
        name_length, extra_length = _LOCAL_HEADER.unpack(header)[-2:]
        start = member.header_offset + _LOCAL_HEADER.size + name_length + extra_length
        handle.seek(start)
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(handle)
        if dtype.hasobject:
            return None
        offset = handle.tell()
        size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if offset - start + size != member.file_size:
            raise ValueError(f"the archive member {member.filename} holds {member.file_size} bytes, not its array's")
        if size == 0:
            return np.zeros(shape, dtype=dtype)
        return np.ndarray(shape, dtype=dtype, buffer=self._mapping, offset=offset, order="F" if fortran else "C")

    def release(self) -> None:
        """Hand back the pages read so far (they are read again from the file when touched)."""
        hand_back(self._mapping)


def hand_back(mapping: mmap.mmap | None) -> None:
    """Hand back the pages of `mapping` read so far, where the system can (a closed mapping, or
    one the system cannot advise, is left as it is)."""
    if mapping is not None and hasattr(mapping, "madvise") and hasattr(mmap, "MADV_DONTNEED"):
        try:
            mapping.madvise(mmap.MADV_DONTNEED)
        except (OSError, ValueError):
            pass


def mapped_arrays(path: Path, held: list[MappedArchive] | None = None) -> dict[str, np.ndarray]:
    """The arrays of the NumPy archive `path`, by name, read in place where stored uncompressed
    (its `MappedArchive` appended to `held`, to hand its pages back later).

    Raises:
        ValueError: `path` is not a NumPy archive, or a member's headers are damaged.
    """
    archive = MappedArchive(path)
    if held is not None:
        held.append(archive)
    return archive.arrays


def release_all(archives: Sequence[MappedArchive]) -> None:
    """Hand back the pages read so far of every archive in `archives`."""
    for archive in archives:
        archive.release()
