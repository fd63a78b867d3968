"""Entities by regular expression: dates, numbers, amounts and capitalised names.

The fallback annotator when spaCy is not wanted; labels follow spaCy's where they mean
the same (DATE, TIME, CARDINAL, PERCENT, MONEY), and PROPER marks a capitalised name
whose kind (person, group, place) rules cannot tell.
"""

from __future__ import annotations

import re

from qa.types import Entity

_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?"
)
_DAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_NUMBER_WORD = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
    r"eighty|ninety|hundred|hundreds|thousand|thousands|million|millions|billion|dozens?)"
)
_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)"
_SCALE = r"(?:\s(?:hundred|thousand|million|billion|trillion))?"
_QUALIFIER = r"(?:(?:at least|more than|less than|fewer than|about|around|nearly|almost|over|some|up to)\s)?"

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("MONEY", re.compile(rf"{_QUALIFIER}(?:[$£€]\s?{_NUM}{_SCALE}|{_NUM}{_SCALE}\s(?:dollars|euros|pounds))")),
    ("PERCENT", re.compile(rf"{_QUALIFIER}{_NUM}\s?(?:%|per ?cent)")),
    (
        "DATE",
        re.compile(
            rf"\b(?:(?:(?:last|next|this|on|early|late)\s)?{_DAY}(?:,?\s{_MONTH}\s\d{{1,2}})?"
            rf"|{_MONTH}\s\d{{1,2}}(?:st|nd|rd|th)?(?:,\s\d{{4}})?|\d{{1,2}}\s{_MONTH}(?:\s\d{{4}})?"
            rf"|(?:(?:early|late|mid)[- ])?{_MONTH}(?:\s\d{{4}})?"
            rf"|(?:in\s)?(?:1[5-9]|20)\d{{2}}s?"
            rf"|(?:last|next|this)\s(?:week|month|year|weekend|spring|summer|autumn|fall|winter)"
            rf"|(?:yesterday|today|tomorrow|earlier this (?:week|month|year)))\b"
        ),
    ),
    ("TIME", re.compile(r"\b\d{1,2}(?::\d{2})?\s?(?:a\.m\.|p\.m\.|am|pm)|\b(?:noon|midnight)\b")),
    (
        "CARDINAL",
        re.compile(rf"\b{_QUALIFIER}(?:{_NUM}{_SCALE}|{_NUMBER_WORD}(?:[- ]{_NUMBER_WORD})*)\b", re.IGNORECASE),
    ),
]
_CONNECTOR = r"(?:\s(?:of|the|de|al|bin|ibn|van|von|der|la)\s|\s|-)"
_NAME_WORD = r"(?:[A-Z][\w'’.-]*|(?:al|el|ad|as|ash|bin|ibn)-[A-Z][\w'’-]*)"
_PROPER = re.compile(rf"\b[A-Z][\w'’.-]*(?:{_CONNECTOR}{_NAME_WORD})*")
_CAPITALISED = re.compile(r"\b[A-Z][\w'’-]*")


def rule_entities(text: str) -> list[Entity]:
    """Dates, times, amounts, numbers and capitalised names found in `text`."""
    taken: list[tuple[int, int]] = []
    entities: list[Entity] = []
    for label, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            span = match.span()
            if span[1] > span[0] and not _overlaps(span, taken):
                taken.append(span)
                entities.append(Entity(span[0], span[1], label))
    names = _names_seen_mid_sentence(text)
    for match in _PROPER.finditer(text):
        start, end = match.span()
        while end > start and text[end - 1] in ".-'’":
            end -= 1
        first_word = re.match(r"[\w'’-]+", text[start:end])
        if first_word and _opens_sentence(text, start) and first_word.group() not in names:
            # "The", "Itself", "We" open sentences; a word counts as a name only if it is
            # also capitalised somewhere a sentence does not begin.
            rest = text.find(" ", start, end)
            if rest == -1:
                continue
            start = rest + 1
        if end > start and text[start].isupper() and not _overlaps((start, end), taken):
            entities.append(Entity(start, end, "PROPER"))
    return sorted(entities, key=lambda e: (e.start, e.end))


def _names_seen_mid_sentence(text: str) -> set[str]:
    return {m.group() for m in _CAPITALISED.finditer(text) if not _opens_sentence(text, m.start())}


def _opens_sentence(text: str, position: int) -> bool:
    """Whether a word at `position` is the first of its sentence or line."""
    i = position - 1
    if i >= 0 and text[i] in "\"'“‘(":
        i -= 1
    spaces = 0
    while i >= 0 and text[i] in " \t\xa0":
        i, spaces = i - 1, spaces + 1
    if i < 0 or text[i] == "\n":
        return True
    if text[i] in "\"'”’)":
        i -= 1
    return spaces > 0 and i >= 0 and text[i] in ".!?"


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in taken)
