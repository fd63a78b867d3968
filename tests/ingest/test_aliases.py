"""Telling when two answers name the same thing."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from qa.ingest.aliases import _name_for, answer_key, find_aliases, same_answer

TEXTS = [
    "Islamic State (IS) has accepted a pledge. He told Voice of America (VOA) on Monday.",
    "The Islamic State (ISIS) group said so.",
]


def test_acronyms_defined_in_the_text() -> None:
    aliases = find_aliases(TEXTS)
    assert aliases[("is",)] == ("islamic", "state")
    assert aliases[("isis",)] == ("islamic", "state")
    assert aliases[("voa",)] == ("voice", "america")


def test_same_answer() -> None:
    aliases = find_aliases(TEXTS)
    assert same_answer("IS", "the Islamic State", aliases)
    assert same_answer("ISIS", "IS", aliases)
    assert same_answer("Shekau", "Abubakar Shekau", aliases)
    assert same_answer("Baghdadi", "Abu Bakr al-Baghdadi", aliases)
    assert not same_answer("Boko Haram", "Islamic State", aliases)
    assert not same_answer("Thursday", "Saturday", aliases)
    assert not same_answer("the", "a", aliases)


def test_answer_key_keeps_acronyms_that_spell_stopwords() -> None:
    assert answer_key("IS") == ("is",)
    assert answer_key("the Islamic State's") == ("islamic", "state")


# The one-pass pattern find_aliases used before it looked for brackets first: the oracle.
_WHOLE_PATTERN = re.compile(
    r"\b((?:[A-Z][\w'’-]*)(?:\s+(?:of|the|and|for|de|al)?\s*[A-Z][\w'’-]*){0,6})\s+\(([A-Z]{2,8})\)"
)


def _aliases_by_whole_pattern(texts: list[str]) -> dict:
    found = {}
    for text in texts:
        for match in _WHOLE_PATTERN.finditer(text):
            name = _name_for(match.group(1).split(), match.group(2))
            if name:
                found[answer_key(match.group(2))] = answer_key(name)
    return found


_PIECES = ["Islamic", "State", "IS", "(IS)", "(ISIS)", "(VOA)", "Voice", "of", "America", "the", "(UN)", "United",
           "Nations", "said", "(", ")", "X", "Al-Qaeda", "(AQ)", "\n", "  ", "and", "De", "Boko", "Haram", "(BH)"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_PIECES), max_size=40).map(" ".join), max_size=4))
def test_looking_for_brackets_first_finds_what_the_whole_pattern_finds(texts: list[str]) -> None:
    assert find_aliases(texts) == _aliases_by_whole_pattern(texts)
