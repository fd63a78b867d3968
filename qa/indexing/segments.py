"""Vector tables (and the articles) on disk as runs over segment files, so that an update
writes only its new rows.

A table (the sentence or the chunk vectors: float32, one row per record) is stored in one
or more segment files (NumPy `.npy`, no pickle), and the manifest lists, under `vectors`,
each segment's row count and each table's runs `[file, start, stop]`: the rows of the runs,
in order, are the table.

A fresh build writes one segment per table. An update hard-links the segments of the build
it was made from into its own folder (no bytes written, and they were fsynced when first
written) and writes one new segment holding only the rows that are new. The rows of a
removed article stay in their segment, unread. When unread rows would outnumber the
table's own, or a table would span more than `MAX_SEGMENTS` files, or a link cannot be
made, the table is written whole again, into one new segment.

The articles (`qa.indexing.article_rows`: columns since format 9, a JSON line each in format
8, their text included) are kept the same way since format 8, listed under `article_files`:
an update of a year of news wrote all its 146 MB of article text again for one article added.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from qa.files import FAST_PREFIX, file_checksum
from qa.indexing.rows import FileRows, OpenFile, StackedRows

VECTOR_TABLES = ("chunks", "sentences")  # the tables of vectors a build holds, in manifest order
ARTICLE_TABLE = "articles"  # the articles, in segment files too since format 8
MAX_SEGMENTS = 16
_NAME = re.compile(rf"^({'|'.join(VECTOR_TABLES)})-[0-9a-f]{{12}}\.npy$")
_CODES_NAME = re.compile(rf"^({'|'.join(VECTOR_TABLES)})-[0-9a-f]{{12}}\.codes\.npy$")  # the inverted files' codes, since format 9
CODES_SUFFIX = ".codes.npy"
_ARTICLE_NAME = re.compile(rf"^{ARTICLE_TABLE}-[0-9a-f]{{12}}\.(npz|jsonl)$")  # columns since format 9, JSON lines in 8

Run = tuple[str, int, int]  # segment file, first row, row after the last
WriteArray = Callable[[Path, np.ndarray], str]  # writes an array, fsynced; returns its SHA-256


@dataclass(frozen=True)
class Origin:
    """Where a new build's rows were taken from: the folder and manifest of the build it was
    made from, and per table, each row's row in that build (-1 where the row is new)."""

    folder: Path
    manifest: dict[str, Any]
    rows: dict[str, np.ndarray]


@dataclass(frozen=True)
class Written:
    """A table as saved: its runs, and the segment files it reads (name -> rows, SHA-256)."""

    runs: list[Run]
    files: dict[str, tuple[int, str]]


# the rows of a table at the given positions (None: all of them) written to a new segment
# file, fsynced; returns its checksum
WriteRows = Callable[[Path, "np.ndarray | None"], str]


def segment_name(table: str, suffix: str = ".npy") -> str:
    return f"{table}-{uuid.uuid4().hex[:12]}{suffix}"


def write_table(folder: Path, table: str, vectors: np.ndarray, write: WriteArray, origin: Origin | None) -> Written:
    """Save `vectors` (an array, or `qa.indexing.rows.StackedRows`) as table `table` in the new
    build folder `folder`, reusing what `origin` already holds on disk where that is worth it
    (see the module's docstring)."""

    def write_rows(path: Path, rows: np.ndarray | None) -> str:
        return write(path, vectors if rows is None else vectors[rows])

    return write_segments(folder, table, len(vectors), write_rows, origin, "vectors", ".npy")


def write_segments(
    folder: Path, table: str, count: int, write: WriteRows, origin: Origin | None, key: str, suffix: str
) -> Written:
    """Save the `count` rows of table `table` in the new build folder `folder` as segment files
    named `{table}-<12 hex digits>{suffix}`, linking those of `origin`'s manifest (its `key`
    entry lists them) where that is worth it (see the module's docstring)."""
    if origin is not None:
        reused = _write_update(folder, table, count, write, origin, key, suffix)
        if reused is not None:
            return reused
    name = segment_name(table, suffix)
    return Written([(name, 0, count)], {name: (count, write(folder / name, None))})


def _write_update(
    folder: Path, table: str, count: int, write: WriteRows, origin: Origin, key: str, suffix: str
) -> Written | None:
    layout = origin.manifest.get(key, {})
    previous_runs = [tuple(run) for run in layout.get(table, [])]
    previous_files: dict[str, int] = layout.get("files", {})
    rows = origin.rows.get(table)
    previous_total = sum(stop - start for _, start, stop in previous_runs)
    if not previous_runs or rows is None or len(rows) != count or (len(rows) and int(rows.max()) >= previous_total):
        return None
    new_name = segment_name(table, suffix)
    runs = plan_runs(rows, previous_runs, new_name)
    linked = sorted({name for name, _, _ in runs} - {new_name})
    fresh = int((rows < 0).sum())
    unread = sum(previous_files[name] for name in linked) + fresh - count
    if unread > count or len(linked) + 1 > MAX_SEGMENTS:
        return None
    checksums: dict[str, str] = origin.manifest["checksums"]
    try:
        for name in linked:
            os.link(origin.folder / name, folder / name)
    except OSError:  # gone, or a file system without hard links: write the table whole
        for name in linked:
            (folder / name).unlink(missing_ok=True)
        return None
    # a segment of a build written before 2026-12-06 carries a SHA-256: checksummed again the
    # fast way (checked against its old checksum when that build was loaded)
    files = {name: (previous_files[name], _fast(checksums[name], folder / name)) for name in linked}
    if fresh:
        files[new_name] = (fresh, write(folder / new_name, np.flatnonzero(rows < 0)))
    return Written(runs, files)


