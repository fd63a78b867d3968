"""The index's BM25 equals rank-bm25's BM25Okapi, and top-k selection keeps a stable order."""

from __future__ import annotations

import random

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from qa.indexing.postings import Postings
from qa.retrieve.lexical import top_positive


def corpus(seed: int, size: int = 300) -> tuple[tuple[str, ...], ...]:
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(60)]
    # "common" is in nearly every document, so BM25Okapi floors its negative idf
    return tuple(
        tuple(["common"] * (rng.random() < 0.9) + rng.choices(words, k=rng.randint(0, 12))) for _ in range(size)
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scores_equal_bm25okapi_on_random_corpora(seed: int) -> None:
    documents = corpus(seed)
    reference = BM25Okapi([list(d) for d in documents])
    postings = Postings(documents)
    rng = random.Random(seed + 100)
    for _ in range(20):
        query = rng.choices(["common", "unseen", *[f"w{i}" for i in range(60)]], k=rng.randint(1, 6))
        np.testing.assert_allclose(postings.scores(query), reference.get_scores(query), rtol=1e-12, atol=1e-12)


def test_empty_documents_score_zero() -> None:
    assert not Postings(((), ())).scores(["x"]).any()
    assert Postings(()).scores(["x"]).shape == (0,)


def test_top_positive_matches_a_stable_full_sort() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        scores = rng.integers(0, 4, size=rng.integers(1, 40)).astype(float)  # many ties and zeros
        k = int(rng.integers(1, 10))
        full = [i for i in np.argsort(-scores, kind="stable")[:k] if scores[i] > 0]
        assert top_positive(scores, k).tolist() == full
