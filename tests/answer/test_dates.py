"""Relative days resolved against a publication date (pure rules)."""

from __future__ import annotations

from datetime import date

import pytest

from qa.answer.dates import format_day, resolve_day, with_day

FRIDAY = date(2015, 3, 13)


@pytest.mark.parametrize(
    "phrase, day",
    [
        ("Thursday", date(2015, 3, 12)), ("on Thursday", date(2015, 3, 12)), ("Thursday night", date(2015, 3, 12)),
        ("last Thursday", date(2015, 3, 12)), ("Friday", FRIDAY), ("last Friday", date(2015, 3, 6)),
        ("Saturday", date(2015, 3, 7)), ("yesterday", date(2015, 3, 12)), ("today", FRIDAY),
        ("last night", date(2015, 3, 12)), ("the day before yesterday", date(2015, 3, 11)),
        ("last week", None), ("March 12", None), ("Islamic State", None),
    ],
)
def test_a_relative_day_is_the_most_recent_one_on_or_before_publication(phrase: str, day: date | None) -> None:
    assert resolve_day(phrase, FRIDAY) == day


def test_nothing_is_resolved_without_a_publication_date() -> None:
    assert resolve_day("Thursday", None) is None


def test_the_day_is_shown_beside_the_answer() -> None:
    assert format_day("2015-03-12") == "12 March 2015"
    assert with_day("Thursday", "2015-03-12") == "Thursday (12 March 2015)"
    assert with_day("Thursday", "") == "Thursday"
