"""What a build takes over from the build before it (`qa.indexing.build`): articles whose
content is unchanged, whole (records, tokens, vectors, rows); the entities and vectors of the
unchanged sentences of changed articles, found by id; and each article's acronyms.

An update of a large archive keeps almost everything, so nothing here goes over the previous
build row by row in Python: whole articles keep their rows by article, and only the sentences
of changed articles are looked up by id.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import numpy as np

from qa.config import Settings
from qa.indexing.article_match import rows_before, same_texts
from qa.indexing.article_table import field
from qa.indexing.joining import cutter
from qa.indexing.parts import Parts
from qa.indexing.rows import StackedRows
from qa.indexing.store import StoredIndex
from qa.indexing.tables import SentenceTable, article_starts, entities_by_id, ids_of, rows_in
from qa.ingest.aliases import Alias, aliases_of
from qa.types import Article


class Reusable:
    """What a build may take over from the previous one: whole unchanged articles, and the
    entities and vectors of unchanged sentences of changed articles."""

    def __init__(self, previous: StoredIndex | None = None) -> None:
        self.previous = previous
        self.entities: Mapping[str, tuple] = {}
        self.same_vectors = False  # the previous build's vectors are of this model and runtime
        self.vector_row: dict[str, int] = {}  # sentence id -> its row in `vectors` (changed articles only)
        self.vectors: np.ndarray = np.zeros((0, 0), dtype=np.float32)
        self.articles: dict[str, Parts] = {}
        # per table ("sentences", "chunks"): doc id -> the row of the article's first record in the previous build
        self.first_row: dict[str, dict[str, int]] = {"sentences": {}, "chunks": {}}

    def parts_of(self, article: Article) -> Parts | None:
        """The previous build's records of `article`, if its content is unchanged."""
        own = self.articles.get(article.doc_id)
        return own if own is not None and own.sha256 == article.sha256 else None

    def changed(self, doc_ids: Iterable[str], hashes: Iterable[str]) -> set[str]:
        """Of the articles given by doc id and sha256, those not taken over whole."""
        if not self.articles:
            return set(doc_ids)
        got = self.articles.get
        return {d for d, sha256 in zip(doc_ids, hashes) if (own := got(d)) is None or own.sha256 != sha256}

    def find_changed(self, doc_ids: set[str]) -> None:
        """Make `vector_row` hold the previous rows of the sentences of the articles `doc_ids`
        (those not taken over whole). A sentence's id hashes its article's doc_id
        (`qa.ingest.chunker.content_id`), so no other previous sentence can match one of
        theirs: a million ids are not hashed into a dict for an update that adds one article."""
        if not self.same_vectors or self.previous is None or not doc_ids:
            self.vector_row = {}
            return
        ids = ids_of(self.previous.sentences)
        rows = np.flatnonzero(rows_in(self.previous.sentences, doc_ids)).tolist()
        self.vector_row = {ids[row]: row for row in rows}

    def kept_rows(self, table: str, articles: Sequence[Article], parts: list[Parts]) -> np.ndarray:
        """Per row of the new build's `table` ("sentences" or "chunks"), its row in the previous
        build where it is taken over, else -1: an article taken over whole keeps its rows; the
        sentences of the others are found by id (`find_changed`), their chunks pooled anew."""
        first = self.first_row[table]
        blocks = []
        new = 0  # rows of fresh articles since the last block: one block of -1 for a run of them
        for doc_id, own in zip(field(articles, "doc_id"), parts):
            records = own.sentences if table == "sentences" else own.chunks
            start = first.get(doc_id) if own is self.articles.get(doc_id) else None
            if start is None and not (table == "sentences" and self.vector_row):
                new += len(records)
                continue
            if new:
                blocks.append(np.full(new, -1, dtype=np.int64))
                new = 0
            if start is not None:
                blocks.append(np.arange(start, start + len(records), dtype=np.int64))
            else:
                ids = ids_of(records)
                blocks.append(np.fromiter((self.vector_row.get(sid, -1) for sid in ids), np.int64, len(ids)))
        if new:
            blocks.append(np.full(new, -1, dtype=np.int64))
        return np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.int64)


