"""The index folder on disk: a documented, versioned, pickle-free format.

One build lives in its own folder:

    manifest.json     format version, model, dimension, settings, source file hashes,
                      the SHA-256 of every other file of the build, and `checksum`: the
                      SHA-256 of the manifest itself (its canonical JSON without that key)
    articles.jsonl    doc_id, title, path, sha256, text, and outlet, url, author, published
                      (ISO date) where the article has them
    sentences.json    the sentences as columns (`qa.indexing.columns.sentence_columns`): id,
                      article (row in articles.jsonl), position, start, end, quotable;
                      entities (per-sentence offsets into start, end, label, role and
                      governor columns, the last three as ids into their name lists); and
                      BM25 tokens (per-sentence offsets into word ids of a vocabulary)
    chunks.json       the chunks as columns: id, article, start, end, first_sentence,
                      last_sentence, and tokens (BM25 input) like the sentences'
    chunks.npy        unit chunk vectors, float32, in chunks.json order (NumPy, no pickle)
    sentences.npy     unit sentence vectors, float32, in sentences.json order

Columns rather than a JSON object per row: a 100k-sentence index loads in a fraction of
the time, and its sentences become Python objects only when a question reads them.

The vectors are plain arrays rather than FAISS files: the search structures are built
from them in memory (`qa.indexing.memory`), so storing a FAISS index only to read its
vectors back would be a detour.

Sentence and chunk text is not stored twice: it is `article.text[start:end]`.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import orjson

from qa.errors import IndexCorruptError
from qa.indexing.columns import chunk_columns, chunk_records, sentence_columns, sentence_table
from qa.types import Article, Chunk, Sentence

# 2: entities carry their clause role and governing word; 3: vectors as .npy; 4: article metadata;
# 5: sentences and chunks as columns
FORMAT_VERSION = 5
MANIFEST = "manifest.json"
DATA_FILES = ("articles.jsonl", "sentences.json", "chunks.json", "chunks.npy", "sentences.npy")
MAX_MANIFEST_BYTES = 256 * 1024 * 1024  # a manifest lists every source file; far beyond any real one


@dataclass(frozen=True)
class StoredIndex:
    """Everything one build holds, as plain records and arrays."""

    manifest: dict[str, Any]
    articles: tuple[Article, ...]
    sentences: Sequence[Sentence]  # a tuple when built, a `SentenceTable` when loaded
    sentence_tokens: Sequence[tuple[str, ...]]  # a tuple when built, a `TokenTable` when loaded
    chunks: tuple[Chunk, ...]
    chunk_tokens: Sequence[tuple[str, ...]]
    chunk_vectors: np.ndarray
    sentence_vectors: np.ndarray


def save(folder: Path, index: StoredIndex) -> dict[str, Any]:
    """Write `index` into the new folder `folder`, manifest last, every file fsynced.

    The caller makes the folder visible (see `qa.indexing.catalog`) only after this returns, so a
    crash half-way leaves a stray folder, never a half-written index in use. Returns the manifest
    as written (with counts and checksums).
    """
    folder.mkdir(parents=True, exist_ok=False)
    article_row = {a.doc_id: row for row, a in enumerate(index.articles)}
    _write_jsonl(folder / "articles.jsonl", (_article_row(a) for a in index.articles))
    _write_json(folder / "sentences.json", sentence_columns(index.sentences, index.sentence_tokens, article_row))
    _write_json(folder / "chunks.json", chunk_columns(index.chunks, index.chunk_tokens, article_row))
    _write_vectors(folder / "chunks.npy", index.chunk_vectors, index.manifest["dimension"])
    _write_vectors(folder / "sentences.npy", index.sentence_vectors, index.manifest["dimension"])
    manifest = dict(index.manifest)
    manifest["format_version"] = FORMAT_VERSION
    manifest["counts"] = {
        "articles": len(article_row),
        "sentences": len(index.sentences),
        "chunks": len(index.chunks),
    }
    manifest["checksums"] = {name: sha256_file(folder / name) for name in DATA_FILES}
    manifest["checksum"] = manifest_checksum(manifest)
    write_atomic(folder / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8"))
    _fsync_dir(folder)
    return manifest


def load(folder: Path) -> StoredIndex:
    """Read a build folder back, checking every file against the manifest.

    Raises:
        IndexCorruptError: a file is missing, truncated, altered or inconsistent.
    """
    manifest = read_manifest(folder)
    for name in DATA_FILES:
        path = folder / name
        if not path.is_file():
            raise IndexCorruptError(f"index file {path} is missing")
        if sha256_file(path) != manifest["checksums"].get(name):
            raise IndexCorruptError(f"index file {path} does not match its checksum (damaged)")
    try:
        articles = tuple(_article(r) for r in _read_jsonl(folder / "articles.jsonl"))
        sentences, sentence_tokens = sentence_table(orjson.loads((folder / "sentences.json").read_bytes()), articles)
        chunks, chunk_tokens = chunk_records(orjson.loads((folder / "chunks.json").read_bytes()), articles)
        chunk_vectors = _read_vectors(folder / "chunks.npy")
        sentence_vectors = _read_vectors(folder / "sentences.npy")
    except (KeyError, TypeError, ValueError, RuntimeError, orjson.JSONDecodeError) as error:
        raise IndexCorruptError(f"index in {folder} is inconsistent: {error}") from error
    if len(chunk_vectors) != len(chunks) or len(sentence_vectors) != len(sentences):
        raise IndexCorruptError(f"index in {folder} has vector counts that do not match its records")
    if chunk_vectors.ndim != 2 or chunk_vectors.shape[1] != manifest.get("dimension"):
        raise IndexCorruptError(f"index in {folder} has vectors of the wrong dimension")
    return StoredIndex(
        manifest=manifest,
        articles=articles,
        sentences=sentences,
        sentence_tokens=sentence_tokens,
        chunks=chunks,
        chunk_tokens=chunk_tokens,
        chunk_vectors=chunk_vectors,
        sentence_vectors=sentence_vectors,
    )


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
    if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
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
    for name in DATA_FILES:
        if not _is_sha256(manifest["checksums"].get(name)):
            return f"no checksum for {name}"
    counts = manifest.get("counts", {})
    if not isinstance(counts, dict) or not all(_is_int(v) and v >= 0 for v in counts.values()):
        return "'counts' is not a table of counts"
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
    _fsync_dir(path.parent)


_METADATA = ("outlet", "url", "author", "published")


def _article_row(a: Article) -> dict[str, Any]:
    row = {"doc_id": a.doc_id, "title": a.title, "path": a.path, "sha256": a.sha256, "text": a.text}
    row.update({key: getattr(a, key) for key in _METADATA if getattr(a, key)})
    return row


def _article(row: dict[str, Any]) -> Article:
    metadata = {key: row[key] for key in _METADATA if key in row}
    if not all(isinstance(v, str) for v in metadata.values()):
        raise ValueError(f"article {row['doc_id']!r} has metadata that is not text")
    return Article(row["doc_id"], row["title"], row["text"], row["path"], row["sha256"], **metadata)


def _write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    with open(path, "wb") as handle:
        for row in rows:
            handle.write(orjson.dumps(row) + b"\n")
        handle.flush()
        os.fsync(handle.fileno())


def _write_json(path: Path, document: dict[str, Any]) -> None:
    with open(path, "wb") as handle:
        handle.write(orjson.dumps(document))
        handle.flush()
        os.fsync(handle.fileno())


def _read_jsonl(path: Path) -> Iterable[dict[str, Any]]:
    with open(path, "rb") as handle:
        for line in handle:
            if line.strip():
                yield orjson.loads(line)


def _write_vectors(path: Path, vectors: np.ndarray, dimension: int) -> None:
    array = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, dimension)
    with open(path, "wb") as handle:
        np.save(handle, array, allow_pickle=False)
        handle.flush()
        os.fsync(handle.fileno())


def _read_vectors(path: Path) -> np.ndarray:
    # memory-mapped: the search structures copy what they need, and the pages can go
    return np.load(path, allow_pickle=False, mmap_mode="r")


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
