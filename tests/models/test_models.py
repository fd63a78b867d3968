"""The learned linear models: scoring, JSON round trip, and the abstention threshold they carry."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

from train.stacking import STAGE_FEATURES as SHIPPED  # the features each trained model's code computes
from qa.answer.confidence import CONFIDENCE_FEATURES, abstention_threshold
from qa.answer.decide import threshold_for
from qa.config import Settings
from qa.errors import ModelError
from qa.models import MODELS_DIR, LinearModel, load_model


def test_score_standardises_features_and_missing_ones_count_as_their_mean() -> None:
    model = LinearModel("m", {"a": 2.0, "b": -1.0}, bias=0.5, means={"a": 1.0, "b": 3.0}, scales={"a": 2.0, "b": 1.0})
    assert model.score({"a": 5.0, "b": 4.0}) == pytest.approx(0.5 + 2.0 * 2.0 - 1.0)
    assert model.score({}) == pytest.approx(0.5)
    assert model.probability({}) == pytest.approx(1 / (1 + math.exp(-0.5)))
    # a model made from another scores with its own weights (they are worked out when it is made)
    other = replace(model, weights={"a": 1.0}, scales={"a": 0.0})  # a zero scale counts as 1
    assert other.score({"a": 5.0, "b": 4.0}) == pytest.approx(0.5 + 4.0) and other == LinearModel(
        "m", {"a": 1.0}, bias=0.5, means={"a": 1.0, "b": 3.0}, scales={"a": 0.0}
    )


def test_json_round_trip_keeps_the_threshold_and_the_card(tmp_path: Path) -> None:
    card = {"trained_on": "a test", "held_out": "none"}
    model = LinearModel("conf", {"x": 1.5}, bias=-0.2, means={"x": 0.1}, scales={"x": 2.0}, threshold=0.25, card=card)
    (tmp_path / "conf.json").write_text(model.to_json(), encoding="utf-8")
    loaded = load_model("conf", ["x"], tmp_path)
    assert loaded == model and loaded.card["trained_on"] == "a test"
    assert json.loads(model.to_json())["threshold"] == 0.25


def test_a_model_fitted_on_other_features_is_refused_with_a_fix(tmp_path: Path) -> None:
    (tmp_path / "m.json").write_text(LinearModel("m", {"x": 1.0, "old": 2.0}).to_json(), encoding="utf-8")
    with pytest.raises(ModelError, match=r"missing from the file: \['new'\].*unknown to the code: \['old'\].*train.stacking"):
        load_model("m", ["x", "new"], tmp_path)


def test_a_file_without_a_card_is_refused(tmp_path: Path) -> None:
    (tmp_path / "m.json").write_text(json.dumps({"name": "m", "weights": {"x": 1.0}}), encoding="utf-8")
    with pytest.raises(ModelError, match="unreadable.*version-1 model card"):
        load_model("m", ["x"], tmp_path)
    with pytest.raises(ModelError, match="missing"):
        load_model("absent", ["x"], tmp_path)


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_every_shipped_model_matches_its_code_and_says_where_it_came_from(name: str) -> None:
    model = load_model(name, SHIPPED[name])
    assert set(model.features) == set(SHIPPED[name])
    assert {"trained_on", "reproduce", "held_out"} <= set(model.card)
    assert "seed" in model.card["trained_on"]  # states that the seed questions were never used


def test_shipped_confidence_models_carry_a_threshold() -> None:
    for name in ("confidence", "reader_confidence"):
        threshold = load_model(name, CONFIDENCE_FEATURES).threshold
        assert threshold is not None and 0.0 < threshold < 1.0, name


def test_every_model_file_is_listed_here() -> None:
    assert {p.stem for p in MODELS_DIR.glob("*.json")} == set(SHIPPED) | {"passage_reader"}  # + the reader's card


def test_shipped_model_files_are_small_and_one_reader_version_is_kept() -> None:
    files = [p for p in MODELS_DIR.iterdir() if p.is_file() and p.suffix != ".py"]
    assert all(p.stat().st_size <= 25 * 2**20 for p in files), [(p.name, p.stat().st_size) for p in files]
    # the network, its card, and its trained tensors (fp16) for the next training run to continue from
    readers = sorted(p.name for p in files if p.stem.startswith("passage_reader"))
    assert readers == ["passage_reader.json", "passage_reader.onnx", "passage_reader.safetensors"]


def test_the_shipped_reader_has_a_card_that_describes_it() -> None:
    from qa.read.passage import WEIGHTS, read_card

    card = read_card(WEIGHTS)  # checks the file's SHA-256, base model, inputs and outputs
    assert {"trained_on", "training", "reproduce", "held_out"} <= set(card)
    assert "seed" in card["trained_on"] and "held-out" in card["held_out"]["questions"]
    shipped = [c for c in card["held_out"]["checkpoints"] if c.get("shipped")]
    assert len(shipped) == 1 and 0 < shipped[0]["heldout_f1"] <= 1 and shipped[0] == card["held_out"]["checkpoints"][-1]


def test_a_reader_whose_card_is_missing_or_describes_another_file_is_refused(tmp_path: Path) -> None:
    from qa.read.passage import WEIGHTS, PassageReader, card_path, read_card, write_card

    weights = tmp_path / "passage_reader.onnx"
    weights.write_bytes(b"not the network the card describes")
    with pytest.raises(ModelError, match="model card .* is missing.*train.reader --export-only"):
        PassageReader(weights)
    (tmp_path / "passage_reader.json").write_bytes(card_path(WEIGHTS).read_bytes())  # the shipped reader's card
    with pytest.raises(ModelError, match=r"does not describe .*\(it differs in sha256\)"):
        read_card(weights)
    write_card(weights, {"trained_on": "a test"})
    assert read_card(weights)["trained_on"] == "a test"  # a card written for the file is read back


def test_abstention_threshold_is_the_setting_else_the_model_in_use() -> None:
    assert abstention_threshold(Settings(abstain_below=0.42), "confidence") == 0.42
    assert threshold_for(Settings(abstain_below=0.42)) == 0.42
    with_reader = Settings(abstain_below=None, passage_reader=True)
    without = Settings(abstain_below=None, passage_reader=False)
    assert threshold_for(with_reader) == load_model("reader_confidence", CONFIDENCE_FEATURES).threshold
    assert threshold_for(without) == load_model("confidence", CONFIDENCE_FEATURES).threshold


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("on", True), ("0", False), ("no", False)])
def test_passage_reader_can_be_switched_by_environment(monkeypatch, value: str, expected: bool) -> None:
    from qa.config import settings_from_env

    monkeypatch.setenv("QA_PASSAGE_READER", value)
    assert settings_from_env().passage_reader is expected


@pytest.mark.parametrize("variable, setting", [("QA_READ_SENTENCES", "read_sentences"), ("QA_QUESTION_SECONDS", "question_seconds")])
def test_whole_number_settings_can_be_set_by_environment_and_bad_values_are_refused(
    monkeypatch, variable: str, setting: str
) -> None:
    from qa.config import settings_from_env

    monkeypatch.setenv(variable, "4")
    assert getattr(settings_from_env(), setting) == 4
    for bad in ("0", "soon"):
        monkeypatch.setenv(variable, bad)
        with pytest.raises(ValueError, match=f"{variable} must be a whole number of at least 1"):
            settings_from_env()


def test_the_reader_reads_a_batch_once_and_gives_the_same_readings_again() -> None:
    from qa.read.passage import PassageReader

    reader = PassageReader()
    runs = []
    forward = reader._forward
    reader._forward = lambda encoded: runs.append(1) or forward(encoded)  # counts the network's runs
    question, passages = "Who repaired the bridge?", ["Acme Ltd repaired the bridge in May.", "The bridge reopened."]
    contexts = ["Bridge reopens", "Bridge reopens"]
    first = reader.read(question, passages, contexts)
    assert reader.read(question, list(passages), list(contexts)) == first and len(runs) == 1
    # another batch, even one holding the same pair, is read by the network: its int8 numbers depend on the batch
    reader.read(question, passages[:1], contexts[:1])
    assert len(runs) == 2