def reusable_from(previous: StoredIndex | None, settings: Settings, pipeline: str) -> Reusable:
    """What a build with `settings` by the text-processing code `pipeline` (its fingerprint)
    may take over from `previous`: vectors if the model and runtime are the same; entities if
    the code and annotator are too; whole articles if every setting that shapes an index is."""
    reusable = Reusable(previous)
    same_vectors = previous is not None and previous.manifest.get("model") == settings.model and (
        previous.manifest.get("settings", {}).get("embedding_runtime", "torch") == settings.index_shape()["embedding_runtime"]
    )
    if previous is None or not same_vectors:
        return reusable
    same_code = previous.manifest.get("pipeline") == pipeline
    if same_code and previous.manifest.get("settings", {}).get("annotator") == settings.annotator:
        reusable.entities = entities_by_id(previous.sentences)
        if previous.manifest.get("settings") == settings.index_shape():
            # a build that parses takes over whole only the articles parsed through
            reusable.articles, reusable.first_row = previous_parts(previous, parsed_only=settings.parse == "build")
    reusable.same_vectors = True
    reusable.vectors = previous.sentence_vectors
    return reusable


def previous_parts(
    previous: StoredIndex, parsed_only: bool = False
) -> tuple[dict[str, Parts], dict[str, dict[str, int]]]:
    """The previous build cut back into per-article records (rows are contiguous per article),
    and per table the row of each article's first record; with `parsed_only`, only the
    articles whose every sentence was parsed."""
    table = previous.sentences
    parsed = table.parsed if isinstance(table, SentenceTable) else None
    out: dict[str, Parts] = {}
    first_row: dict[str, dict[str, int]] = {"sentences": {}, "chunks": {}}
    sentence_starts = article_starts(previous.sentences, previous.articles)
    chunk_starts = article_starts(previous.chunks, previous.articles)
    chunk_vectors = StackedRows([previous.chunk_vectors], int(previous.chunk_vectors.shape[1]))  # sliced, not copied
    # each table's cutter chosen once: an update cuts them per article (100k to a million)
    sentences, sentence_tokens, chunks, chunk_tokens = (
        cutter(previous.sentences), cutter(previous.sentence_tokens), cutter(previous.chunks), cutter(previous.chunk_tokens)
    )
    for a, (doc_id, sha256) in enumerate(zip(field(previous.articles, "doc_id"), field(previous.articles, "sha256"))):
        s_row, s_end = sentence_starts[a], sentence_starts[a + 1]
        c_row, c_end = chunk_starts[a], chunk_starts[a + 1]
        if parsed_only and parsed is not None and not parsed[s_row:s_end].all():
            continue
        out[doc_id] = Parts(
            sha256, sentences(s_row, s_end), sentence_tokens(s_row, s_end), chunks(c_row, c_end),
            chunk_tokens(c_row, c_end), chunk_vectors[c_row:c_end],
        )
        first_row["sentences"][doc_id] = s_row
        first_row["chunks"][doc_id] = c_row
    return out, first_row


def article_aliases(articles: Sequence[Article], previous: StoredIndex | None) -> tuple[tuple[Alias, ...], ...]:
    """The acronyms each article defines, taken from the previous build where its text is the
    same (compared as stored bytes, `qa.indexing.article_match`: no text is decoded but the
    new ones)."""
    if previous is None or previous.article_aliases is None:
        return tuple(aliases_of(text) for text in field(articles, "text"))
    rows = rows_before(previous.articles, articles)
    same = same_texts(previous.articles, rows, articles).tolist()
    before, texts = previous.article_aliases, field(articles, "text")
    return tuple(before[row] if kept else aliases_of(texts[i]) for i, (row, kept) in enumerate(zip(rows.tolist(), same)))


class Either(Mapping):
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
