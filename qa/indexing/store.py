"""The index folder on disk: a documented, versioned, pickle-free format.

One build lives in its own folder:

    manifest.json     (checked by `qa.indexing.manifest`) format version, model, dimension, settings, source file hashes,
                      the checksum (`qa.files.file_checksum`) of every other file of the build, and
                      `checksum`: the SHA-256 of the manifest itself (its canonical JSON without that key)
    articles-*.npz    the articles as columns (`qa.indexing.article_rows.table_arrays`): doc_id,
                      title, text, sha256, url as UTF-8 bytes end to end with offsets; path,
                      outlet, author, published (ISO date) as codes into their distinct values;
                      each text's length; and the `qa.ingest.corpus.text_key` that tells
                      repeated texts apart; in segment files as the vectors are (the manifest's
                      `article_files` lists each file's row count and the runs [file, start,
                      stop] that make the articles, in order; an update links the segments of
                      the build it came from and writes only its new articles; builds of format
                      8 hold a JSON line per article in `articles-*.jsonl` segments, of format 6
                      and 7 one articles.jsonl)
    sentences.json, sentences.npz
                      the sentences as columns (`qa.indexing.columns.sentence_columns`), text
                      columns in the JSON, number columns as NumPy arrays named by their path
                      ("entities.start"; `qa.indexing.columns.split_columns`): id, article (row in
                      articles.jsonl), position, start, end, quotable, parsed; entities
                      (per-sentence offsets into start, end, label, role and governor columns,
                      the last three as ids into their name lists); and BM25 tokens
                      (per-sentence offsets into word ids of a vocabulary, and the word postings:
                      per word the rows holding it and how often)
    chunks.json, chunks.npz
                      the chunks as columns: id, article, start, end, first_sentence,
                      last_sentence, and tokens (BM25 input) like the sentences'
    aliases.json      per article, the acronyms it defines (`qa.ingest.aliases.aliases_of`),
                      and a hash of the code that found them
    chunks-*.npy, sentences-*.npy
                      unit chunk and sentence vectors, float32 (NumPy, no pickle), in
                      segment files: the manifest's `vectors` lists each file's row count
                      and, per table, the runs [file, start, stop] that make it, in
                      chunks.json and sentences.json order (`qa.indexing.segments`: an
                      update links the segments of the build it came from and writes
                      only its new rows)
    sentences.centroids.npy, sentences.groups.npy, chunks.centroids.npy, chunks.groups.npy
                      only in builds whose vector table is large enough for an inverted-file
                      search (`qa.indexing.ivf`): its k-means centroids and each vector's group,
                      listed under `coarse` in the manifest (with the size they were learned at)
                      and checksummed like the rest
    sentences.ranges.npy, chunks.ranges.npy, sentences-*.codes.npy, chunks-*.codes.npy
                      beside a clustered table (since format 9): the ranges of its inverted
                      file's codes (float32, kept with the centroids) and each vector's code
                      (uint8, half a byte a dimension), in segment files kept like the vectors'
                      and listed under `codes` in the manifest: a load files the codes rather
                      than making them

Columns rather than a JSON object per row, and numbers as arrays rather than JSON: a
million-sentence index loads in a fraction of the time, and its sentences become Python
objects only when a question reads them; the uncompressed archives (`.npz`) are read in
place (`qa.indexing.mapped`), not held in memory. A build of format 6 (every column in the
JSON files, SHA-256 checksums, no aliases.json) still loads.

The vectors are plain arrays rather than FAISS files: the search structures are built
from them in memory (`qa.indexing.memory`), so storing a FAISS index only to read its
vectors back would be a detour. Only what is slow to recompute, the clustering of a large
table, is stored (a few MB at 100k sentences).

Sentence and chunk text is not stored twice: it is `article.text[start:end]`.

The article rows are written and read by `qa.indexing.article_rows`, and every file is written
through `qa.indexing.durable` (fsynced, checksummed as written, replaced atomically).
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import orjson

from qa.errors import IndexCorruptError
from qa.indexing.mapped import MappedArchive, mapped_arrays, release_all
from qa.files import file_checksum, matches_checksum, sha256_file  # noqa: F401 - sha256_file is used from here
from qa.indexing.article_rows import read_articles, write_articles
from qa.indexing.article_table import field
from qa.indexing.columns import (
    narrowest,
    chunk_columns,
    chunk_records,
    columns_json,
    joined_columns,
    split_columns,
    sentence_columns,
    sentence_table,
)
from qa.indexing.durable import HashingFile, fsync_dir, write_array, write_atomic, write_blocks
from qa.indexing.ivf import CoarseLists
from qa.indexing.ivf_codes import code_size, encoded, table_ranges
from qa.indexing.manifest import (  # noqa: F401 - DATA_FILES is used from here
    DATA_FILES,
    data_files,
    segment_files,
    FORMAT_VERSION,
    MANIFEST,
    coarse_files,
    coded_tables,
    manifest_checksum,
    read_manifest,
)
from qa.indexing.rows import StackedRows
from qa.ingest.aliases import Alias, aliases_code, aliases_of
from qa.indexing.segments import ARTICLE_TABLE, CODES_SUFFIX, VECTOR_TABLES, Origin, Written, read_table, write_segments, write_table
from qa.types import Article, Chunk, Sentence


@dataclass(frozen=True)
class StoredIndex:
    """Everything one build holds, as plain records and arrays."""

    manifest: dict[str, Any]
    articles: Sequence[Article]  # a tuple when built, an `ArticleTable` (columns) when loaded
    sentences: Sequence[Sentence]  # a tuple when built, a `SentenceTable` when loaded
    sentence_tokens: Sequence[tuple[str, ...]]  # a tuple when built, a `TokenTable` when loaded
    chunks: Sequence[Chunk]  # a `ChunkTable` (`qa.indexing.tables`)
    chunk_tokens: Sequence[tuple[str, ...]]
    # arrays; after an update in memory, `StackedRows` reading the kept rows where the last build holds them
    chunk_vectors: np.ndarray | StackedRows
    sentence_vectors: np.ndarray | StackedRows
    # the inverted-file clustering of each large vector table (None: searched exactly)
    chunk_lists: CoarseLists | None = None
    sentence_lists: CoarseLists | None = None
    # per vector table, each row's row in the build this one was made from (-1: new); None once saved or loaded
    vector_origins: Mapping[str, np.ndarray] | None = None
    # per article, the acronyms it defines (`qa.ingest.aliases.aliases_of`); None: not known, found on load
    article_aliases: tuple[tuple[Alias, ...], ...] | None = None
    # per article as loaded, the `qa.ingest.corpus.text_key` its row holds (None: none); None when built
    text_keys: Sequence[str | None] | None = None
    mappings: tuple[MappedArchive, ...] = ()  # what a loaded build's columns are read from in place


def write_records(
    folder: Path,
    articles: Sequence[Article],
    sentences: Sequence[Sentence],
    sentence_tokens: Sequence[tuple[str, ...]],
    chunks: Sequence[Chunk],
    chunk_tokens: Sequence[tuple[str, ...]],
) -> dict[str, str]:
    """Write the sentence and chunk columns of a build of `articles` into its folder (made);
    returns each file's checksum, for `save`."""
    article_row = {d: row for row, d in enumerate(field(articles, "doc_id"))}
    # the two tables at once: each mostly waits on the disk (and NumPy and the checksum let go of the GIL)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="qa-save-chunks") as pool:
        chunk_files = pool.submit(lambda: write_columns(folder, "chunks", chunk_columns(chunks, chunk_tokens, article_row)))
        sentence_files = write_columns(folder, "sentences", sentence_columns(sentences, sentence_tokens, article_row))
        return {**sentence_files, **chunk_files.result()}


