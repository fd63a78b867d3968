"""Answers keep what makes them true: a currency sign, a magnitude, a percent or a unit."""

from __future__ import annotations

import pytest

from qa.answer.spans import with_units

TEXT = ("The ferry will cost the council £42,000. Fares rose 8% and then 12 per cent. The budget is "
        "48.2 million pounds. About 3,000 people use it, and it opened in 1998; it is 40 km long. Ten people came.")


@pytest.mark.parametrize(
    "number, kept",
    [("42,000", "£42,000"), ("8", "8%"), ("12", "12 per cent"), ("48.2", "48.2 million pounds"),
     ("48.2 million", "48.2 million pounds"), ("3,000", "3,000"), ("1998", "1998"), ("40", "40 km")],
)
def test_a_number_keeps_its_sign_magnitude_and_unit(number: str, kept: str) -> None:
    at = TEXT.index(number)
    start, end = with_units(TEXT, at, at + len(number), 0, len(TEXT))
    assert TEXT[start:end] == kept


def test_words_are_left_as_they_are_and_the_sentence_bounds_the_span() -> None:
    at = TEXT.index("Ten")
    assert with_units(TEXT, at, at + 3, 0, len(TEXT)) == (at, at + 3)  # not a number
    at = TEXT.index("42,000")
    assert with_units(TEXT, at, at + 6, at, len(TEXT)) == (at, at + 6)  # the sign lies before the sentence
