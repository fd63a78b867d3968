"""Turn articles into a `StoredIndex`: sentences, chunks, tokens, entities and vectors.

Vectors and entities of sentences and chunks whose content id is already in the previous
build are reused, so adding one article never re-embeds the others.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from qa.ingest.annotate import annotate
from qa.ingest.chunker import chunk_sentences, sentences_of
from qa.config import Settings
from qa.indexing.embedder import Embedder
from qa.indexing.store import StoredIndex
from qa.text import content_tokens
from qa.types import Article, Chunk, Sentence

Progress = Callable[[str, int, int], None]
_PACKAGE = Path(__file__).resolve().parent.parent
_EMBED_BATCH = 256
# The code that decides sentences, chunks, tokens and entities: when it changes, indexes
# built by the old code are rebuilt (vectors of unchanged text are still reused).
# Upload handling (`qa.ingest.uploads`) is deliberately not listed: it never changes what an index holds.
_PIPELINE_MODULES = (
    "ingest/sentences.py", "ingest/debris.py", "ingest/chunker.py", "ingest/annotate.py", "ingest/rules.py",
    "ingest/corpus.py", "text.py", "indexing/build.py",
)


@lru_cache(maxsize=1)
def pipeline_fingerprint() -> str:
    """A hash of the text-processing code, recorded in every manifest."""
    digest = hashlib.sha1()
    for name in _PIPELINE_MODULES:
        digest.update((_PACKAGE / name).read_bytes())
    return digest.hexdigest()[:16]


def build(
    articles: list[Article],
    settings: Settings,
    embedder: Embedder,
    files: dict[str, dict[str, object]],
    previous: StoredIndex | None = None,
    progress: Progress | None = None,
) -> StoredIndex:
    """Build every part of an index in memory.

    Args:
        articles: the corpus, as from `qa.ingest.corpus.load_corpus`.
        settings: chunk sizes, annotator and model name to build with.
        embedder: turns texts into unit vectors.
        files: per source file (relative path): doc_id, sha256, size, mtime_ns.
        previous: an earlier build with the same model and annotator, to reuse from.
        progress: called as progress(stage, done, total).

    Returns:
        The new index, not yet saved.
    """
    report = progress or (lambda stage, done, total: None)
    started = time.perf_counter()
    reusable = _reusable(previous, settings)
    sentences: list[Sentence] = []
    chunks: list[Chunk] = []
    for done, article in enumerate(articles):
        report("reading articles", done, len(articles))
        own = sentences_of(article)
        if not all(s.id in reusable.entities for s in own):
            own = annotate(article, own, settings.annotator)
        else:
            own = [replace(s, entities=reusable.entities[s.id]) for s in own]
        sentences.extend(own)
        chunks.extend(chunk_sentences(article, own, settings.chunk_sentences, settings.chunk_overlap))
        report("reading articles", done + 1, len(articles))
    sentence_vectors = _vectors(sentences, reusable.sentence_vectors, embedder, "embedding sentences", report)
    chunk_vectors = _vectors(chunks, reusable.chunk_vectors, embedder, "embedding chunks", report)
    manifest = {
        "model": settings.model,
        "dimension": int(embedder.dimension),
        "settings": settings.index_shape(),
        "pipeline": pipeline_fingerprint(),
        "files": files,
        "build_seconds": round(time.perf_counter() - started, 3),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    return StoredIndex(
        manifest=manifest,
        articles=tuple(articles),
        sentences=tuple(sentences),
        sentence_tokens=tuple(tuple(content_tokens(s.text)) for s in sentences),
        chunks=tuple(chunks),
        chunk_tokens=tuple(tuple(content_tokens(c.text)) for c in chunks),
        chunk_vectors=chunk_vectors,
        sentence_vectors=sentence_vectors,
    )


class _Reusable:
    def __init__(self) -> None:
        self.entities: dict[str, tuple] = {}
        self.sentence_vectors: dict[str, np.ndarray] = {}
        self.chunk_vectors: dict[str, np.ndarray] = {}


def _reusable(previous: StoredIndex | None, settings: Settings) -> _Reusable:
    reusable = _Reusable()
    if previous is None or previous.manifest.get("model") != settings.model:
        return reusable
    same_code = previous.manifest.get("pipeline") == pipeline_fingerprint()
    if same_code and previous.manifest.get("settings", {}).get("annotator") == settings.annotator:
        reusable.entities = {s.id: s.entities for s in previous.sentences}
    reusable.sentence_vectors = dict(zip((s.id for s in previous.sentences), previous.sentence_vectors))
    reusable.chunk_vectors = dict(zip((c.id for c in previous.chunks), previous.chunk_vectors))
    return reusable


def _vectors(
    records: list[Sentence] | list[Chunk],
    known: dict[str, np.ndarray],
    embedder: Embedder,
    stage: str,
    report: Progress,
) -> np.ndarray:
    out = np.zeros((len(records), embedder.dimension), dtype=np.float32)
    missing = [i for i, r in enumerate(records) if r.id not in known]
    for i, record in enumerate(records):
        if record.id in known:
            out[i] = known[record.id]
    for offset in range(0, len(missing), _EMBED_BATCH):
        batch = missing[offset : offset + _EMBED_BATCH]
        out[batch] = embedder.encode([records[i].text for i in batch])
        report(stage, offset + len(batch), len(missing))
    return out
