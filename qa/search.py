"""The in-memory, read-only search structures over one stored build."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import faiss
import numpy as np
from rank_bm25 import BM25Okapi

from qa.aliases import find_aliases
from qa.store import StoredIndex
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
        self._chunk_bm25 = _bm25(stored.chunk_tokens)
        self._sentence_bm25 = _bm25(stored.sentence_tokens)
        self._chunk_faiss = _flat_ip(stored.chunk_vectors)
        self._sentence_faiss = _flat_ip(stored.sentence_vectors)
        self.aliases = find_aliases(a.text for a in stored.articles)
        self._sentence_at = {(s.doc_id, s.position): i for i, s in enumerate(stored.sentences)}
        self._chunks_of_sentence = _chunks_of_sentences(self)
        document_frequency = Counter(t for tokens in stored.sentence_tokens for t in set(tokens))
        total = len(stored.sentences) + 1
        self._idf = {t: math.log(total / (df + 0.5)) for t, df in document_frequency.items()}
        self._idf_unseen = math.log(total / 0.5)

    def idf(self, token: str) -> float:
        """Smoothed inverse sentence frequency; an unseen token is as rare as can be."""
        return self._idf.get(token, self._idf_unseen)

    def chunks_of_sentence(self, sentence_index: int) -> list[int]:
        """Indices of the chunks that contain a sentence."""
        return self._chunks_of_sentence.get(sentence_index, [])

    def bm25_chunks(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every chunk for the query tokens."""
        return _scores(self._chunk_bm25, tokens, len(self.chunks))

    def bm25_sentences(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every sentence for the query tokens."""
        return _scores(self._sentence_bm25, tokens, len(self.sentences))

    def dense_chunks(self, vector: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(chunk indices, cosine similarities) of the `n` nearest chunks."""
        return _search(self._chunk_faiss, vector, n)

    def dense_sentences(self, vector: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(sentence indices, cosine similarities) of the `n` nearest sentences."""
        return _search(self._sentence_faiss, vector, n)

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


def _bm25(documents: tuple[tuple[str, ...], ...]) -> BM25Okapi | None:
    # rank-bm25 divides by the average length: a corpus of only stopwords has none.
    if not documents or not any(documents):
        return None
    return BM25Okapi([list(d) for d in documents])


def _scores(bm25: BM25Okapi | None, tokens: list[str], size: int) -> np.ndarray:
    if bm25 is None or not tokens:
        return np.zeros(size, dtype=np.float64)
    return np.asarray(bm25.get_scores(tokens), dtype=np.float64)


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
