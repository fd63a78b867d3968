"""Fusion functions give the exact values of their definitions."""

from __future__ import annotations

import pytest

from qa.retrieve.fusion import min_max, ranked, rrf, weighted


def test_rrf_exact_scores() -> None:
    fused = rrf([["a", "b", "c"], ["b", "a"]], k=60)
    assert fused["a"] == pytest.approx(1 / 61 + 1 / 62)
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["c"] == pytest.approx(1 / 63)


def test_rrf_rewards_agreement_over_one_top_rank() -> None:
    fused = rrf([["x", "y"], ["z", "y"]], k=1)
    assert [item for item, _ in ranked(fused)][0] == "y"  # 1/3 + 1/3 beats 1/2


def test_rrf_rejects_bad_k() -> None:
    with pytest.raises(ValueError, match="k must be positive"):
        rrf([["a"]], k=0)


def test_min_max() -> None:
    assert min_max({"a": 2.0, "b": 4.0, "c": 3.0}) == {"a": 0.0, "b": 1.0, "c": 0.5}
    assert min_max({"a": 7.0, "b": 7.0}) == {"a": 1.0, "b": 1.0}
    assert min_max({}) == {}


def test_weighted_fusion_exact_scores() -> None:
    fused = weighted([{"a": 10.0, "b": 0.0}, {"a": 0.2, "b": 0.6, "c": 0.4}], [0.25, 0.75])
    assert fused["a"] == pytest.approx(0.25 * 1.0 + 0.75 * 0.0)
    assert fused["b"] == pytest.approx(0.25 * 0.0 + 0.75 * 1.0)
    assert fused["c"] == pytest.approx(0.75 * 0.5)


def test_weighted_fusion_validates_weights() -> None:
    with pytest.raises(ValueError, match="2 score maps but 1 weights"):
        weighted([{}, {}], [1.0])
    with pytest.raises(ValueError, match="must not be negative"):
        weighted([{}], [-1.0])


def test_ranked_limits_and_orders() -> None:
    assert ranked({"a": 1.0, "b": 3.0, "c": 2.0}, limit=2) == [("b", 3.0), ("c", 2.0)]


def test_postings_bm25_equals_rank_bm25() -> None:
    from rank_bm25 import BM25Okapi

    from qa.indexing.postings import Postings

    documents = (("storm", "port", "close"), ("port", "port", "ship"), ("festiv",), ("storm", "wind", "wind", "rain"))
    query = ["port", "storm", "unknown", "port"]
    expected = BM25Okapi([list(d) for d in documents]).get_scores(query)
    assert Postings(documents).scores(query) == pytest.approx(expected)
    assert not Postings(((), ())).scores(query).any()
