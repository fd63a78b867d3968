"""Relative days in answers ("Thursday", "yesterday") resolved against the article's publication date.

News is written relative to its day: "on Thursday" in an article published on Friday
13 March 2015 means 12 March. The rule is the usual reading of news copy: a bare weekday
is the most recent such day on or before publication; "last Thursday" the most recent
one before it; "yesterday", "today", "tonight", "last night" count from publication.
Spans of a week or more ("last week") name no single day and are left as they are.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_PART_OF_DAY = r"(?:\s+(?:morning|afternoon|evening|night))?"
_WEEKDAY = re.compile(
    rf"^(?:(?:on|by|since|until|from|early|late)\s+)*(?P<last>last\s+|this\s+|this\s+past\s+|past\s+)?"
    rf"(?P<day>{'|'.join(WEEKDAYS)}){_PART_OF_DAY}$"
)
_OFFSETS = {
    "today": 0, "tonight": 0, "this morning": 0, "this afternoon": 0, "this evening": 0, "earlier today": 0,
    "yesterday": 1, "last night": 1, "yesterday morning": 1, "yesterday afternoon": 1, "yesterday evening": 1,
    "the day before yesterday": 2,
}


def resolve_day(phrase: str, published: date | None) -> date | None:
    """The day a relative phrase names, seen from an article published on `published`.

    Args:
        phrase: an answer span such as "Thursday", "on Thursday", "last Thursday", "yesterday".
        published: the article's publication date (None: nothing can be resolved).

    Returns:
        The day, or None when the phrase is not a single relative day or the date is unknown.
    """
    if published is None:
        return None
    text = " ".join(re.sub(r"[^\w\s]", " ", phrase.lower()).split())
    if text in _OFFSETS:
        return published - timedelta(days=_OFFSETS[text])
    match = _WEEKDAY.match(text)
    if not match:
        return None
    back = (published.weekday() - WEEKDAYS.index(match.group("day"))) % 7
    if match.group("last") and match.group("last").strip() in ("last", "past", "this past") and back == 0:
        back = 7  # "last Thursday" written on a Thursday is a week ago
    return published - timedelta(days=back)


def format_day(day: date | str) -> str:
    """A day as news prints it: "12 March 2015" (from a date or an ISO string)."""
    value = date.fromisoformat(day) if isinstance(day, str) else day
    return f"{value.day} {value.strftime('%B')} {value.year}"


def with_day(answer: str, resolved: str) -> str:
    """The answer with its resolved day beside it, "Thursday (12 March 2015)"; as is when none."""
    return f"{answer} ({format_day(resolved)})" if resolved else answer
