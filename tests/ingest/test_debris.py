"""Scraped-page debris: captions, credits, bylines, prompts and separators are marked, never prose."""

from __future__ import annotations

import pytest

from qa.ingest.debris import MAX_DEBRIS_CHARS, debris_spans

DEBRIS = [
    "Image copyright Getty Images",
    "Advertisement",
    "CNN —",
    "Washington CNN —",
    "New York CNN Business —",
    "___",
    "♦",
    "– David Jackson",
    "-- Candy Woodall",
    "By Ann Lee and Tom Reyes, Reuters",
    "Contributing: The Associated Press",
    "From USA TODAY Network and wire reports",
    "Get CNN Health's weekly newsletter Sign up here to get The Results Are In every Tuesday.",
    "Would you like to receive The WeekDay newsletter ?",
    "If you wish to object to the use of your data in this way, please tick here.",
    "Follow every game: Latest NBA Scores and Schedules",
    "NFL STATS CENTRAL: The latest NFL scores, schedules, odds, stats and more.",
    "Read more here.",
    "For the full story, click here.",
    "Support local journalism. Subscribe to azcentral.com today.",
    "Prices were accurate at the time this article was published but may change over time.",
    "Photo: Jane Doe/AP",
]
PROSE = [
    "The council approved the budget on Tuesday, the mayor said.",
    "- Residents were told to stay indoors until the water is safe.",
    "By Sunday the storm had passed and the ferries were running again.",
    "Readers who signed up for the newsletter last year got a refund, the company said in a statement to investors.",
    "The Associated Press reported that the vote was delayed until March.",
    "AP photographers were among the first to reach the village.",
]


@pytest.mark.parametrize("line", DEBRIS)
def test_page_furniture_is_debris(line: str) -> None:
    text = f"The bridge reopened on Monday.\n\n{line}\n\nTraffic was light."
    assert [text[a:b] for a, b in debris_spans(text)] == [line]


@pytest.mark.parametrize("line", PROSE)
def test_prose_is_never_debris(line: str) -> None:
    assert debris_spans(f"{line}\n") == []


def test_no_long_line_is_debris_whatever_it_says() -> None:
    line = ("Read more about how image copyright works: " + "the court ruled on it. " * 20)[: MAX_DEBRIS_CHARS + 1]
    assert len(line) > MAX_DEBRIS_CHARS and debris_spans(line) == []
