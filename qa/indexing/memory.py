"""The in-memory, read-only search structures over one stored build."""

from __future__ import annotations

import bisect
import copy
import math
from dataclasses import dataclass, replace
from typing import Any, Sequence

import faiss
import numpy as np

from qa.ingest.aliases import answer_key, find_aliases
from qa.indexing import ivf
from qa.indexing.ivf import CoarseLists
from qa.indexing.store import StoredIndex
from qa.indexing.tables import TokenTable, doc_ids_of, positions_of
from qa.types import Article, Chunk, Sentence


class SearchIndex:
    """BM25 and FAISS over the chunks and sentences of one build; safe to share between threads."""

    def __init__(self, stored: StoredIndex, previous: SearchIndex | None = None) -> None:
        """`previous`: the index of the build `stored` was updated from (its `vector_origins`
        say which rows it kept), whose inverted files are carried over (`dense_index`)."""
        kept = dict(stored.vector_origins or {}) if previous is not None else {}
        before = {"chunks": previous._chunk_faiss, "sentences": previous._sentence_faiss} if previous else {}
        # Exact search holds the vectors once, inside FAISS; the records see them through views.
        self._chunk_faiss, chunk_vectors = dense_index(
            stored.chunk_vectors, stored.chunk_lists, before.get("chunks"), kept.get("chunks")
        )
        self._sentence_faiss, sentence_vectors = dense_index(
            stored.sentence_vectors, stored.sentence_lists, before.get("sentences"), kept.get("sentences")
        )
        self.dense_search = "inverted file" if isinstance(self._sentence_faiss, ivf.IvfSearch) else "exact"
        stored = replace(stored, chunk_vectors=chunk_vectors, sentence_vectors=sentence_vectors)
        self._chunk_bm25 = Postings(stored.chunk_tokens)
        self._sentence_bm25 = Postings(stored.sentence_tokens)
        self._hold_records(stored, self._sentence_bm25.counts())

    def _hold_records(self, stored: StoredIndex, sentence_counts: "TokenCounts") -> None:
        """The records and corpus-wide lookups every index has, however its search is done.

        `qa.distributed.serving.ShardedIndex` holds the records of all shards here while
        its search structures live in the shards.
        """
        self.stored = stored
        self.manifest: dict[str, Any] = stored.manifest
        self.articles: dict[str, Article] = {a.doc_id: a for a in stored.articles}
        self.chunks: tuple[Chunk, ...] = stored.chunks
        self.sentences: tuple[Sentence, ...] = stored.sentences
        self.sentence_tokens = stored.sentence_tokens
        self.chunk_tokens = stored.chunk_tokens
        self.sentence_vectors = stored.sentence_vectors
        self._chunk_vectors = stored.chunk_vectors
        self.aliases = find_aliases(a.text for a in stored.articles)
        self._answer_words: dict[int, tuple[str, ...]] = {}
        self._article_code = {a.doc_id: code for code, a in enumerate(stored.articles)}
        keys = _position_keys(
            np.fromiter((self._article_code.get(d, -1) for d in doc_ids_of(stored.sentences)), np.int64, len(self.sentences)),
            np.asarray(positions_of(stored.sentences), dtype=np.int64),
        )
        self._key_order = np.argsort(keys, kind="stable")
        self._sorted_keys: list[int] = keys[self._key_order].tolist()  # bisected per lookup
        self._holder_starts, self._holder_chunks = self._chunks_of_sentences()
        total = len(stored.sentences) + 1
        frequencies = zip(sentence_counts.words, sentence_counts.document_frequency)
        self._idf = {t: math.log(total / (df + 0.5)) for t, df in frequencies}
        self._idf_unseen = math.log(total / 0.5)
        # Set on a view made by `within`: which chunks and sentences the view may return.
        self._chunk_keep: np.ndarray | None = None
        self._sentence_keep: np.ndarray | None = None

    def _chunks_of_sentences(self) -> tuple[np.ndarray, np.ndarray]:
        """Which chunks hold each sentence, as (starts, chunks): sentence i is in chunks
        `chunks[starts[i]:starts[i + 1]]`, in chunk order. Computed with NumPy, as a
        100k-sentence index has too many pairs for a Python loop on every update."""
        sentences, chunks = len(self.sentences), self.chunks
        first = np.fromiter((c.first_sentence for c in chunks), np.int64, len(chunks))
        lengths = np.maximum(np.fromiter((c.last_sentence for c in chunks), np.int64, len(chunks)) - first + 1, 0)
        holder = np.repeat(np.arange(len(chunks), dtype=np.int64), lengths)
        step = np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        chunk_articles = np.fromiter((self._article_code.get(c.doc_id, -2) for c in chunks), np.int64, len(chunks))
        wanted = _position_keys(np.repeat(chunk_articles, lengths), np.repeat(first, lengths) + step)
        sorted_keys = np.asarray(self._sorted_keys, dtype=np.int64)
        at = np.minimum(np.searchsorted(sorted_keys, wanted), max(sentences - 1, 0))
        found = sorted_keys[at] == wanted if sentences else np.zeros(len(wanted), dtype=bool)
        rows, holder = self._key_order[at[found]], holder[found]
        by_row = np.argsort(rows, kind="stable")  # chunk order kept within a sentence
        starts = np.zeros(sentences + 1, dtype=np.int64)
        starts[1:] = np.cumsum(np.bincount(rows, minlength=sentences))
        return starts, holder[by_row]

    def saved_as(self, manifest: dict[str, Any]) -> SearchIndex:
        """This index with the manifest its build was saved under (counts and checksums
        added); called once, before the index is shared."""
        self.stored = replace(self.stored, manifest=manifest, vector_origins=None)
        self.manifest = manifest
        return self

    def within(self, doc_ids: set[str]) -> "SearchIndex":
        """A view of this index that finds only the articles in `doc_ids` (for filtered questions).

        Cheap: it shares every structure with this index; searches mask what lies outside.
        Word statistics (idf) stay those of the whole corpus.
        """
        view = copy.copy(self)
        view.articles = {d: a for d, a in self.articles.items() if d in doc_ids}
        view._chunk_keep = np.fromiter((c.doc_id in doc_ids for c in self.chunks), bool, len(self.chunks))
        view._sentence_keep = np.fromiter((d in doc_ids for d in doc_ids_of(self.sentences)), bool, len(self.sentences))
        return view

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

    def bm25_chunks(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every chunk for the query tokens (0 outside a view's articles)."""
        return _masked(self._chunk_bm25.scores(tokens), self._chunk_keep)

    def bm25_sentences(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every sentence for the query tokens (0 outside a view's articles)."""
        return _masked(self._sentence_bm25.scores(tokens), self._sentence_keep)

    def dense_chunks(self, vector: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(chunk indices, cosine similarities) of the `n` nearest chunks."""
        if self._chunk_keep is not None:
            return _search_among(self._chunk_vectors, self._chunk_keep, vector, n)
        return _search(self._chunk_faiss, vector, n)

    def dense_sentences(self, vector: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(sentence indices, cosine similarities) of the `n` nearest sentences."""
        if self._sentence_keep is not None:
            return _search_among(self.sentence_vectors, self._sentence_keep, vector, n)
        return _search(self._sentence_faiss, vector, n)

    def chunk_similarity(self, chunk_index: int, vector: np.ndarray) -> float:
        """Cosine similarity of one chunk to a unit query vector."""
        return float(self._chunk_vectors[chunk_index] @ vector)

    def sentence_index(self, doc_id: str, position: int) -> int | None:
        """Global index of the sentence at `position` of `doc_id`, if any."""
        code = self._article_code.get(doc_id)
        if code is None or position < 0:
            return None
        key = int(_position_keys(code, position))
        at = bisect.bisect_left(self._sorted_keys, key)
        if at < len(self._sorted_keys) and self._sorted_keys[at] == key:
            return int(self._key_order[at])
        return None

    def chunk_sentences(self, chunk_index: int) -> list[int]:
        """Global indices of the sentences of a chunk."""
        chunk = self.chunks[chunk_index]
        found = (self.sentence_index(chunk.doc_id, p) for p in range(chunk.first_sentence, chunk.last_sentence + 1))
        return [i for i in found if i is not None]


def _position_keys(articles: Any, positions: Any) -> Any:
    """One sortable integer per (article code, sentence position)."""
    return articles * (1 << 32) + positions


@dataclass(frozen=True)
class TokenCounts:
    """What BM25 needs to know of a set of documents: its words (in order of first
    appearance), how many documents hold each, and the documents' number and total length."""

    words: tuple[str, ...]
    document_frequency: tuple[int, ...]
    documents: int
    tokens: int


def merged_counts(parts: Sequence[TokenCounts]) -> TokenCounts:
    """The counts of consecutive parts of one corpus (shards in document order) as one.

    Words keep their order of first appearance across the parts, so idf floors summed in
    that order are the very floats one index over all the documents computes.
    """
    frequency: dict[str, int] = {}
    for part in parts:
        for word, count in zip(part.words, part.document_frequency):
            frequency[word] = frequency.get(word, 0) + count
    return TokenCounts(
        tuple(frequency), tuple(frequency.values()), sum(p.documents for p in parts), sum(p.tokens for p in parts)
    )


class Postings:
    """Okapi BM25 as rank-bm25's `BM25Okapi` computes it, scored through postings lists.

    Same idf (with its floor for very common words: epsilon times the mean idf), k1 and
    b, and the same arithmetic, so the scores equal `BM25Okapi.get_scores` exactly (a test
    checks this). Each word's contribution to each document that holds it is computed
    once, with NumPy, when the index loads; a query then adds the precomputed lists of
    its words instead of visiting every document for every word.

    A shard of a larger corpus passes `corpus`, the counts of the whole corpus
    (`merged_counts`): idf and average length then come from it, so the shard scores its
    documents exactly as one index over the whole corpus would.
    """

    K1, B, EPSILON = 1.5, 0.75, 0.25  # BM25Okapi's defaults

    def __init__(self, documents: Sequence[tuple[str, ...]], corpus: TokenCounts | None = None) -> None:
        self.size = len(documents)
        self._tokens = 0
        if isinstance(documents, TokenTable):  # loaded: word ids in order of first appearance already
            self.vocabulary = {word: i for i, word in enumerate(documents.words)}
            token_ids, lengths = documents.ids, np.diff(documents.offsets)
        else:
            self.vocabulary = {}
            token_ids = [self.vocabulary.setdefault(t, len(self.vocabulary)) for d in documents for t in d]
            lengths = np.fromiter((len(d) for d in documents), dtype=np.int64, count=self.size)
        self.document_frequency = np.zeros(len(self.vocabulary), dtype=np.int64)
        self._starts = np.zeros(len(self.vocabulary) + 1, dtype=np.int64)
        self._ids = np.zeros(0, dtype=np.int64)
        self._weights = np.zeros(0, dtype=np.float64)
        self.idf: list[float] = []
        if not len(token_ids):
            return
        # (document, word) pairs with their counts, grouped by word, documents ascending
        docs = np.repeat(np.arange(self.size, dtype=np.int64), lengths)
        pairs, counts = np.unique(np.asarray(token_ids, dtype=np.int64) * self.size + docs, return_counts=True)
        words, docs = np.divmod(pairs, self.size)
        self.document_frequency = np.bincount(words, minlength=len(self.vocabulary))
        self._tokens = int(lengths.sum())
        if corpus is None:
            self.idf = _okapi_idf(self.size, self.document_frequency.tolist(), self.EPSILON)
            average_length = self._tokens / self.size
        else:
            idf = _okapi_idf(corpus.documents, list(corpus.document_frequency), self.EPSILON)
            everywhere = dict(zip(corpus.words, idf))
            self.idf = [everywhere[word] for word in self.vocabulary]
            average_length = corpus.tokens / corpus.documents
        norm = self.K1 * (1 - self.B + self.B * lengths.astype(np.float64) / average_length)
        counts = counts.astype(np.float64)
        idf = np.asarray(self.idf, dtype=np.float64)[words]
        self._weights = idf * counts * (self.K1 + 1) / (counts + norm[docs])
        self._ids = docs
        self._starts[1:] = np.cumsum(self.document_frequency)

    def counts(self) -> TokenCounts:
        """This set of documents' words, document frequencies, size and length (see `merged_counts`)."""
        return TokenCounts(tuple(self.vocabulary), tuple(self.document_frequency.tolist()), self.size, self._tokens)

    def scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every document for the query tokens (a repeated token counts again)."""
        out = np.zeros(self.size, dtype=np.float64)
        for token in tokens:
            word = self.vocabulary.get(token)
            if word is None:
                continue
            span = slice(self._starts[word], self._starts[word + 1])
            out[self._ids[span]] += self._weights[span]
        return out


def _okapi_idf(size: int, document_frequency: list[int], epsilon: float) -> list[float]:
    """BM25Okapi's idf per word, in its order of summation (so the floor is the same float)."""
    idf = [math.log(size - df + 0.5) - math.log(df + 0.5) for df in document_frequency]
    floor = epsilon * (sum(idf) / len(idf))
    return [value if value >= 0 else floor for value in idf]


def top_positive(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the `k` highest positive scores, best first, ties in index order."""
    positive = np.flatnonzero(scores > 0)
    if len(positive) > k:
        # keep every candidate tied with the k-th, then order them stably
        kth = np.partition(scores[positive], len(positive) - k)[len(positive) - k]
        positive = positive[scores[positive] >= kth]
    return positive[np.argsort(-scores[positive], kind="stable")][:k]


def dense_index(
    vectors: np.ndarray,
    coarse: CoarseLists | None = None,
    previous: Any = None,
    kept: np.ndarray | None = None,
) -> tuple[Any, np.ndarray]:
    """The search for `vectors` and the vectors to read: exact (FAISS flat) up to
    `FLAT_MAX_VECTORS`, else inverted-file (`qa.indexing.ivf.IvfSearch`), filed by the
    build's `coarse` lists (learned here if it has none). `previous` is the search of the
    table this one was updated from and `kept` each row's row there (-1: new): an
    inverted file is then carried over rather than filed afresh."""
    if len(vectors) <= ivf.FLAT_MAX_VECTORS:
        return flat_ip(np.asarray(vectors))
    lists = coarse or ivf.coarse_lists(vectors)
    if isinstance(previous, ivf.IvfSearch) and kept is not None and len(kept) == len(vectors):
        return previous.updated(vectors, lists, kept), vectors
    return ivf.IvfSearch.filed(vectors, lists), vectors


def flat_ip(vectors: np.ndarray) -> tuple[faiss.IndexFlatIP, np.ndarray]:
    """An exact inner-product index of `vectors`, and a read-only view of the copy it holds."""
    index = faiss.IndexFlatIP(vectors.shape[1])
    if not len(vectors):
        return index, np.zeros((0, vectors.shape[1]), dtype=np.float32)
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    view = faiss.rev_swig_ptr(index.get_xb(), index.ntotal * index.d).reshape(index.ntotal, index.d)
    owned = np.asarray(_KeepsAlive(index, view))  # the array's base holds the index, so its memory stays
    owned.flags.writeable = False
    return index, owned


class _KeepsAlive:
    """Exposes an array that points into `owner`'s memory, and keeps `owner` alive with it."""

    def __init__(self, owner: Any, view: np.ndarray) -> None:
        self.owner = owner
        self.__array_interface__ = view.__array_interface__


def _search(index: faiss.Index, vector: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    n = min(n, index.ntotal)
    if n <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    scores, ids = index.search(np.ascontiguousarray(vector.reshape(1, -1), dtype=np.float32), n)
    keep = ids[0] >= 0
    return ids[0][keep], scores[0][keep]


def _masked(scores: np.ndarray, keep: np.ndarray | None) -> np.ndarray:
    return scores if keep is None else np.where(keep, scores, 0.0)


def _search_among(vectors: np.ndarray, keep: np.ndarray, vector: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact search among the kept rows only (a filter usually keeps a small share of a corpus)."""
    rows = np.flatnonzero(keep)
    if not len(rows) or n <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    scores = np.asarray(vectors[rows] @ np.asarray(vector, dtype=np.float32).reshape(-1), dtype=np.float32)
    order = np.argsort(-scores, kind="stable")[:n]
    return rows[order].astype(np.int64), scores[order]
