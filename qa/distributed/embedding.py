"""Embedding a shard in the very batches a single build would use, so its vectors are the same.

With the default runtime (int8 ONNX, dynamically quantised) a sentence's vector depends
on the other sentences of its batch: the activations are quantised with one scale per
batch (cosine about 0.99 between a text embedded alone and in a batch). A single build
embeds the corpus's sentences in order, `EMBED_BATCH` at a time. A shard covering
sentences [start, end) of the corpus therefore embeds the aligned batches around its
range, with the texts of its neighbours' sentences that share its first and last batch,
and keeps its own rows: the vectors of a from-scratch single build, float for float.
"""

from __future__ import annotations

import numpy as np

from qa.indexing.sentence_vectors import EMBED_BATCH
from qa.indexing.embedder import Embedder


def aligned_vectors(embedder: Embedder, before: list[str], own: list[str], after: list[str]) -> np.ndarray:
    """The vectors of `own`, embedded in batches of `EMBED_BATCH` aligned to the corpus.

    Args:
        embedder: the model.
        before: texts of the sentences just before `own` back to the start of its first
            corpus batch (fewer than `EMBED_BATCH`).
        own: the shard's sentence texts, in order.
        after: texts of the sentences after `own` up to the end of its last corpus batch.
    """
    texts = before + own + after
    blocks = [embedder.encode(texts[i : i + EMBED_BATCH]) for i in range(0, len(texts), EMBED_BATCH)]
    if not blocks:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    return np.concatenate(blocks)[len(before) : len(before) + len(own)]


class Precomputed:
    """An `Embedder` that hands out vectors computed beforehand for texts asked for in order.

    `qa.indexing.build.build` asks for its sentences in order; an article it leaves out
    (the parser failed on it) is skipped over. A text not found is embedded as usual.
    """

    def __init__(self, inner: Embedder, texts: list[str], vectors: np.ndarray) -> None:
        self.name, self.dimension = inner.name, inner.dimension
        self._inner, self._texts, self._vectors, self._next = inner, texts, vectors, 0

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            found = next((i for i in range(self._next, len(self._texts)) if self._texts[i] == text), None)
            if found is None:
                out[row] = self._inner.encode([text])[0]
            else:
                out[row], self._next = self._vectors[found], found + 1
        return out
