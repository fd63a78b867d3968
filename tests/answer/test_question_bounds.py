"""Questions are bounded: few parts, a time budget, clean text and a well-formed history."""

from __future__ import annotations

import time
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.answer.question import (
    MAX_HISTORY_CHARS, MAX_HISTORY_TURNS, MAX_QUESTION_CHARS, MAX_QUESTION_PARTS, QuestionWarning, analyse,
    clean_history, clean_question,
)
from qa.api import answer_with_index
from qa.indexing.catalog import ensure_index

MANY_PARTS = "Who reopened the bridge" + " and who" * 240 + "?"


def test_a_question_of_hundreds_of_parts_is_cut_to_a_few_with_a_warning() -> None:
    question = clean_question(MANY_PARTS)
    with pytest.warns(QuestionWarning, match=rf"has \d+ parts; only the first {MAX_QUESTION_PARTS} are answered"):
        analysis = analyse(question)
    assert len(analysis.parts) == MAX_QUESTION_PARTS


def test_the_reply_to_a_many_part_question_stays_small(tiny_corpus, fake_settings, fake_embedder) -> None:
    index = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    normal = answer_with_index(index, "Who cut the ribbon?", fake_settings, embedder=fake_embedder)
    with pytest.warns(QuestionWarning):
        started = time.perf_counter()
        long = answer_with_index(index, clean_question(MANY_PARTS), fake_settings, embedder=fake_embedder)
        seconds = time.perf_counter() - started
    assert len(long.parts) <= MAX_QUESTION_PARTS
    assert len(long.text) < 8 * max(len(normal.text), 500) and seconds < 10


def test_parts_past_the_time_budget_are_left_out_with_a_warning(tiny_corpus, fake_settings, fake_embedder) -> None:
    index = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    question = "Who cut the ribbon and when did the bridge reopen?"
    whole = answer_with_index(index, question, fake_settings, embedder=fake_embedder)
    assert len(whole.parts) == 2
    with pytest.warns(QuestionWarning, match="1 of its 2 parts were answered"):
        cut = answer_with_index(index, question, fake_settings, embedder=fake_embedder, deadline=time.monotonic() - 1)
    assert len(cut.parts) == 1 and cut.parts[0] == whole.parts[0]


def test_the_time_budget_must_be_positive(fake_settings) -> None:
    with pytest.raises(ValueError, match="question_seconds"):
        fake_settings.with_(question_seconds=0)


@pytest.mark.parametrize("bad", ["Who \ud800 won?", "\udfff", "Who won?\udbff"])
def test_a_lone_surrogate_is_refused_with_a_clear_message(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid character at position \\d+ .*surrogate") as caught:
        clean_question(bad)
    str(caught.value).encode("utf-8")  # the message itself can be sent anywhere


def test_control_characters_are_dropped() -> None:
    assert clean_question("Who\x00 cut\x07 the\x1b ribbon?\x85") == "Who cut the ribbon?"


@pytest.mark.parametrize(
    ("history", "match"),
    [
        ("who?", "must be a list of \\[question, reply\\] pairs, not str"),
        ({"q": "a"}, "not dict"),
        ([["only a question"]], "turn 1 of the history is not a \\[question, reply\\] pair"),
        ([["q", "a"], "qa"], "turn 2 of the history is not"),
        ([["q", 5]], "turn 1 of the history holds something other than text"),
        ([["q\ud800", "a"]], "turn 1 of the history holds an invalid character"),
    ],
)
def test_malformed_history_gets_a_clear_error(history, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        clean_history(history)


def test_history_is_bounded_and_a_missing_reply_is_empty() -> None:
    turns = [["q", None]] + [[f"q{i}", "r" * (MAX_HISTORY_CHARS + 10)] for i in range(40)]
    cleaned = clean_history(turns)
    assert len(cleaned) == MAX_HISTORY_TURNS and cleaned[-1][0] == "q39"
    assert all(len(reply) == MAX_HISTORY_CHARS for _, reply in cleaned)
    assert clean_history([("q", None)]) == [("q", "")] and clean_history(None) == []


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=2500))
def test_clean_question_gives_clean_bounded_text_or_a_clear_error(raw: str) -> None:
    try:
        text = clean_question(raw)
    except ValueError as error:
        assert "empty" in str(error)
        assert all(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in raw)  # nothing visible was given
        return
    assert text and text == text.strip() and "  " not in text and len(text) <= MAX_QUESTION_CHARS
    assert all(ch == " " or not ch.isspace() for ch in text)
    assert clean_question(text) == text  # cleaning twice changes nothing
    assert len(analyse(text).parts) <= MAX_QUESTION_PARTS


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(), min_size=1, max_size=50))
def test_any_string_with_a_surrogate_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="surrogate"):
        clean_question(raw[: len(raw) // 2] + "\ud834" + raw[len(raw) // 2 :])
