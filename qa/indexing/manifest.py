"""The manifest of a build folder: its format, and the checks it must pass before anything
in the build is trusted (its own checksum, then the shape of every key the code reads).

What the files of a build hold is described in `qa.indexing.store`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from qa.errors import IndexCorruptError
from qa.files import is_checksum
from qa.indexing.segments import VECTOR_TABLES, layout_problem

# 2: entities carry their clause role and governing word; 3: vectors as .npy; 4: article metadata;
# 5: sentences and chunks as columns; 6: vectors in segment files; 7: number columns as NumPy
# arrays (sentences.npz, chunks.npz) with each token table's word postings, each article's acronyms
# (aliases.json), files checksummed with XXH3-128 (`qa.files`); 8: articles in segment files
# (`article_files`), word ids and counts stored in their narrowest integer type; 9: article
# segments as columns (`articles-*.npz`, `qa.indexing.article_rows`) rather than JSON lines, and
# each clustered table's code ranges and codes (`{table}.ranges.npy`, `codes`: segment files
# `{table}-*.codes.npy` kept like the vectors')
FORMAT_VERSION = 9
READABLE_VERSIONS = (6, 7, 8, 9)  # a build of an older version still loads (and is rewritten at the next build)
MANIFEST = "manifest.json"
DATA_FILES = ("sentences.json", "sentences.npz", "chunks.json", "chunks.npz", "aliases.json")
ARTICLES_FILE = "articles.jsonl"  # every article in one file: builds of format 6 and 7
MAX_MANIFEST_BYTES = 256 * 1024 * 1024  # a manifest lists every source file; far beyond any real one


def data_files(manifest: dict[str, Any]) -> tuple[str, ...]:
    """The record files of a build of the manifest's format version."""
    if manifest.get("format_version") == 6:
        return (ARTICLES_FILE, "sentences.json", "chunks.json")
    if manifest.get("format_version") == 7:
        return (ARTICLES_FILE, *DATA_FILES)
    return DATA_FILES


def segment_files(manifest: dict[str, Any]) -> list[str]:
    """The segment files of a build whose manifest has passed `manifest_problem`: its vectors',
    and (since format 8) its articles'."""
    articles = manifest["article_files"]["files"] if manifest.get("format_version") not in (6, 7) else {}
    return [*manifest["vectors"]["files"], *articles, *manifest.get("codes", {}).get("files", {})]


def coded_tables(manifest: dict[str, Any]) -> tuple[str, ...]:
    """The clustered tables whose code ranges and codes the build holds (since format 9: all of them)."""
    return tuple(table for table in manifest.get("coarse", {}) if "codes" in manifest)


def coarse_files(manifest: dict[str, Any]) -> list[str]:
    coded = coded_tables(manifest)
    return [
        f"{table}.{part}.npy"
        for table in manifest.get("coarse", {})
        for part in ("centroids", "groups", *(("ranges",) if table in coded else ()))
    ]


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a build folder, checked before anything in it is trusted.

    Raises:
        IndexCorruptError: missing, unreadable, of another format version, altered (its
            own checksum does not match) or not of the expected shape.
    """
    path = folder / MANIFEST
    try:
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            raise IndexCorruptError(f"index manifest {path} is over {MAX_MANIFEST_BYTES // 2**20} MiB")
        manifest = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError as error:
        raise IndexCorruptError(f"index manifest {path} is missing") from error
    except (OSError, ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
        raise IndexCorruptError(f"index manifest {path} is unreadable: {error}") from error
    if not isinstance(manifest, dict) or manifest.get("format_version") not in READABLE_VERSIONS:
        raise IndexCorruptError(
            f"index manifest {path} is not format version {FORMAT_VERSION}; the index will be rebuilt"
        )
    if not isinstance(manifest.get("checksums"), dict):
        raise IndexCorruptError(f"index manifest {path} has no checksums")
    try:
        own = manifest_checksum(manifest)
    except (ValueError, RecursionError) as error:  # NaN or absurd nesting: not ours
        raise IndexCorruptError(f"index manifest {path} is unreadable: {error}") from error
    if manifest.get("checksum") != own:
        raise IndexCorruptError(f"index manifest {path} does not match its own checksum (altered or damaged)")
    problem = manifest_problem(manifest)
    if problem:
        raise IndexCorruptError(f"index manifest {path} is malformed: {problem}")
    return manifest


def manifest_checksum(manifest: dict[str, Any]) -> str:
    """SHA-256 of the manifest's canonical JSON (sorted keys, no spaces), without `checksum`.

    Raises:
        ValueError: the manifest holds a value JSON cannot write (NaN, infinity).
    """
    body = {key: value for key, value in manifest.items() if key != "checksum"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def manifest_problem(manifest: dict[str, Any]) -> str | None:
    """What is wrong with the shape of a manifest (every key the code relies on), or None."""
    for key, kind in (("model", str), ("pipeline", str), ("settings", dict), ("files", dict), ("checksums", dict)):
        if not isinstance(manifest.get(key), kind):
            return f"{key!r} is not a {kind.__name__}"
    dimension = manifest.get("dimension")
    if not _is_int(dimension) or dimension < 1:
        return "'dimension' is not a positive integer"
    coarse = manifest.get("coarse", {})
    if not isinstance(coarse, dict) or not all(
        table in VECTOR_TABLES and isinstance(record, dict) and _is_int(record.get("trained_on"))
        for table, record in coarse.items()
    ):
        return "'coarse' is not a table of clusterings"
    for name in (*data_files(manifest), *coarse_files(manifest)):
        if not is_checksum(manifest["checksums"].get(name)):
            return f"no checksum for {name}"
    counts = manifest.get("counts", {})
    if not isinstance(counts, dict) or not all(_is_int(v) and v >= 0 for v in counts.values()):
        return "'counts' is not a table of counts"
    if coarse and not all(_is_int(counts.get(table)) for table in coarse):
        return "'counts' does not count the clustered tables"
    problem = layout_problem(manifest.get("vectors"), counts)
    if problem:
        return problem
    if manifest.get("format_version") not in (6, 7):
        problem = layout_problem(manifest.get("article_files"), counts, "article_files")
        if problem:
            return problem
    if "codes" in manifest:
        problem = layout_problem(manifest["codes"], counts, "codes", coded_tables(manifest))
        if problem:
            return problem
    for name in segment_files(manifest):
        if not is_checksum(manifest["checksums"].get(name)):
            return f"no checksum for {name}"
    for relpath, record in manifest["files"].items():
        if not isinstance(record, dict):
            return f"the record of {relpath!r} is not a table"
        if not _is_sha256(record.get("sha256")):
            return f"{relpath!r} has no SHA-256"
        for key in ("size", "mtime_ns", "ctime_ns"):
            if not _is_int(record.get(key)):
                return f"{relpath!r} has no integer {key!r}"
        if not isinstance(record.get("doc_id"), (str, type(None))):
            return f"{relpath!r} has a doc_id that is not text"
    return None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_sha256(value: object) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)
