"""The sharded index folder of one corpus on disk.

    <corpus-name>-<hash of its path>-shards/
        shards.json        the top-level manifest: the shards in document order, each
                           with the checksum of its own manifest; replaced atomically,
                           written only after every shard is complete
        shard-<id>/        one shard: an ordinary build folder (see `qa.indexing.store`)
        .shard-<id>.partial  a shard being written (never listed; removed by the next build)
        .lock              serialises builds across processes (`qa.indexing.folder.file_lock`)
        records-<checksum>/  the shards' records joined, for the coordinator to read in place
                           (`qa.distributed.records`; written when the shards are first served)

A shard listed in `shards.json` was renamed into place after its manifest and files
were fsynced, so the listing never names a half-written shard.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path
from typing import Any

from qa.config import Settings
from qa.errors import IndexCorruptError
from qa.indexing import store
from qa.indexing.durable import write_atomic
from qa.indexing.manifest import manifest_checksum, read_manifest
from qa.indexing.catalog import index_home

SHARDS = "shards.json"
SHARDS_FORMAT = 1
_SHARD_NAME = re.compile(r"shard-[0-9a-f]{12}")


def sharded_home(corpus: Path, settings: Settings) -> Path:
    """The folder of `corpus`'s sharded index, beside its single index under the index root."""
    single = index_home(corpus, settings)
    return single.with_name(single.name + "-shards")


def write_listing(home: Path, shards: list[dict[str, Any]], settings: Settings, dimension: int) -> dict[str, Any]:
    """Write `shards.json` atomically, listing `shards` ({name, checksum, counts}) in document order."""
    listing: dict[str, Any] = {
        "format_version": SHARDS_FORMAT,
        "shard_format_version": store.FORMAT_VERSION,
        "model": settings.model,
        "dimension": dimension,
        "settings": settings.index_shape(),
        "shards": shards,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    listing["checksum"] = manifest_checksum(listing)
    write_atomic(home / SHARDS, json.dumps(listing, indent=2, sort_keys=True).encode("utf-8"))
    return listing


def read_listing(home: Path) -> dict[str, Any]:
    """`shards.json`, checked: its own checksum, its shape, and every listed shard folder present.

    Raises:
        IndexCorruptError: missing, altered, of another format, or naming a missing shard.
    """
    path = home / SHARDS
    try:
        listing = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError as error:
        raise IndexCorruptError(f"no sharded index in {home}; build one with `qa index CORPUS --ray`") from error
    except (OSError, ValueError) as error:
        raise IndexCorruptError(f"{path} is unreadable: {error}") from error
    if not isinstance(listing, dict) or listing.get("format_version") != SHARDS_FORMAT:
        raise IndexCorruptError(f"{path} is not format version {SHARDS_FORMAT}; rebuild with `qa index CORPUS --ray`")
    if listing.get("checksum") != manifest_checksum(listing):
        raise IndexCorruptError(f"{path} does not match its own checksum (altered or damaged)")
    shards = listing.get("shards")
    if not isinstance(shards, list) or not shards:
        raise IndexCorruptError(f"{path} lists no shards")
    for shard in shards:
        name = shard.get("name") if isinstance(shard, dict) else None
        if not isinstance(name, str) or not _SHARD_NAME.fullmatch(name) or not (home / name).is_dir():
            raise IndexCorruptError(f"{path} lists {name!r}, which is not a shard folder")
    return listing


def listed_names(home: Path) -> set[str]:
    """The shard folders the current `shards.json` lists (none when there is no valid one)."""
    try:
        return {shard["name"] for shard in read_listing(home)["shards"]}
    except IndexCorruptError:
        return set()


def check_shard(folder: Path, checksum: str) -> dict[str, Any]:
    """The manifest of a shard folder, which must be the one `shards.json` recorded for it.

    Raises:
        IndexCorruptError: the shard's manifest is damaged or not the one listed.
    """
    manifest = read_manifest(folder)
    if manifest["checksum"] != checksum:
        raise IndexCorruptError(f"shard {folder} is not the one its shards.json lists (replaced or damaged)")
    return manifest


def remove_partial(home: Path) -> None:
    """Shards left half-written (hold the lock); whole shards stay, listed or not, for a build to reuse."""
    for path in home.iterdir():
        if path.name.endswith(".partial"):
            shutil.rmtree(path, ignore_errors=True)


def remove_unlisted(home: Path) -> None:
    """Shards the current listing does not name, and shards left half-written (hold the lock)."""
    keep = listed_names(home)
    for path in home.iterdir():
        name = path.name
        if (name.startswith("shard-") and name not in keep) or name.endswith(".partial"):
            shutil.rmtree(path, ignore_errors=True)
