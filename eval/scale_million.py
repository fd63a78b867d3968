"""Scale benchmark, retrieval at a million sentences (`python -m eval.scale --million`).

Ten perturbed copies of the largest built corpus (a token dropped per sentence, vectors
nudged by growing noise), for speed and memory only: BM25 alone, exact and inverted-file
dense search, the hybrid retrieval over each, and the inverted file's recall@10 against
exact search.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from eval.scale import MILLION, _ms, _peak_mb, _settings, _time


def million_stage(folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Retrieval over ten perturbed copies of a built corpus, for speed and memory only."""
    import numpy as np

    from qa.indexing import catalog, store
    from qa.indexing.embedder import embedder_for
    from qa.indexing.ivf import IvfSearch, learned_lists
    from qa.indexing.nearest import flat_ip
    from qa.indexing.postings import Postings
    from qa.retrieve.lexical import top_positive
    from qa.retrieve.fusion import ranked, weighted

    settings = _settings(folder, args)
    embedder = embedder_for(settings)
    home = catalog.index_home(folder / "corpus", settings)
    stored = store.load(home / (home / "CURRENT").read_text(encoding="utf-8").strip())
    copies = max(1, round(MILLION / max(len(stored.sentences), 1)))
    rng = np.random.default_rng(0)

    def perturbed(tokens: tuple[tuple[str, ...], ...], vectors: np.ndarray):  # noqa: ANN202
        all_tokens, all_vectors = [], []
        for copy in range(copies):
            for t in tokens:
                drop = int(rng.integers(len(t))) if len(t) > 1 and copy else -1
                all_tokens.append(tuple(w for i, w in enumerate(t) if i != drop))
            noisy = vectors + (0.02 * copy) * rng.standard_normal(vectors.shape).astype(np.float32)
            all_vectors.append(noisy / np.linalg.norm(noisy, axis=1, keepdims=True))
        return tuple(all_tokens), np.concatenate(all_vectors).astype(np.float32)

    started = time.perf_counter()
    chunk_tokens, chunk_vectors = perturbed(stored.chunk_tokens, np.asarray(stored.chunk_vectors))
    sentence_tokens, sentence_vectors = perturbed(stored.sentence_tokens, np.asarray(stored.sentence_vectors))
    del stored
    chunk_bm25, sentence_bm25 = Postings(chunk_tokens), Postings(sentence_tokens)
    (chunk_flat, chunk_view), (sentence_flat, sentence_view) = flat_ip(chunk_vectors), flat_ip(sentence_vectors)
    del chunk_vectors, sentence_vectors
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    # the inverted files re-score their candidates from the vectors (here the exact indexes' copies)
    chunk_ivf, sentence_ivf = (IvfSearch.filed(v, learned_lists(v)) for v in (chunk_view, sentence_view))
    ivf_build_s = time.perf_counter() - started
    from qa.text import content_tokens

    questions = json.loads((folder / "questions.json").read_text(encoding="utf-8"))[:: 7][: args.queries]
    timings: dict[str, list[float]] = {"bm25": [], "dense": [], "dense_ivf": [], "retrieval": [], "retrieval_flat": []}
    recalls = []
    for question in questions:
        tokens, vector = content_tokens(question), embedder.encode([question])[0].reshape(1, -1)

        def retrieval(chunk_dense, sentence_dense) -> None:  # noqa: ANN001
            scores = chunk_bm25.scores(tokens)
            lexical = {int(i): float(scores[i]) for i in top_positive(scores, 40)}
            found, ids = chunk_dense.search(vector, 40)
            ranked(weighted([lexical, dict(zip(ids[0].tolist(), found[0].tolist()))], [0.5, 0.5]), limit=8)
            top_positive(sentence_bm25.scores(tokens), 10)
            sentence_dense.search(vector, 10)

        timings["bm25"].append(_time(lambda: top_positive(chunk_bm25.scores(tokens), 40)))
        timings["dense"].append(_time(lambda: chunk_flat.search(vector, 40)))
        timings["dense_ivf"].append(_time(lambda: chunk_ivf.search(vector, 40)))
        timings["retrieval"].append(_time(lambda: retrieval(chunk_ivf, sentence_ivf)))
        timings["retrieval_flat"].append(_time(lambda: retrieval(chunk_flat, sentence_flat)))
        for exact, approximate in ((chunk_flat, chunk_ivf), (sentence_flat, sentence_ivf)):
            truth = set(exact.search(vector, 10)[1][0].tolist())
            recalls.append(len(truth & set(approximate.search(vector, 10)[1][0].tolist())) / 10)
    return {
        "sentences": len(sentence_tokens),
        "chunks": len(chunk_tokens),
        "copies": copies,
        "structures_s": round(build_s, 2),
        "ivf_build_s": round(ivf_build_s, 2),
        "ivf_recall_at_10": round(sum(recalls) / max(len(recalls), 1), 3),
        **{f"{k}_p50_ms": _ms(v, 50) for k, v in timings.items()},
        **{f"{k}_p95_ms": _ms(v, 95) for k, v in timings.items()},
        "serve_peak_mb": _peak_mb(),
    }
