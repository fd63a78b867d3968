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

import threading

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
    """An `Embedder` that hands out vectors computed beforehand for the texts asked for.

    `qa.indexing.build.build` asks for its sentences in batches of consecutive sentences,
    from several threads at once, in any order: a batch is found where its texts stand in
    a row (the first such place not handed out yet), so each sentence gets its own vector even
    where a text repeats ("Advertisement"). A batch found nowhere (an article the parser
    failed on was left out) is matched text by text, and a text not found is embedded as usual.
    """

    def __init__(self, inner: Embedder, texts: list[str], vectors: np.ndarray) -> None:
        self.name, self.dimension = inner.name, inner.dimension
        self._inner, self._texts, self._vectors = inner, texts, vectors
        self._lock = threading.Lock()
        self._taken = np.zeros(len(texts), dtype=bool)
        self._starts: dict[str, list[int]] = {}
        for i, text in enumerate(texts):
            self._starts.setdefault(text, []).append(i)

    def encode(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            rows = self._rows(texts)
            self._taken[[r for r in rows if r is not None]] = True
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for k, (row, text) in enumerate(zip(rows, texts)):
            out[k] = self._vectors[row] if row is not None else self._inner.encode([text])[0]
        return out

    def _rows(self, texts: list[str]) -> list[int | None]:
        """Where each text's vector is: the batch in a row where possible, else text by text."""
        if not texts:
            return []
        for start in self._starts.get(texts[0], []):
            end = start + len(texts)
            if self._texts[start:end] == texts and not self._taken[start:end].any():
                return list(range(start, end))
        rows: list[int | None] = []
        for text in texts:
            free = [i for i in self._starts.get(text, []) if not self._taken[i] and i not in rows]
            rows.append(free[0] if free else None)
        return rows
