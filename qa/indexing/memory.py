"""The in-memory records of one stored build, with the data its searchers read.

`SearchIndex` holds the articles, sentences and chunks (with their tokens and vectors)
and the lookups the answer stages make on them. For each table (chunks, sentences) it
also holds a `SearchTable`: BM25 postings (`qa.indexing.postings`) and a vector index
(`qa.indexing.nearest`), built when the index is loaded or built, off the question path,
and carried over by an update. It does not search: the searchers of `qa.retrieve`
read these tables, and a sharded index puts its shards' tables here instead
(`qa.distributed.serving`).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from qa.ingest.aliases import answer_key, find_aliases, merged_aliases
from qa.indexing.articles_by_id import ArticlesById
from qa.indexing.mapped import release_all
from qa.indexing.rows import release_pages
from qa.indexing.nearest import VectorIndex, dense_index, described
from qa.indexing.postings import Postings, TermScores
from qa.indexing.store import StoredIndex
from qa.indexing.build import annotation_fingerprint, pipeline_fingerprint
from qa.indexing.demand import attach
from qa.indexing.tables import ChunkTable, SentenceTable, article_rows_in, doc_ids_of, positions_of
from qa.indexing.views import RecentViews
from qa.text import content_tokens
from qa.types import ArticleFilter, Chunk, Sentence

TABLES = ("chunks", "sentences")


@dataclass(frozen=True)
class SearchTable:
    """What a searcher reads of one table: its BM25 postings, its vector index, its vectors
    (row order), and which rows a filtered view may return (None: all)."""

    postings: TermScores
    vectors_index: VectorIndex
    vectors: Any  # (rows, dimension) float32 unit vectors: an array, or `StackedRows` of runs
    keep: np.ndarray | None = None


class SearchIndex:
    """The records of one build and the search data over them; safe to share between threads."""

    def __init__(
        self,
        stored: StoredIndex,
        previous: SearchIndex | None = None,
        tables: Mapping[str, SearchTable] | None = None,
        parse_cache: Path | None = None,
    ) -> None:
        """Hold `stored` and build its search data.

        Args:
            stored: the build.
            previous: the index of the build `stored` was updated from (its
                `vector_origins` say which rows it kept), whose inverted files are carried
                over (`qa.indexing.nearest.dense_index`).
            tables: search data made elsewhere ("chunks" and "sentences"), such as a sharded
                index's; none is built then, and idf comes from its sentence postings' counts.
            parse_cache: where the entities of sentences no build parsed are kept once read
                (`qa.indexing.demand`; None: in memory).
        """
        if tables is None:
            tables, stored = _local_tables(stored, previous)
        self.tables: Mapping[str, SearchTable] = tables
        self.dense_search = described(tables["sentences"].vectors_index)
        self.stored = stored
        self.manifest: dict[str, Any] = stored.manifest
        # doc id -> article (made when read from a loaded build's columns); a view keeps some
        self.articles: ArticlesById = ArticlesById(stored.articles)
        self._all_articles = self.articles
        self.chunks: Sequence[Chunk] = stored.chunks  # a `ChunkTable`: a record is made when read
        self.sentences: tuple[Sentence, ...] = stored.sentences
        if isinstance(stored.sentences, SentenceTable):
            annotator = str(stored.manifest.get("settings", {}).get("annotator", "spacy"))
            attach(stored.sentences, annotator, parse_cache, annotation_fingerprint(), pipeline_fingerprint())
        self.sentence_tokens = stored.sentence_tokens
        self.chunk_tokens = stored.chunk_tokens
        self.sentence_vectors = stored.sentence_vectors
        self._chunk_vectors = stored.chunk_vectors
        if stored.article_aliases is not None:
            self.aliases = merged_aliases(stored.article_aliases)
        else:
            self.aliases = find_aliases(a.text for a in stored.articles)
        self._answer_words: dict[int, tuple[str, ...]] = {}
        # per article of the build, made on first use and shared with every view: "days"
        # (`published_mask`), and each table's article codes ("chunks", "sentences": `within_articles`)
        self._by_article: dict[str, np.ndarray] = {}
        # the row masks of recent views, and the vectors searches read for them (`qa.indexing.views`)
        self.recent_views = RecentViews()
        keys = _position_keys(
            self._codes_of(stored.sentences, -1),
            np.asarray(positions_of(stored.sentences), dtype=np.int64),
        )
        self._key_order = np.argsort(keys, kind="stable")
        self._sorted_keys = keys[self._key_order]  # searched per lookup (an array: a list of ints was 40 B a sentence)
        self._holder_starts, self._holder_chunks = self._chunks_of_sentences()
        sentence_counts = tables["sentences"].postings.counts()
        total = len(stored.sentences) + 1
        frequencies = zip(sentence_counts.words, sentence_counts.document_frequency)
        self._idf = {t: math.log(total / (df + 0.5)) for t, df in frequencies}
        self._idf_unseen = math.log(total / 0.5)

    def _chunks_of_sentences(self) -> tuple[np.ndarray, np.ndarray]:
        """Which chunks hold each sentence, as (starts, chunks): sentence i is in chunks
        `chunks[starts[i]:starts[i + 1]]`, in chunk order. Computed with NumPy, as a
        100k-sentence index has too many pairs for a Python loop on every update."""
        sentences, chunks = len(self.sentences), self.chunks
        if isinstance(chunks, ChunkTable):
            first = np.asarray(chunks.columns["first_sentence"], dtype=np.int64)
            last = np.asarray(chunks.columns["last_sentence"], dtype=np.int64)
        else:
            first = np.fromiter((c.first_sentence for c in chunks), np.int64, len(chunks))
            last = np.fromiter((c.last_sentence for c in chunks), np.int64, len(chunks))
        lengths = np.maximum(last - first + 1, 0)
        holder = np.repeat(np.arange(len(chunks), dtype=np.int64), lengths)
        step = np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        chunk_articles = self._codes_of(chunks, -2)
        wanted = _position_keys(np.repeat(chunk_articles, lengths), np.repeat(first, lengths) + step)
        sorted_keys = self._sorted_keys
        at = np.minimum(np.searchsorted(sorted_keys, wanted), max(sentences - 1, 0))
        found = sorted_keys[at] == wanted if sentences else np.zeros(len(wanted), dtype=bool)
        rows, holder = self._key_order[at[found]], holder[found]
        by_row = np.argsort(rows, kind="stable")  # chunk order kept within a sentence
        starts = np.zeros(sentences + 1, dtype=np.int64)
        starts[1:] = np.cumsum(np.bincount(rows, minlength=sentences))
        return starts, holder[by_row]

    def _codes_of(self, rows: Sequence[Any], unknown: int) -> np.ndarray:
        """Each row's article code (its place in the build's articles; `unknown` for a row of
        none): a table over those very articles has them as its article rows already."""
        codes = article_rows_in(rows, self.stored.articles)
        if codes is not None:
            return codes.astype(np.int64)
        code = self._all_articles.code
        return np.fromiter((_or(code(d), unknown) for d in doc_ids_of(rows)), np.int64, len(rows))

    def saved_as(self, manifest: dict[str, Any]) -> SearchIndex:
        """This index with the manifest its build was saved under (counts and checksums
        added); called once, before the index is shared."""
        self.stored = replace(self.stored, manifest=manifest, vector_origins=None)
        self.manifest = manifest
        return self

    def within(self, doc_ids: set[str]) -> "SearchIndex":
        """A view of this index that finds only the articles in `doc_ids` (for filtered questions);
        see `within_articles`."""
        return self.within_articles(self.articles.mask_of(doc_ids))

    def within_articles(self, keep: np.ndarray) -> "SearchIndex":
        """A view of this index that finds only the articles `keep` marks (a bool per article
        of the build, as `published_mask` gives) and this view holds.

        Cheap: it shares every structure with this index; its tables say which rows it
        keeps, and searches mask the rest. Word statistics (idf) stay those of the whole corpus.
        """
        view = copy.copy(self)
        view.articles = self.articles.within_mask(keep)
        kept = view.articles.mask()
        view.tables = {name: replace(table, keep=self._rows_kept(name, kept)) for name, table in self.tables.items()}
        return view

    def _rows_kept(self, table: str, kept: np.ndarray) -> np.ndarray:
        """Which rows of `table` ("chunks" or "sentences") belong to an article `kept` marks
        (read-only; the same mask as a recent view's for the same articles)."""
        return self.recent_views.rows_kept(table, kept, lambda: self._rows_of(table, kept))

    def _rows_of(self, table: str, kept: np.ndarray) -> np.ndarray:
        codes = self._by_article.get(table)
        if codes is None:
            rows = self.chunks if table == "chunks" else self.sentences
            codes = article_rows_in(rows, self.stored.articles)  # the table's own array, where it has one
            codes = self._by_article[table] = self._codes_of(rows, -1) if codes is None else codes
        return np.where(codes >= 0, kept[codes], False) if len(codes) else np.zeros(0, dtype=bool)

    def published_mask(self, first: date | None, last: date | None, undated: bool = False) -> np.ndarray:
        """This view's articles published from `first` to `last`, inclusive (None: no bound),
        and those with no known date when `undated`, as a bool per article of the build. Each
        question asks this (as of its day, in its time window): the days are read once."""
        days = self._by_article.get("days")
        if days is None:
            days = self._by_article["days"] = self._all_articles.all_days()
        dated = days >= 0
        kept = dated.copy()
        if first is not None:
            kept &= days >= first.toordinal()
        if last is not None:
            kept &= days <= last.toordinal()
        if undated:
            kept |= ~dated
        return kept & self.articles.mask()

    def admitted_by(self, scope: ArticleFilter) -> np.ndarray:
        """This view's articles inside `scope` (its dates and outlets), as a bool per article of the build."""
        if scope.published_from is not None or scope.published_to is not None:
            kept = self.published_mask(scope.published_from, scope.published_to)
        else:
            kept = self.articles.mask()
        if scope.outlets:
            kept &= self.articles.outlets_mask(scope.outlets)
        return kept

    def doc_ids_of(self, kept: np.ndarray) -> set[str]:
        """The doc ids of the articles a mask over the build's articles marks."""
        ids = self._all_articles.ids
        return {ids[i] for i in np.flatnonzero(kept).tolist()}

    def hand_back_pages(self) -> None:
        """Unmap the pages of the memory-mapped vector tables that searches have read, and of
        the record columns read in place (`qa.indexing.mapped`): they stay in the page cache
        and are mapped again on the next read. Called after each question: the kernel maps
        64 KB around every row read, so at a million sentences a hundred questions left 1 GB
        of the tables resident in the process (0.006 ms a call)."""
        release_pages(self.sentence_vectors)
        release_pages(self._chunk_vectors)
        release_all(self.stored.mappings)

    def idf(self, token: str) -> float:
        """Smoothed inverse sentence frequency; an unseen token is as rare as can be."""
        return self._idf.get(token, self._idf_unseen)

    def answer_words(self, sentence_index: int) -> tuple[str, ...]:
        """The sentence's words as `qa.ingest.aliases.answer_key` sees them (memoised)."""
        words = self._answer_words.get(sentence_index)
        if words is None:
            words = self._answer_words[sentence_index] = answer_key(self.sentences[sentence_index].text)
        return words

    def knows(self, token: str) -> bool:
        """Whether any sentence of the corpus has the token."""
        return token in self._idf

    def chunks_of_sentence(self, sentence_index: int) -> list[int]:
        """Indices of the chunks that contain a sentence."""
        return self._holder_chunks[self._holder_starts[sentence_index] : self._holder_starts[sentence_index + 1]].tolist()

    def chunk_similarity(self, chunk_index: int, vector: np.ndarray) -> float:
        """Cosine similarity of one chunk to a unit query vector."""
        return float(self._chunk_vectors[chunk_index] @ vector)

    def sentence_index(self, doc_id: str, position: int) -> int | None:
        """Global index of the sentence at `position` of `doc_id`, if any."""
        code = self._all_articles.code(doc_id)
        if code is None or position < 0:
            return None
        key = int(_position_keys(code, position))
        at = int(np.searchsorted(self._sorted_keys, key))
        if at < len(self._sorted_keys) and int(self._sorted_keys[at]) == key:
            return int(self._key_order[at])
        return None

    def tokens_around(self, s: int, *, after: bool) -> set[str]:
        """The content tokens a reader sees on reaching sentence `s`: its own, the sentence
        before's (and, with `after`, the sentence after's) and its article's headline's."""
        sentence = self.sentences[s]
        tokens = set(self.sentence_tokens[s]) | set(_title_tokens(self.articles[sentence.doc_id].title))
        for offset in (-1, 1) if after else (-1,):
            other = self.sentence_index(sentence.doc_id, sentence.position + offset)
            if other is not None:
                tokens.update(self.sentence_tokens[other])
        return tokens

    def chunk_sentences(self, chunk_index: int) -> list[int]:
        """Global indices of the sentences of a chunk."""
        chunk = self.chunks[chunk_index]
        found = (self.sentence_index(chunk.doc_id, p) for p in range(chunk.first_sentence, chunk.last_sentence + 1))
        return [i for i in found if i is not None]


def _or(code: int | None, unknown: int) -> int:
    return unknown if code is None else code


def _position_keys(articles: Any, positions: Any) -> Any:
    """One sortable integer per (article code, sentence position)."""
    return articles * (1 << 32) + positions


def _local_tables(stored: StoredIndex, previous: SearchIndex | None) -> tuple[dict[str, SearchTable], StoredIndex]:
    """The search data of a build held in this process, and the build with its vectors read
    from inside the exact indexes (so they are held once)."""
    kept = dict(stored.vector_origins or {}) if previous is not None else {}
    chunk_index, chunk_vectors = dense_index(
        stored.chunk_vectors, stored.chunk_lists, _vectors_index(previous, "chunks"), kept.get("chunks")
    )
    sentence_index, sentence_vectors = dense_index(
        stored.sentence_vectors, stored.sentence_lists, _vectors_index(previous, "sentences"), kept.get("sentences")
    )
    stored = replace(stored, chunk_vectors=chunk_vectors, sentence_vectors=sentence_vectors)
    tables = {
        "chunks": SearchTable(Postings(stored.chunk_tokens), chunk_index, chunk_vectors),
        "sentences": SearchTable(Postings(stored.sentence_tokens), sentence_index, sentence_vectors),
    }
    return tables, stored


def _vectors_index(index: SearchIndex | None, table: str) -> VectorIndex | None:
    return index.tables[table].vectors_index if index is not None else None


@lru_cache(maxsize=4096)
def _title_tokens(title: str) -> tuple[str, ...]:
    return tuple(content_tokens(title))
