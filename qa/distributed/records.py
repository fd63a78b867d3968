"""The coordinator's records: every shard's sentences, chunks, tokens and articles end to end,
written once beside the shards and read in place.

The answer stages read the records of the candidates a search returns by their row over the
whole corpus (`qa.distributed.serving`), so the coordinator holds the shards' records as one
table. Joined in memory, that was every column of every shard, copied: about 0.73 KB a
sentence, growing with the archive. Joined once and written as a build's record files
(`sentences.npz`, `chunks.npz`, an article segment: `qa.indexing.store`), then read back in place
(`qa.indexing.mapped`), the coordinator holds only what a loaded build keeps in memory (ids,
positions, lookups) and the pages questions read; the next coordinator of the same shards reads
them back without joining.

    <sharded home>/records-<listing checksum>/
        records.json       format version, the article segments' layout, and the checksum of
                           every other file (checked when read; written last, atomically)
        sentences.json, sentences.npz, chunks.json, chunks.npz, articles-*.npz
                           as in a build folder

A folder being written is `.records-*.partial` (removed by the next build of the shards, as
any partial folder); records of an earlier listing are removed once new ones are in place. A
folder that cannot be written (a read-only index) or read back leaves the records joined in
memory, as before.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Callable

from qa.errors import IndexCorruptError
from qa.files import matches_checksum
from qa.indexing import store
from qa.indexing.article_rows import write_articles
from qa.indexing.durable import fsync_dir, write_atomic
from qa.indexing.segments import ARTICLE_TABLE

RECORDS_PREFIX = "records-"
RECORDS_MANIFEST = "records.json"
RECORD_FIELDS = ("articles", "sentences", "sentence_tokens", "chunks", "chunk_tokens")


def coordinator_records(home: Path, listing_checksum: str, joined: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The records of the shards `listing_checksum` names, by `StoredIndex` field (with
    `mappings`): read in place from `home`'s records folder, which is written from `joined()`
    (the records joined in memory) when missing or damaged."""
    folder = home / f"{RECORDS_PREFIX}{listing_checksum[-16:]}"
    try:
        return _read(folder)
    except (OSError, IndexCorruptError):
        pass  # not written yet, or damaged: written again
    records = joined()
    try:
        _write(folder, records)
        found = _read(folder)
    except (OSError, IndexCorruptError):
        return {**records, "mappings": ()}  # a folder no one may write: held in memory
    for other in home.glob(f"{RECORDS_PREFIX}*"):
        if other != folder:
            shutil.rmtree(other, ignore_errors=True)
    return found


def _write(folder: Path, records: dict[str, Any]) -> None:
    staging = folder.with_name(f".{folder.name}-{os.getpid()}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        articles = records["articles"]
        checksums = store.write_records(staging, *(records[name] for name in RECORD_FIELDS))
        written = write_articles(staging, articles, None)
        checksums.update({name: checksum for name, (_, checksum) in written.files.items()})
        manifest = {
            "format_version": store.FORMAT_VERSION,
            "article_files": {
                "files": {name: count for name, (count, _) in written.files.items()},
                ARTICLE_TABLE: [list(run) for run in written.runs],
            },
            "checksums": checksums,
        }
        write_atomic(staging / RECORDS_MANIFEST, json.dumps(manifest, sort_keys=True).encode("utf-8"))
        fsync_dir(staging)
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _read(folder: Path) -> dict[str, Any]:
    """The records in `folder`, their columns read in place.

    Raises:
        OSError: the folder or a file is missing.
        IndexCorruptError: a file does not match its checksum, or the records do not fit together.
    """
    try:
        manifest = json.loads((folder / RECORDS_MANIFEST).read_bytes())
        checksums = manifest["checksums"]
        if manifest.get("format_version") != store.FORMAT_VERSION:
            raise IndexCorruptError(f"{folder} holds records of another index format")
        for name, checksum in checksums.items():
            if not matches_checksum(folder / name, checksum):
                raise IndexCorruptError(f"{folder / name} does not match its checksum")
        records = store.read_records(folder, manifest)
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        raise IndexCorruptError(f"the records in {folder} are inconsistent: {error}") from error
    del records["text_keys"]  # what an update reads; the coordinator does not update
    return records
