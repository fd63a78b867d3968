"""Telling when two answers name the same thing."""

from __future__ import annotations

from qa.ingest.aliases import answer_key, find_aliases, same_answer

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
