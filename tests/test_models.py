"""The learned linear models: scoring, JSON round trip, and the abstention threshold they carry."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from qa.config import Settings
from qa.confidence import abstention_threshold, confidence_model_name
from qa.ranker import LinearModel, load_model


def test_score_standardises_features_and_missing_ones_count_as_their_mean() -> None:
    model = LinearModel("m", {"a": 2.0, "b": -1.0}, bias=0.5, means={"a": 1.0, "b": 3.0}, scales={"a": 2.0, "b": 1.0})
    assert model.score({"a": 5.0, "b": 4.0}) == pytest.approx(0.5 + 2.0 * 2.0 - 1.0)
    assert model.score({}) == pytest.approx(0.5)
    assert model.probability({}) == pytest.approx(1 / (1 + math.exp(-0.5)))


def test_json_round_trip_keeps_the_threshold(tmp_path: Path) -> None:
    model = LinearModel("conf", {"x": 1.5}, bias=-0.2, means={"x": 0.1}, scales={"x": 2.0}, threshold=0.25)
    (tmp_path / "conf.json").write_text(model.to_json(), encoding="utf-8")
    loaded = load_model("conf", tmp_path)
    assert loaded == model
    assert json.loads(model.to_json())["threshold"] == 0.25


def test_shipped_confidence_models_carry_a_threshold() -> None:
    for name in ("confidence", "reader_confidence"):
        threshold = load_model(name).threshold
        assert threshold is not None and 0.0 < threshold < 1.0, name


def test_abstention_threshold_is_the_setting_else_the_model_in_use() -> None:
    assert abstention_threshold(Settings(abstain_below=0.42)) == 0.42
    with_reader = Settings(abstain_below=None, passage_reader=True)
    without = Settings(abstain_below=None, passage_reader=False)
    assert confidence_model_name(with_reader) == "reader_confidence"
    assert confidence_model_name(without) == "confidence"
    assert confidence_model_name(Settings(passage_reader=True, reader_model="/some/model")) == "confidence"
    assert abstention_threshold(with_reader) == load_model("reader_confidence").threshold
    assert abstention_threshold(without) == load_model("confidence").threshold


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("on", True), ("0", False), ("no", False)])
def test_passage_reader_can_be_switched_by_environment(monkeypatch, value: str, expected: bool) -> None:
    from qa.config import settings_from_env

    monkeypatch.setenv("QA_PASSAGE_READER", value)
    assert settings_from_env().passage_reader is expected