def save(folder: Path, index: StoredIndex, origin: Origin | None = None, records: dict[str, str] | None = None) -> dict[str, Any]:
    """Write `index` into the new folder `folder`, manifest last, every file fsynced.

    `origin`: the build `index` was made from, whose vector segments are linked rather
    than written again where the rows are the same (`qa.indexing.segments`).
    `records`: the checksums `write_records` returned for these very tables, already written
    into the folder (made then), else they are written here.
    The caller makes the folder visible (see `qa.indexing.catalog`) only after this returns, so a
    crash half-way leaves a stray folder, never a half-written index in use. Returns the manifest
    as written (with counts and checksums).
    """
    if records is None:
        folder.mkdir(parents=True, exist_ok=False)
        records = write_records(folder, index.articles, index.sentences, index.sentence_tokens, index.chunks, index.chunk_tokens)
    dimension = index.manifest["dimension"]
    written_articles = write_articles(folder, index.articles, origin)
    checksums = {
        **{name: checksum for name, (_, checksum) in written_articles.files.items()},
        **records,
        "aliases.json": _write_aliases(folder / "aliases.json", index),
    }
    vectors: dict[str, Any] = {"files": {}}
    for table, table_vectors in zip(VECTOR_TABLES, (index.chunk_vectors, index.sentence_vectors)):
        if table_vectors.shape[1:] != (dimension,) or table_vectors.dtype != np.float32:
            raise ValueError(f"{table} vectors are {table_vectors.dtype} {table_vectors.shape}, not float32 of width {dimension}")
        written = write_table(folder, table, table_vectors, write_array, origin)
        vectors[table] = [list(run) for run in written.runs]
        for name, (count, checksum) in written.files.items():
            vectors["files"][name] = count
            checksums[name] = checksum
    coarse: dict[str, dict[str, int]] = {}
    codes: dict[str, Any] = {"files": {}}
    for table, lists, table_vectors in zip(
        VECTOR_TABLES, (index.chunk_lists, index.sentence_lists), (index.chunk_vectors, index.sentence_vectors)
    ):
        if lists is not None:
            checksums[f"{table}.centroids.npy"] = _write_vectors(folder / f"{table}.centroids.npy", lists.centroids, dimension)
            checksums[f"{table}.groups.npy"] = write_array(folder / f"{table}.groups.npy", lists.groups.astype(np.int64))
            coarse[table] = {"trained_on": int(lists.trained_on)}
            ranges = lists.ranges if lists.ranges is not None else table_ranges(table_vectors)
            checksums[f"{table}.ranges.npy"] = write_array(folder / f"{table}.ranges.npy", np.asarray(ranges, dtype=np.float32))
            written = _write_codes(folder, table, table_vectors, ranges, origin)
            codes[table] = [list(run) for run in written.runs]
            for name, (count, checksum) in written.files.items():
                codes["files"][name] = count
                checksums[name] = checksum
    manifest = dict(index.manifest)
    manifest["format_version"] = FORMAT_VERSION
    manifest["counts"] = {
        "articles": len(index.articles),
        "sentences": len(index.sentences),
        "chunks": len(index.chunks),
    }
    manifest["coarse"] = coarse
    manifest["codes"] = codes
    manifest["vectors"] = vectors
    manifest["article_files"] = {
        "files": {name: count for name, (count, _) in written_articles.files.items()},
        ARTICLE_TABLE: [list(run) for run in written_articles.runs],
    }
    manifest["checksums"] = checksums
    manifest["checksum"] = manifest_checksum(manifest)
    write_atomic(folder / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8"))
    fsync_dir(folder)
    return manifest


def load(folder: Path) -> StoredIndex:
    """Read a build folder back, checking every file against the manifest.

    Raises:
        IndexCorruptError: a file is missing, truncated, altered or inconsistent.
    """
    manifest = read_manifest(folder)
    for name in (*data_files(manifest), *coarse_files(manifest), *segment_files(manifest)):
        path = folder / name
        if not path.is_file():
            raise IndexCorruptError(f"index file {path} is missing")
        if not matches_checksum(path, manifest["checksums"][name]):
            raise IndexCorruptError(f"index file {path} does not match its checksum (damaged)")
    try:
        records = read_records(folder, manifest)
        article_aliases = _read_aliases(folder / "aliases.json", len(records["articles"]))
        chunk_vectors = read_table(folder, manifest["vectors"], "chunks", manifest["dimension"])
        sentence_vectors = read_table(folder, manifest["vectors"], "sentences", manifest["dimension"])
    except (KeyError, TypeError, ValueError, RuntimeError, orjson.JSONDecodeError) as error:
        raise IndexCorruptError(f"index in {folder} is inconsistent: {error}") from error
    if len(chunk_vectors) != len(records["chunks"]) or len(sentence_vectors) != len(records["sentences"]):
        raise IndexCorruptError(f"index in {folder} has vector counts that do not match its records")
    if chunk_vectors.ndim != 2 or chunk_vectors.shape[1] != manifest.get("dimension"):
        raise IndexCorruptError(f"index in {folder} has vectors of the wrong dimension")
    chunk_lists, sentence_lists = (_read_coarse(folder, manifest, table) for table in VECTOR_TABLES)
    return StoredIndex(
        manifest=manifest,
        **records,
        chunk_vectors=chunk_vectors,
        sentence_vectors=sentence_vectors,
        chunk_lists=chunk_lists,
        sentence_lists=sentence_lists,
        article_aliases=article_aliases,
    )


def read_records(folder: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """The build's articles (and text keys), sentences, chunks and tokens by `StoredIndex` field,
    read in place (`mappings`); the pages the checks read are handed back. Raises KeyError,
    TypeError or ValueError where the files do not fit together."""
    held: list[MappedArchive] = []
    articles, text_keys = read_articles(folder, manifest, held)
    sentences, sentence_tokens = sentence_table(read_columns(folder, "sentences", held), articles)
    chunks, chunk_tokens = chunk_records(read_columns(folder, "chunks", held), articles)
    release_all(held)
    return {"articles": articles, "text_keys": text_keys, "sentences": sentences, "sentence_tokens": sentence_tokens,
            "chunks": chunks, "chunk_tokens": chunk_tokens, "mappings": tuple(held)}


def _write_aliases(path: Path, index: StoredIndex) -> str:
    """aliases.json: the acronyms each article defines, and a hash of the code that found them."""
    found = index.article_aliases
    if found is None:
        found = tuple(aliases_of(a.text) for a in index.articles)
    with HashingFile(path) as handle:
        handle.write(orjson.dumps({"code": aliases_code(), "articles": found}))
    return handle.hexdigest()


def _read_aliases(path: Path, articles: int) -> tuple[tuple[Alias, ...], ...] | None:
    """The stored aliases per article; None where there are none (a build written before
    2026-12-06) or other code found them: they are found again then.

    Raises:
        ValueError, orjson.JSONDecodeError: the file does not hold aliases of that many articles.
    """
    if not path.exists():
        return None
    stored = orjson.loads(path.read_bytes())
    if not isinstance(stored, dict) or not isinstance(stored.get("articles"), list) or len(stored["articles"]) != articles:
        raise ValueError("aliases.json does not hold the aliases of every article")
    if stored.get("code") != aliases_code():
        return None
    found: list[tuple[Alias, ...]] = []
    for own in stored["articles"]:
        if own == []:  # most articles (a dump's million short rows: 0.8 s checked one by one)
            found.append(())
            continue
        if not isinstance(own, list) or not all(_is_alias(pair) for pair in own):
            raise ValueError("aliases.json holds something other than pairs of word lists")
        found.append(tuple((tuple(acronym), tuple(name)) for acronym, name in own))
    return tuple(found)


def _is_alias(pair: Any) -> bool:
    return isinstance(pair, list) and len(pair) == 2 and all(
        isinstance(key, list) and all(isinstance(word, str) for word in key) for key in pair
    )


def _write_codes(folder: Path, table: str, vectors: Any, ranges: np.ndarray, origin: Origin | None) -> Written:
    """The file codes of a clustered table's vectors under `ranges`, in segment files kept like
    the vectors' (an update links the codes of the build it came from where those were made
    under the same ranges, and codes only its new rows)."""
    width = code_size(int(vectors.shape[1]))

    def write(path: Path, rows: np.ndarray | None) -> str:
        chosen = vectors if rows is None else vectors[rows]
        return write_blocks(path, (len(chosen), width), np.uint8, encoded(chosen, ranges))

    if origin is not None and not _same_ranges(origin, table, ranges):
        origin = None
    return write_segments(folder, table, len(vectors), write, origin, "codes", CODES_SUFFIX)


def _same_ranges(origin: Origin, table: str, ranges: np.ndarray) -> bool:
    if table not in coded_tables(origin.manifest):
        return False
    try:
        return bool(np.array_equal(np.load(origin.folder / f"{table}.ranges.npy", allow_pickle=False), ranges))
    except (OSError, ValueError):  # gone meanwhile: coded afresh
        return False


def _read_coarse(folder: Path, manifest: dict[str, Any], table: str) -> CoarseLists | None:
    """A table's stored clustering (checksums already checked), or None if it has none; with
    its code ranges and its codes (memory-mapped) where the build holds them."""
    record = manifest.get("coarse", {}).get(table)
    if record is None:
        return None
    try:
        ranges = codes = None
        if table in coded_tables(manifest):
            ranges = np.load(folder / f"{table}.ranges.npy", allow_pickle=False)
            codes = read_table(folder, manifest["codes"], table, code_size(manifest["dimension"]), np.uint8)
        lists = CoarseLists(
            np.load(folder / f"{table}.centroids.npy", allow_pickle=False),
            np.load(folder / f"{table}.groups.npy", allow_pickle=False).astype(np.int64, copy=False),
            record["trained_on"],
            ranges,
            codes,
        )
    except (OSError, ValueError, KeyError) as error:
        raise IndexCorruptError(f"index in {folder} has unreadable {table} clustering: {error}") from error
    problem = lists.problem(manifest["counts"][table], manifest["dimension"])
    if problem:
        raise IndexCorruptError(f"index in {folder} has {table} clustering with {problem}")
    return lists


def write_columns(folder: Path, table: str, columns: Mapping[str, Any]) -> dict[str, str]:
    """A table's columns as `{table}.json` (its text columns) and `{table}.npz` (its number
    columns, uncompressed NumPy arrays); returns each file's checksum."""
    text, numbers = split_columns(columns)
    # offsets and rows as int32 where they fit (a million sentences: 33 MB less to write); read back as int64
    numbers = {name: narrowest(array) if array.dtype.kind == "i" else array for name, array in numbers.items()}
    with HashingFile(folder / f"{table}.json") as handle:
        handle.write(columns_json(text))
    path = folder / f"{table}.npz"
    with open(path, "wb") as out:
        np.savez(out, **numbers)  # type: ignore[arg-type] # names are column paths, never NumPy's own keywords
        out.flush()
        os.fsync(out.fileno())
    return {f"{table}.json": handle.hexdigest(), path.name: file_checksum(path)}


def read_columns(folder: Path, table: str, held: list[MappedArchive] | None = None) -> dict[str, Any]:
    """The columns `write_columns` wrote (checksums checked), numbers read in place (the archive
    appended to `held`); a build written before 2026-12-06 holds them all in `{table}.json`.

    Raises:
        ValueError, orjson.JSONDecodeError: the files do not hold columns.
    """
    text = orjson.loads((folder / f"{table}.json").read_bytes())
    path = folder / f"{table}.npz"
    if not path.exists():
        return text
    if not isinstance(text, dict):
        raise ValueError(f"{table}.json does not hold a table of columns")
    return joined_columns(text, mapped_arrays(path, held))


def _write_vectors(path: Path, vectors: np.ndarray, dimension: int) -> str:
    return write_array(path, np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, dimension))


