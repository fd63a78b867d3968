"""Fusing rankings from several retrievers: pure functions over {item: score} maps."""

from __future__ import annotations

from typing import Hashable, Mapping, Sequence, TypeVar

Item = TypeVar("Item", bound=Hashable)


def rrf(rankings: Sequence[Sequence[Item]], k: int = 60) -> dict[Item, float]:
    """Reciprocal rank fusion: score(d) = sum over rankings of 1 / (k + rank(d)).

    Cormack, Clarke and Büttcher, "Reciprocal Rank Fusion outperforms Condorcet and
    individual Rank Learning Methods", SIGIR 2009. Ranks start at 1.

    Args:
        rankings: each a list of items, best first.
        k: damps the weight of the top ranks; 60 as in the paper.

    Returns:
        Fused score per item (higher is better).

    Raises:
        ValueError: k is not positive.
    """
    if k <= 0:
        raise ValueError(f"k must be positive, not {k}")
    fused: dict[Item, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return fused


def min_max(scores: Mapping[Item, float]) -> dict[Item, float]:
    """Scale scores to [0, 1]; all-equal scores become 1.0 (each is the best)."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high == low:
        return {item: 1.0 for item in scores}
    return {item: (value - low) / (high - low) for item, value in scores.items()}


def weighted(score_maps: Sequence[Mapping[Item, float]], weights: Sequence[float]) -> dict[Item, float]:
    """Convex combination of min-max normalised scores; an item missing from a map scores 0 there.

    As analysed by Bruch, Gai and Ingber, "An Analysis of Fusion Functions for Hybrid
    Retrieval", ACM TOIS 2023.

    Raises:
        ValueError: the number of weights differs from the number of score maps, or a weight is negative.
    """
    if len(score_maps) != len(weights):
        raise ValueError(f"got {len(score_maps)} score maps but {len(weights)} weights")
    if any(w < 0 for w in weights):
        raise ValueError(f"weights must not be negative: {list(weights)}")
    fused: dict[Item, float] = {}
    for scores, weight in zip(score_maps, weights):
        for item, value in min_max(scores).items():
            fused[item] = fused.get(item, 0.0) + weight * value
    return fused


def ranked(scores: Mapping[Item, float], limit: int | None = None) -> list[tuple[Item, float]]:
    """Items by descending score (ties keep insertion order), at most `limit` of them."""
    order = sorted(scores.items(), key=lambda pair: -pair[1])
    return order if limit is None else order[:limit]
