"""Learned models, stored as data with a contract beside this file.

Each `<name>.json` here is a model card and its weights in one file: its name, the card
version, the feature names it was fitted on, what it was trained on, figures measured
on held-out data, and for a logistic model its weights. The code that computes the
features declares their names (`SENTENCE_FEATURES`, `SPAN_FEATURES`, ...); `load_model`
refuses a file whose feature names differ from the declared ones, with a message that
says how to retrain, instead of quietly filling gaps.

The weights are fitted by `python -m train.stacking` (logistic models) and
`python -m train.reader` (the passage reader, `passage_reader.onnx`: int8 ONNX, one
version kept, at most 25 MB like every file here).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from qa.errors import ModelError

MODELS_DIR = Path(__file__).resolve().parent
CARD_VERSION = 1


@dataclass(frozen=True)
class LinearModel:
    """A logistic model: score = bias + sum(weight[f] * (feature[f] - mean[f]) / scale[f]).

    `card` holds what the file says about the model besides its weights (training data,
    held-out figures, notes); `threshold`, on confidence models, is the probability under
    which an answer is declined.
    """

    name: str
    weights: dict[str, float]
    bias: float = 0.0
    means: dict[str, float] | None = None
    scales: dict[str, float] | None = None
    threshold: float | None = None
    card: dict[str, Any] = field(default_factory=dict, compare=False)
    # (name, weight, mean, scale) of each feature in the weights' order, worked out once: the
    # sentence and span models score hundreds of rows a question
    _terms: tuple[tuple[str, float, float, float], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        means, scales = self.means or {}, self.scales or {}
        terms = tuple((n, w, means.get(n, 0.0), scales.get(n, 1.0) or 1.0) for n, w in self.weights.items())
        object.__setattr__(self, "_terms", terms)  # frozen: set as the dataclass's own __init__ sets fields

    @property
    def features(self) -> tuple[str, ...]:
        """The feature names the model weighs, sorted."""
        return tuple(sorted(self.weights))

    def score(self, features: dict[str, float]) -> float:
        """The raw (logit) score of one feature row.

        A feature the row does not set counts as its training mean, so it adds nothing;
        this happens only for the one-hot `type_*_label_*` indicators, of which a row sets
        one (see `qa.answer.span_features`).
        """
        total = self.bias
        for name, weight, mean, scale in self._terms:
            total += weight * (features.get(name, mean) - mean) / scale
        return total

    def probability(self, features: dict[str, float]) -> float:
        """The logistic of `score`, in (0, 1)."""
        return sigmoid(self.score(features))

    @classmethod
    def from_json(cls, text: str) -> "LinearModel":
        """The model a card written by `to_json` describes.

        Raises:
            ValueError: not JSON, not a card of this version, or its features and weights disagree.
        """
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("card_version") != CARD_VERSION or "name" not in data:
            raise ValueError(f"not a version-{CARD_VERSION} model card")
        weights = {k: float(v) for k, v in data["weights"].items()}
        if sorted(data.get("features", ())) != sorted(weights):
            raise ValueError("its feature list differs from its weights")
        return cls(
            name=data["name"],
            weights=weights,
            bias=float(data.get("bias", 0.0)),
            means=data.get("means"),
            scales=data.get("scales"),
            threshold=data.get("threshold"),
            card={k: v for k, v in data.items() if k not in _WEIGHT_KEYS},
        )

    def to_json(self) -> str:
        """The model card as JSON, readable by `from_json`."""
        return json.dumps(
            {
                **self.card,
                "name": self.name,
                "card_version": CARD_VERSION,
                "kind": "logistic",
                "features": list(self.features),
                "weights": self.weights,
                "bias": self.bias,
                "means": self.means,
                "scales": self.scales,
                "threshold": self.threshold,
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


def load_model(name: str, features: Iterable[str], folder: Path = MODELS_DIR) -> LinearModel:
    """The model `name` from `folder/<name>.json`, checked against the code's feature names.

    Args:
        name: the model's name ("sentence", "span", "confidence", ...).
        features: the feature names the calling code computes.
        folder: where model files live.

    Raises:
        ModelError: the file is missing, unreadable, of another card version, or was fitted
            on other features than `features`.
    """
    return _load(name, tuple(sorted(set(features))), Path(folder))


@lru_cache(maxsize=None)
def _load(name: str, expected: tuple[str, ...], folder: Path) -> LinearModel:
    path = folder / f"{name}.json"
    retrain = f"retrain it with `python -m train.stacking --stages {name}`"
    try:
        model = LinearModel.from_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ModelError(f"the model file {path} is missing; reinstall the package or {retrain}") from error
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise ModelError(f"the model file {path} is unreadable ({error}); {retrain}") from error
    if model.name != name:
        raise ModelError(f"{path} holds model {model.name!r}, not {name!r}; {retrain}")
    if model.features != expected:
        missing = sorted(set(expected) - set(model.features))
        extra = sorted(set(model.features) - set(expected))
        raise ModelError(
            f"{path} was fitted on other features than the code computes "
            f"(missing from the file: {missing or 'none'}; unknown to the code: {extra or 'none'}); {retrain}"
        )
    return model


_WEIGHT_KEYS = frozenset({"name", "card_version", "kind", "features", "weights", "bias", "means", "scales", "threshold"})


def clear_cache() -> None:
    """Forget loaded models (training rewrites the files and reloads them)."""
    _load.cache_clear()
