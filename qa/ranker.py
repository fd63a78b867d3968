"""Linear scoring models over named features, stored as JSON beside the code.

The weights are learned by `eval/train.py` on the training half of SQuAD (never on the
project's own questions); until a weights file exists, hand-set defaults apply.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parent / "models"


@dataclass(frozen=True)
class LinearModel:
    """score = bias + sum(weight[f] * (feature[f] - mean[f]) / scale[f])."""

    name: str
    weights: dict[str, float]
    bias: float = 0.0
    means: dict[str, float] | None = None
    scales: dict[str, float] | None = None
    threshold: float | None = None  # confidence models: decline answers under this probability

    def score(self, features: dict[str, float]) -> float:
        """The raw (logit) score of one feature vector; missing features count as their mean."""
        total = self.bias
        for name, weight in self.weights.items():
            mean = (self.means or {}).get(name, 0.0)
            scale = (self.scales or {}).get(name, 1.0) or 1.0
            total += weight * (features.get(name, mean) - mean) / scale
        return total

    def probability(self, features: dict[str, float]) -> float:
        """The logistic of `score`, in (0, 1)."""
        return sigmoid(self.score(features))

    def to_json(self) -> str:
        """The model as JSON, readable by `load_model`."""
        return json.dumps(
            {
                "name": self.name, "weights": self.weights, "bias": self.bias, "means": self.means,
                "scales": self.scales, "threshold": self.threshold,
            },
            indent=2,
            sort_keys=True,
        )


def sigmoid(x: float) -> float:
    """The logistic function, safe for large |x|."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


@lru_cache(maxsize=None)
def load_model(name: str, folder: Path = MODELS_DIR) -> LinearModel:
    """The model `name` from `folder/<name>.json`, or the built-in defaults."""
    path = folder / f"{name}.json"
    if path.is_file():
        data = json.loads(path.read_text(encoding="utf-8"))
        return LinearModel(
            name=data["name"],
            weights={k: float(v) for k, v in data["weights"].items()},
            bias=float(data.get("bias", 0.0)),
            means=data.get("means"),
            scales=data.get("scales"),
            threshold=data.get("threshold"),
        )
    return DEFAULTS[name]


DEFAULTS = {
    "sentence": LinearModel(
        "sentence",
        {
            "chunk_relative": 1.0,
            "chunk_reciprocal_rank": 0.5,
            "dense": 3.0,
            "bm25_relative": 1.0,
            "overlap": 2.5,
            "bigram": 1.0,
            "proximity": 0.5,
            "neighbour_overlap": 0.3,
            "has_typed_span": 1.5,
            "log_length": 0.1,
            "lede": 0.2,
        },
        bias=-5.0,
    ),
    "span": LinearModel(
        "span",
        {
            "sentence_probability": 4.0,
            "label_prior": 2.0,
            "adjacent_match": 1.0,
            "support": 1.0,
            "in_question": -2.0,
            "log_chars": -0.3,
        },
        bias=-3.0,
    ),
    "confidence": LinearModel(
        "confidence",
        {"span_probability": 3.0, "best_sentence": 2.0, "coverage": 2.0, "unseen_words": -4.0},
        bias=-2.5,
    ),
    "rerank": LinearModel("rerank", {"sentence_logit": 1.0, "reader_relevance": 1.0}, bias=0.0),
    "reader_span": LinearModel(
        "reader_span", {"read_score": 0.3, "sentence_probability": 3.0, "support": 1.0, "in_question": -2.0}, bias=-4.0
    ),
    "reader_confidence": LinearModel(
        "reader_confidence",
        {"span_probability": 3.0, "reader_relevance": 0.5, "coverage": 2.0, "unseen_words": -4.0},
        bias=-2.5,
    ),
}
