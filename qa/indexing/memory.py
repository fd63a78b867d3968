"""The in-memory, read-only search structures over one stored build."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import faiss
import numpy as np
from rank_bm25 import BM25Okapi

from qa.ingest.aliases import answer_key, find_aliases
from qa.indexing.store import StoredIndex
from qa.types import Article, Chunk, Sentence


class SearchIndex:
    """BM25 and FAISS over the chunks and sentences of one build; safe to share between threads."""

    def __init__(self, stored: StoredIndex) -> None:
        self.stored = stored
        self.manifest: dict[str, Any] = stored.manifest
        self.articles: dict[str, Article] = {a.doc_id: a for a in stored.articles}
        self.chunks: tuple[Chunk, ...] = stored.chunks
        self.sentences: tuple[Sentence, ...] = stored.sentences
        self.sentence_tokens = stored.sentence_tokens
        self.chunk_tokens = stored.chunk_tokens
        self.sentence_vectors = stored.sentence_vectors
        self._chunk_bm25 = _Postings(stored.chunk_tokens)
        self._sentence_bm25 = _Postings(stored.sentence_tokens)
        self._chunk_vectors = stored.chunk_vectors
        self._chunk_faiss = _flat_ip(stored.chunk_vectors)
        self._sentence_faiss = _flat_ip(stored.sentence_vectors)
        self.aliases = find_aliases(a.text for a in stored.articles)
        self._answer_words: dict[int, tuple[str, ...]] = {}
        self._sentence_at = {(s.doc_id, s.position): i for i, s in enumerate(stored.sentences)}
        self._chunks_of_sentence = _chunks_of_sentences(self)
        document_frequency = Counter(t for tokens in stored.sentence_tokens for t in set(tokens))
        total = len(stored.sentences) + 1
        self._idf = {t: math.log(total / (df + 0.5)) for t, df in document_frequency.items()}
        self._idf_unseen = math.log(total / 0.5)

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
        return self._chunks_of_sentence.get(sentence_index, [])

    def bm25_chunks(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every chunk for the query tokens."""
        return self._chunk_bm25.scores(tokens)

    def bm25_sentences(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every sentence for the query tokens."""
        return self._sentence_bm25.scores(tokens)

    def dense_chunks(self, vector: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(chunk indices, cosine similarities) of the `n` nearest chunks."""
        return _search(self._chunk_faiss, vector, n)

    def dense_sentences(self, vector: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(sentence indices, cosine similarities) of the `n` nearest sentences."""
        return _search(self._sentence_faiss, vector, n)

    def chunk_similarity(self, chunk_index: int, vector: np.ndarray) -> float:
        """Cosine similarity of one chunk to a unit query vector."""
        return float(self._chunk_vectors[chunk_index] @ vector)

    def sentence_index(self, doc_id: str, position: int) -> int | None:
        """Global index of the sentence at `position` of `doc_id`, if any."""
        return self._sentence_at.get((doc_id, position))

    def chunk_sentences(self, chunk_index: int) -> list[int]:
        """Global indices of the sentences of a chunk."""
        chunk = self.chunks[chunk_index]
        found = (self.sentence_index(chunk.doc_id, p) for p in range(chunk.first_sentence, chunk.last_sentence + 1))
        return [i for i in found if i is not None]


def _chunks_of_sentences(index: SearchIndex) -> dict[int, list[int]]:
    owners: dict[int, list[int]] = {}
    for chunk_index in range(len(index.chunks)):
        for sentence_index in index.chunk_sentences(chunk_index):
            owners.setdefault(sentence_index, []).append(chunk_index)
    return owners


class _Postings:
    """rank-bm25's Okapi BM25, scored through postings lists.

    `BM25Okapi.get_scores` visits every document for every query word; this visits only
    the documents that hold the word and gives the same scores (same idf, k1, b).
    """

    def __init__(self, documents: tuple[tuple[str, ...], ...]) -> None:
        self.size = len(documents)
        self._bm25 = BM25Okapi([list(d) for d in documents]) if any(documents) else None
        self._lists: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        if self._bm25 is None:
            return
        bm25 = self._bm25
        lengths = np.asarray(bm25.doc_len, dtype=np.float64)
        self._norm = bm25.k1 * (1 - bm25.b + bm25.b * lengths / bm25.avgdl)
        gathered: dict[str, tuple[list[int], list[float]]] = {}
        for doc, frequencies in enumerate(bm25.doc_freqs):
            for token, count in frequencies.items():
                ids, counts = gathered.setdefault(token, ([], []))
                ids.append(doc)
                counts.append(count)
        self._lists = {t: (np.asarray(i), np.asarray(c, dtype=np.float64)) for t, (i, c) in gathered.items()}

    def scores(self, tokens: list[str]) -> np.ndarray:
        out = np.zeros(self.size, dtype=np.float64)
        if self._bm25 is None:
            return out
        for token in tokens:
            posting = self._lists.get(token)
            if posting is None:
                continue
            ids, counts = posting
            idf = self._bm25.idf.get(token) or 0.0
            out[ids] += idf * counts * (self._bm25.k1 + 1) / (counts + self._norm[ids])
        return out


def _flat_ip(vectors: np.ndarray) -> faiss.IndexFlatIP:
    index = faiss.IndexFlatIP(vectors.shape[1])
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def _search(index: faiss.IndexFlatIP, vector: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    n = min(n, index.ntotal)
    if n <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    scores, ids = index.search(np.ascontiguousarray(vector.reshape(1, -1), dtype=np.float32), n)
    keep = ids[0] >= 0
    return ids[0][keep], scores[0][keep]