def _fast(checksum: str, path: Path) -> str:
    return checksum if checksum.startswith(FAST_PREFIX) else file_checksum(path)


def plan_runs(rows: np.ndarray, previous_runs: list[Run], new_name: str) -> list[Run]:
    """The runs of a table whose row i is row `rows[i]` of the table laid out in
    `previous_runs`, or (where `rows[i]` is -1) the next row of the new segment `new_name`."""
    count = len(rows)
    if not count:
        return []
    names = sorted({name for name, _, _ in previous_runs}) + [new_name]
    code = {name: i for i, name in enumerate(names)}
    lengths = np.asarray([stop - start for _, start, stop in previous_runs], dtype=np.int64)
    run_file = np.asarray([code[name] for name, _, _ in previous_runs], dtype=np.int64)
    run_start = np.asarray([start for _, start, _ in previous_runs], dtype=np.int64)
    first_row = np.cumsum(lengths) - lengths  # each previous run's first row in the previous table
    owner = np.repeat(np.arange(len(previous_runs), dtype=np.int64), lengths)  # previous row -> its run
    new = rows < 0
    known = np.where(new, 0, rows)
    file = np.where(new, len(names) - 1, run_file[owner[known]] if len(owner) else 0)
    offset = np.where(new, np.cumsum(new) - 1, run_start[owner[known]] + known - first_row[owner[known]] if len(owner) else 0)
    breaks = np.flatnonzero((np.diff(file) != 0) | (np.diff(offset) != 1)) + 1
    starts = np.concatenate(([0], breaks))
    stops = np.concatenate((breaks, [count]))
    return [(names[int(file[s])], int(offset[s]), int(offset[s]) + int(e - s)) for s, e in zip(starts, stops)]


def layout_problem(layout: Any, counts: dict[str, Any], key: str = "vectors", coded: tuple[str, ...] = ()) -> str | None:
    """What is wrong with a manifest's `vectors` entry (or, with `key` "article_files", the
    entry listing the article segments; with "codes", the entry listing the codes of the
    `coded` tables), or None."""
    tables, pattern = {"article_files": ((ARTICLE_TABLE,), _ARTICLE_NAME), "codes": (coded, _CODES_NAME)}.get(key, (VECTOR_TABLES, _NAME))
    if not isinstance(layout, dict) or not isinstance(layout.get("files"), dict):
        return f"{key!r} is not a table of segment files"
    files = layout["files"]
    for name, rows in files.items():
        if not pattern.match(name) or not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
            return f"{key!r} lists a segment file {name!r} that is not ours"
    for table in tables:
        runs = layout.get(table)
        if not isinstance(runs, list):
            return f"{key!r} has no runs for {table}"
        total = 0
        for run in runs:
            if not (isinstance(run, list) and len(run) == 3 and isinstance(run[0], str) and run[0] in files
                    and all(isinstance(x, int) and not isinstance(x, bool) for x in run[1:])):
                return f"{key!r} has a run of {table} that is not [file, start, stop]"
            if not 0 <= run[1] <= run[2] <= files[run[0]]:
                return f"{key!r} has a run of {table} outside its file"
            total += run[2] - run[1]
        if total != counts.get(table):
            return f"{key!r} holds {total} rows of {table}, not {counts.get(table)}"
    return None


def read_table(
    folder: Path, layout: dict[str, Any], table: str, dimension: int, dtype: type = np.float32
) -> np.ndarray | StackedRows:
    """The table's rows (`dimension` values of `dtype` each), read where they lie: its
    segment file memory-mapped where one run makes the table, else the runs' mapped rows read
    as one (`qa.indexing.rows.StackedRows`).

    Raises:
        ValueError: a segment file is not a table of its listed size and type.
    """
    runs = layout[table]
    mapped = {name: _mapped(folder / name, layout["files"][name], dimension, dtype) for name in {run[0] for run in runs}}
    files = {name: OpenFile(folder / name) for name in mapped}
    pieces = []
    for name, start, stop in runs:
        piece = mapped[name][start:stop]
        if isinstance(piece, np.memmap) and len(piece):  # (NumPy makes an empty slice a plain array)
            # scattered rows are read from the file, not through the mapping (`qa.indexing.rows.read_rows`)
            row_bytes = int(piece.strides[0])
            piece.file_rows = FileRows(files[name], int(mapped[name].offset) + start * row_bytes, stop - start, row_bytes)
        pieces.append(piece)
    if not pieces:
        return np.zeros((0, dimension), dtype=dtype)
    return pieces[0] if len(pieces) == 1 else StackedRows(pieces, dimension)


def _mapped(path: Path, rows: int, dimension: int, dtype: type) -> np.ndarray:
    array = np.load(path, allow_pickle=False, mmap_mode="r")
    if array.dtype != dtype or array.shape != (rows, dimension):
        raise ValueError(f"{path.name} holds {array.dtype} {array.shape}, not {np.dtype(dtype)} ({rows}, {dimension})")
    return array
