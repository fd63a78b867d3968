"""The regular-expression annotator: labels and exact offsets."""

from __future__ import annotations

import pytest

from qa.ingest.rules import rule_entities


def labelled(text: str) -> list[tuple[str, str]]:
    return [(text[e.start : e.end], e.label) for e in rule_entities(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The bridge reopened on Monday.", ("on Monday", "DATE")),
        ("It happened in March 2015 again.", ("March 2015", "DATE")),
        ("The repairs cost $40 million in all.", ("$40 million", "MONEY")),
        ("Turnout rose to 65 percent this year.", ("65 percent", "PERCENT")),
        ("She left at 9 a.m. sharp.", ("9 a.m.", "TIME")),
        ("More than 2,000 people came.", ("More than 2,000", "CARDINAL")),
        ("They met Anna Lind there.", ("Anna Lind", "PROPER")),
    ],
)
def test_labels_and_offsets(text: str, expected: tuple[str, str]) -> None:
    assert expected in labelled(text)


def test_a_capitalised_sentence_opener_is_not_a_name_unless_seen_elsewhere() -> None:
    found = [span for span, _ in labelled("The storm came. Officials said Storm Ellis was strong.")]
    assert "The" not in found and "Storm Ellis" in found


def test_entities_do_not_overlap_and_come_in_text_order() -> None:
    text = "On Tuesday, March 9, Mayor Anna Lind of Port Ellis paid $3.5 million for 12 boats."
    entities = rule_entities(text)
    assert [(e.start, e.end) for e in entities] == sorted((e.start, e.end) for e in entities)
    for earlier, later in zip(entities, entities[1:]):
        assert earlier.end <= later.start
