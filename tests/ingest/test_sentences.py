"""Sentence boundaries on hard news prose; every span maps back to the text exactly."""

from __future__ import annotations

import pytest

from qa.ingest.sentences import MAX_SENTENCE_CHARS, split_sentences


def sentences(text: str) -> list[str]:
    spans = split_sentences(text)
    for start, end in spans:
        assert text[start:end] == text[start:end].strip()
    return [text[start:end] for start, end in spans]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Mr. Smith met Gen. Adams in Washington. The U.S. Army said Dr. Jones left.", ["Mr. Smith met Gen. Adams in Washington.", "The U.S. Army said Dr. Jones left."], id="abbreviations_do_not_end_sentences"),
        pytest.param("The coalition is led by the U.S. The group denied it.", ["The coalition is led by the U.S.", "The group denied it."], id="acronym_can_end_a_sentence_before_a_common_opener"),
        pytest.param('He said "the caliph... has accepted the allegiance" of the group. It was Thursday.', ['He said "the caliph... has accepted the allegiance" of the group.', "It was Thursday."], id="ellipsis_inside_a_quotation_keeps_the_sentence"),
        pytest.param('He said: "We will obey." "We call on Muslims," he added. Then he left.', ['He said: "We will obey."', '"We call on Muslims," he added.', "Then he left."], id="quotation_ending_a_sentence"),
        pytest.param('"Why now?" she asked. "Go!" he shouted.', ['"Why now?" she asked.', '"Go!" he shouted.'], id="question_and_exclamation_marks_inside_quotes"),
        pytest.param("Growing influence\nIS spokesman speaks\n\nThe tape was released on Thursday.", ["Growing influence", "IS spokesman speaks", "The tape was released on Thursday."], id="headlines_without_full_stops_stand_alone"),
        pytest.param("The minister said the plan\nwould be ready next year. Critics disagreed.", ["The minister said the plan\nwould be ready next year.", "Critics disagreed."], id="hard_wrapped_lines_are_joined"),
        pytest.param("Prices rose 3.5 percent, J. K. Rowling said. No. 10 denied it.", ["Prices rose 3.5 percent, J. K. Rowling said.", "No. 10 denied it."], id="numbers_and_initials"),
    ],
)
def test_sentence_boundaries(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_spaced_and_unspaced_ellipses() -> None:
    text = "the caliph ... has accepted it. the caliph...has accepted it."
    assert len(sentences(text)) == 1  # lower case after the full stop: not a new sentence


def test_over_long_sentences_are_cut_at_soft_breaks() -> None:
    clause = "the committee discussed the budget at length"
    text = "; ".join([clause] * 20) + "."
    spans = split_sentences(text)
    assert len(spans) > 1
    assert all(end - start <= MAX_SENTENCE_CHARS for start, end in spans)
    assert "".join(text[s:e] for s, e in spans).replace(" ", "") == text.replace(" ", "")


@pytest.mark.parametrize("text", ["", "   \n\n  ", "\n"])
def test_blank_text_has_no_sentences(text: str) -> None:
    assert split_sentences(text) == []


def test_crlf_line_endings() -> None:
    text = "First line\r\nSecond sentence here. Third one.\r\n"
    assert sentences(text) == ["First line", "Second sentence here.", "Third one."]
