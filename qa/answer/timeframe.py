"""The time a question asks about, as a window of publication days before the day it is asked.

News questions carry their time in words: "Which show was recently green lit?", "Who won
the election this week?". Asked as of a day, such a question is about articles published
in a window before that day: this week is the 7 days up to it, last week the 14 (reports of
last week's events run into this one), this month from its 1st, "recently" / "latest" the
30 days before. A question without time words has no window, but is read twice: over every
article and over the latest week's alone (`latest_week`), the surer answer kept, so that of
two reports of a recurring event the newer one wins when it is at least as clear. Every
question is answered only from articles published on or before the day it is asked
(articles of unknown date always count).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

RECENT_DAYS = 30  # "recently", "latest", "most recent": the month before the day asked
LATEST_WEEK_DAYS = 7  # a question without time words also reads the week up to the day asked


@dataclass(frozen=True)
class TimeWindow:
    """Publication days a question is about, inclusive, and the words of the question that set them."""

    start: date
    end: date
    words: str

    def admits(self, published: date | None) -> bool:
        """Whether an article published on `published` lies in the window (an undated one does not)."""
        return published is not None and self.start <= published <= self.end

    def describe(self) -> str:
        """The window in words: "articles of 1–7 Jan 2023"."""
        return f"articles of {format_range(self.start, self.end)}"


def _days(back: int):  # noqa: ANN202
    return lambda day: (day - timedelta(days=back), day)


def _month(day: date, months_back: int) -> tuple[date, date]:
    year, month = day.year, day.month - months_back
    while month < 1:
        year, month = year - 1, month + 12
    return date(year, month, 1), day


# (pattern, the window it sets as of a day); the first match in this order wins
_RULES = (
    (re.compile(r"\b(?:yesterday|last night)\b", re.I), _days(1)),
    (re.compile(r"\b(?:today|tonight|this morning|this afternoon|this evening)\b", re.I), _days(0)),
    (re.compile(r"\b(?:this|the) (?:past |last )?weekend\b|\bover the weekend\b", re.I), _days(6)),
    (re.compile(r"\b(?:this|the) past week\b|\bthis week\b|\bpast (?:seven|7) days\b", re.I), _days(6)),
    (re.compile(r"\blast week\b|\bpast (?:two|2|few) weeks\b", re.I), _days(13)),
    (re.compile(r"\bthis month\b", re.I), lambda day: _month(day, 0)),
    (re.compile(r"\blast month\b|\bpast month\b", re.I), lambda day: _month(day, 1)),
    (re.compile(r"\b(?:recently|recent|latest|most recently|newly|lately)\b", re.I), _days(RECENT_DAYS - 1)),
    (re.compile(r"\bthis year\b", re.I), lambda day: (date(day.year, 1, 1), day)),
)


def time_window(question: str, as_of: date) -> TimeWindow | None:
    """The window of publication days `question` asks about, as of the day `as_of`; None
    when it names no time."""
    for pattern, window in _RULES:
        match = pattern.search(question)
        if match:
            start, end = window(as_of)
            return TimeWindow(start, end, match.group(0))
    return None


def latest_week(as_of: date) -> TimeWindow:
    """The week up to `as_of`: a question that names no time is also answered from it alone,
    and that answer is kept when it is the surer (news is asked about what is new)."""
    return TimeWindow(as_of - timedelta(days=LATEST_WEEK_DAYS - 1), as_of, "")


def format_range(start: date, end: date) -> str:
    """Two days as a short range: "1–7 Jan 2023", "28 Dec 2022 – 3 Jan 2023", "5 Jan 2023"."""
    if start == end:
        return f"{start.day} {start:%b %Y}"
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{end.day} {end:%b %Y}"
    if start.year == end.year:
        return f"{start.day} {start:%b} – {end.day} {end:%b %Y}"
    return f"{start.day} {start:%b %Y} – {end.day} {end:%b %Y}"
