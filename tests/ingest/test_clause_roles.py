"""Clause roles from spaCy's parse, and the span features that use them."""

from __future__ import annotations

import pytest

from qa.ingest.annotate import clause_role, load_spacy
from qa.answer.question import asks_subject
from qa.answer.spans import SpanCandidate
from qa.answer.span_features import _role_features
from qa.text import stem


@pytest.fixture(scope="module")
def nlp():
    return load_spacy()


def role_of(nlp, sentence: str, phrase: str) -> tuple[str, str]:
    doc = nlp(sentence)
    start = sentence.index(phrase)
    span = doc.char_span(start, start + len(phrase), alignment_mode="expand")
    return clause_role(span[-1])


@pytest.mark.parametrize(
    ("sentence", "phrase", "expected"),
    [
        ("Islamic State has accepted a pledge from Boko Haram.", "State", ("subject", "accepted")),
        ("The group known as ISIS has accepted the pledge.", "ISIS", ("subject", "accepted")),
        ("ISIS has accepted Boko Haram's pledge of allegiance.", "Haram", ("possessor", "pledge")),
        ("ISIS has accepted Boko Haram's pledge of allegiance.", "pledge", ("object", "accepted")),
        ("The pledge was accepted by the Islamic State.", "State", ("subject", "accepted")),
        ("The pledge was accepted by the Islamic State.", "pledge", ("object", "accepted")),
        ("The keeper retired on Tuesday.", "Tuesday", ("oblique", "retired")),
    ],
)
def test_logical_roles(nlp, sentence: str, phrase: str, expected: tuple[str, str]) -> None:
    assert role_of(nlp, sentence, phrase) == expected


def test_subject_of_the_question_verb_is_marked_and_a_possessor_is_not() -> None:
    avoid = frozenset(stem(w) for w in ("accepted", "pledge"))
    doer = SpanCandidate(0, 0, 4, "ORG", 1.0, "subject", "accepted")
    owner = SpanCandidate(0, 20, 30, "PERSON", 1.0, "possessor", "pledge")
    elsewhere = SpanCandidate(0, 40, 50, "PERSON", 1.0, "subject", "made")
    assert _role_features(doer, True, avoid)["subject_question_subject_of_match"] == 1.0
    assert _role_features(doer, False, avoid)["subject_question_subject_of_match"] == 0.0
    assert _role_features(doer, False, avoid)["subject_of_match"] == 1.0
    assert _role_features(owner, True, avoid)["possessor"] == 1.0
    assert _role_features(owner, True, avoid)["subject_of_match"] == 0.0
    assert _role_features(elsewhere, True, avoid)["subject_of_match"] == 0.0


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who accepted the pledge?", True),
        ("Who has pledged allegiance?", True),
        ("Who did Boko Haram pledge allegiance to?", False),
        ("Who is the leader of ISIS?", False),  # a copula leaves it open
        ("When was the pledge accepted?", False),
    ],
)
def test_asks_subject(question: str, expected: bool) -> None:
    assert asks_subject(question) is expected
