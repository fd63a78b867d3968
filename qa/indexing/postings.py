"""BM25's inverted index over the token lists of one table (chunks or sentences).

`Postings` holds, per word, the rows that have it and the word's precomputed BM25 weight
in each, so scoring a query adds a few NumPy slices. A table split across shards scores
with the whole corpus's `TokenCounts` (`merged_counts`), exactly as one index would.
Searching (the best rows, filtered views) is `qa.retrieve.lexical`'s; this is the data it reads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np

from qa.indexing.tables import TokenTable


class TermScores(Protocol):
    """What a lexical searcher reads of a table: every row's score for some query tokens.

    `Postings` for a table in memory; `qa.distributed.serving.ShardedPostings` for one
    spread over Ray shards.
    """

    size: int

    def scores(self, tokens: list[str]) -> np.ndarray:
        """The score of every row for the query tokens (0 for a row without them)."""
        ...

    def counts(self) -> TokenCounts:
        """The table's words, document frequencies, size and length (for idf)."""
        ...


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
    checks this). A query visits only the postings of its words, not every document: each
    word's contribution to the documents holding it is worked out, with NumPy, from their
    counts and length norms when the word is asked for. Worked out for every posting when
    the index loaded, they took a float64 per posting (0.24 GB at a million sentences) and
    most of the time an update spent making its search structures (0.95 s at 1M), for about
    a millisecond a question.

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
        self._counts = np.zeros(0, dtype=np.int32)
        self._norm = np.zeros(0, dtype=np.float64)
        self._idf = np.zeros(0, dtype=np.float64)
        if not len(token_ids):
            return
        held = documents.postings if isinstance(documents, TokenTable) else None
        if held is None:
            held = word_postings(token_ids, lengths, len(self.vocabulary))
        self.document_frequency = held.frequency.astype(np.int64, copy=False)
        self._ids = held.documents  # int32 below 2**31 documents: half the memory, the same slices
        self._counts = held.counts
        self._tokens = int(lengths.sum())
        if corpus is None:
            idf = _okapi_idf(self.size, self.document_frequency.tolist(), self.EPSILON)
            average_length = self._tokens / self.size
        else:
            everywhere = dict(zip(corpus.words, _okapi_idf(corpus.documents, list(corpus.document_frequency), self.EPSILON)))
            idf = [everywhere[word] for word in self.vocabulary]
            average_length = corpus.tokens / corpus.documents
        self._idf = np.asarray(idf, dtype=np.float64)
        self._norm = self.K1 * (1 - self.B + self.B * lengths.astype(np.float64) / average_length)
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
            documents = self._ids[span]
            counts = self._counts[span].astype(np.float64)
            # idf * count * (K1 + 1) / (count + norm), in that order: BM25Okapi's floats
            weights = counts * self._idf[word]
            weights *= self.K1 + 1
            counts += self._norm[documents]
            weights /= counts
            out[documents] += weights
        return out


@dataclass(frozen=True)
class WordPostings:
    """Which documents hold each word and how often: what BM25's postings take from the
    documents alone, without the corpus statistics their weights also need. An index stores
    it with each token table (`qa.indexing.columns`), so a load adds up the weights instead of
    sorting tens of millions of (word, document) pairs again."""

    frequency: np.ndarray  # per word of the vocabulary, how many documents hold it
    documents: np.ndarray  # the documents holding word 0, then word 1, ..., ascending within a word
    counts: np.ndarray  # how often the word occurs in each of those documents

    def words(self) -> np.ndarray:
        """The word of each (word, document) pair, in the pairs' order."""
        return np.repeat(np.arange(len(self.frequency), dtype=np.int64), self.frequency)

    def problem(self, words: int, documents: int, tokens: int) -> str | None:
        """What makes these postings unfit for a table of that many words, documents and
        tokens (None: fit), so a damaged file cannot make searches index out of bounds."""
        if len(self.frequency) != words or self.frequency.ndim != 1:
            return "word postings do not fit the vocabulary"
        if len(self.documents) != len(self.counts) or int(self.frequency.sum()) != len(self.documents):
            return "word postings differ in length"
        if len(self.documents) and (self.documents.min() < 0 or self.documents.max() >= documents):
            return "word postings point at no document"
        if len(self.counts) and (self.counts.min() < 1 or int(self.counts.sum()) != tokens):
            return "word postings do not count the tokens"
        return None


def word_postings(token_ids: Sequence[int] | np.ndarray, lengths: np.ndarray, words: int) -> WordPostings:
    """The `WordPostings` of documents given as word ids (concatenated) and their lengths."""
    documents = len(lengths)
    # (document, word) pairs with their counts, grouped by word, documents ascending; made in
    # place (a sort, not np.unique's copies): a table's tokens are tens of millions at a
    # million sentences, and each temporary array of them was 100-200 MB of the load's peak
    keys = np.array(token_ids, dtype=np.int64)
    keys *= documents
    keys += np.repeat(np.arange(documents, dtype=np.int64), lengths)
    keys.sort()
    firsts = np.flatnonzero(np.diff(keys)) + 1
    counts = np.diff(firsts, prepend=0, append=len(keys)) if len(keys) else np.zeros(0, dtype=np.int64)  # no tokens: no pairs
    pairs = keys[np.concatenate(([0], firsts))] if len(keys) else keys
    del keys, firsts
    held_words, held_documents = np.divmod(pairs, documents) if documents else (pairs, pairs)
    small = np.int32 if documents < np.iinfo(np.int32).max else np.int64
    return WordPostings(
        np.bincount(held_words, minlength=words), held_documents.astype(small), counts.astype(np.int32)
    )


def _okapi_idf(size: int, document_frequency: list[int], epsilon: float) -> list[float]:
    """BM25Okapi's idf per word, in its order of summation (so the floor is the same float)."""
    idf = [math.log(size - df + 0.5) - math.log(df + 0.5) for df in document_frequency]
    floor = epsilon * (sum(idf) / len(idf))
    return [value if value >= 0 else floor for value in idf]
