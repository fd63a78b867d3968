"""Candidate sentences for a question part, each described by named features.

The features combine the retriever's evidence (fused chunk score, BM25, embedding
similarity) with evidence from the sentence itself (overlap with the question's content
words and their proximity, a span of the wanted type that the question does not already
name) and from its neighbours. `qa.models` weighs them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from qa.answer.spans import typed_spans
from qa.indexing.memory import SearchIndex
from qa.indexing.rows import read_rows
from qa.retrieve.backends import DENSE, LEXICAL, searcher
from qa.retrieve.retriever import Query, RankedChunk

_EXTRA_SENTENCES = 10  # nearest sentences by each retriever added to those of the retrieved chunks

# What the sentence model weighs (see `candidates`); its model file must list exactly these.
SENTENCE_FEATURES = (
    "chunk_relative", "chunk_reciprocal_rank", "dense", "bm25_relative", "overlap", "bigram", "proximity",
    "neighbour_overlap", "has_typed_span", "log_length", "lede", "context_overlap",
)


@dataclass(frozen=True)
class Candidate:
    """A sentence that may answer the part, with its features."""

    sentence: int
    features: dict[str, float]


def candidates(
    index: SearchIndex,
    query: Query,
    chunks: list[RankedChunk],
    answer_type: str,
    avoid: frozenset[str],
) -> list[Candidate]:
    """Quotable sentences of the retrieved chunks plus the nearest sentences on their own.

    Args:
        index: the searchable index.
        query: the part's retrieval query.
        chunks: the retrieved chunks, best first.
        answer_type: what the part asks for (see `qa.answer.question`).
        avoid: folded question words an answer span must not merely repeat.

    Returns:
        One candidate per distinct sentence.
    """
    chunk_rank: dict[int, tuple[int, float]] = {}
    top_score = chunks[0].score if chunks else 1.0
    for rank, chunk in enumerate(chunks, start=1):
        for s in index.chunk_sentences(chunk.index):
            if s not in chunk_rank:
                chunk_rank[s] = (rank, chunk.score / top_score if top_score else 0.0)
    dense_hits = searcher(index, "sentences", DENSE).search(query, _EXTRA_SENTENCES)
    lexical_hits = searcher(index, "sentences", LEXICAL).search(query, _EXTRA_SENTENCES)
    pool = list(chunk_rank) + [int(i) for i in dense_hits.rows] + [int(i) for i in lexical_hits.rows]
    seen: set[int] = set()
    pool = [s for s in pool if not (s in seen or seen.add(s)) and index.sentences[s].quotable]
    if not pool:
        return []
    dense = read_rows(index.sentence_vectors, np.asarray(pool)) @ query.vector
    bm25 = lexical_hits.scores_of(pool)
    top_bm25 = max(float(bm25.max()), 1e-9)
    weights = {t: index.idf(t) for t in set(query.tokens)}
    out = []
    for position, s in enumerate(pool):
        rank, relative = chunk_rank.get(s, (0, 0.0))
        lexical = _lexical(index, s, query.tokens, weights)
        neighbours = [
            _lexical(index, n, query.tokens, weights)["overlap"]
            for n in _neighbours(index, s)
        ]
        context = index.tokens_around(s, after=False)
        spans = typed_spans(index, s, answer_type, avoid)
        features = {
            "chunk_relative": relative,
            "chunk_reciprocal_rank": 1.0 / rank if rank else 0.0,
            "dense": float(dense[position]),
            "bm25_relative": float(bm25[position]) / top_bm25,
            **lexical,
            "neighbour_overlap": max(neighbours, default=0.0),
            "has_typed_span": 1.0 if spans else 0.0,
            "log_length": math.log1p(len(index.sentence_tokens[s])),
            "lede": 1.0 if index.sentences[s].position < 2 else 0.0,
            # what a reader has read on reaching the sentence: "The service will cost the council
            # £42,000" answers "How much will the free ferry cost?" under "Free ferry to run ..."
            "context_overlap": sum(w for t, w in weights.items() if t in context) / (sum(weights.values()) or 1.0),
        }
        out.append(Candidate(s, features))
    return out


def _lexical(index: SearchIndex, s: int, query_tokens: tuple[str, ...], weights: dict[str, float]) -> dict[str, float]:
    """Idf-weighted overlap, bigram overlap and the proximity of the matched words."""
    tokens = index.sentence_tokens[s]
    if not query_tokens or not tokens:
        return {"overlap": 0.0, "bigram": 0.0, "proximity": 0.0}
    present = set(tokens) & set(query_tokens)
    total = sum(weights.values()) or 1.0
    overlap = sum(weights[t] for t in present) / total
    query_bigrams = set(zip(query_tokens, query_tokens[1:]))
    bigram = len(query_bigrams & set(zip(tokens, tokens[1:]))) / len(query_bigrams) if query_bigrams else 0.0
    positions = [i for i, t in enumerate(tokens) if t in present]
    proximity = 0.0
    if len(positions) > 1:
        proximity = (len(set(tokens[p] for p in positions)) - 1) / (positions[-1] - positions[0])
    return {"overlap": overlap, "bigram": bigram, "proximity": min(proximity, 1.0)}




def _neighbours(index: SearchIndex, s: int) -> list[int]:
    sentence = index.sentences[s]
    found = (index.sentence_index(sentence.doc_id, sentence.position + d) for d in (-1, 1))
    return [n for n in found if n is not None]
