"""Find web-page debris in scraped news: photo captions, credits, share buttons.

Debris stays in the article (offsets must not move) but is never quoted or indexed.
"""

from __future__ import annotations

import re
from bisect import bisect_right

_CAPTION = re.compile(
    r"^\s*(?:(?:Image|Photo|Picture|Video|Media) (?:copyright|caption|credit|source)\b"
    r"|.*\bImage (?:copyright|caption)\b)",
    re.IGNORECASE,
)
_BOILERPLATE = re.compile(
    r"^\s*(?:Media playback is unsupported on your device|Share this (?:with|page|article)\b.*"
    r"|Copy this link|Advertisement|Getty Images|Read more:?.*|Related Topics|Skip to content"
    r"|Click here.*|Sign up for.*newsletter.*|(?:AFP|Reuters|AP|EPA|PA)(?: Photo)?"
    r"|Email|Facebook|Twitter|WhatsApp|LinkedIn|Messenger"
    r"|(?:Citations?|Sources?|Tags|Topics|Related(?: stories| articles| links)?|More on this story):.*)\s*$",
    re.IGNORECASE,
)
# A repeated caption usually differs from the first copy only by a short credit ("...)Reuters").
_MAX_CREDIT_CHARS = 40
# Debris is short: a caption, a credit, a button. A longer line is prose, even when it names
# "image copyright" or starts "Read more" (a whole article may be one such paragraph).
MAX_DEBRIS_CHARS = 300
_LOOKBACK_LINES = 3


def debris_spans(text: str) -> list[tuple[int, int]]:
    """Offsets of debris lines in `text`.

    Args:
        text: an article as loaded.

    Returns:
        (start, end) of each debris line, in text order, without overlaps. No line longer
        than MAX_DEBRIS_CHARS is debris.
    """
    lines = _lines(text)
    flagged: set[int] = set()
    for i, (start, end) in enumerate(lines):
        if end - start > MAX_DEBRIS_CHARS:
            continue
        line = text[start:end]
        if _CAPTION.match(line) or _BOILERPLATE.match(line):
            flagged.add(i)
            continue
        for j in range(max(0, i - _LOOKBACK_LINES), i):  # (a longer `later` than MAX_DEBRIS_CHARS never gets here)
            if _is_repeat(text[lines[j][0] : lines[j][1]], line):
                flagged.update((i, j))
    return [lines[i] for i in sorted(flagged)]


def overlaps_debris(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    """True when [start, end) touches any debris span.

    `spans` is in text order without overlaps (as `debris_spans` gives them), so their ends
    rise too and one bisection finds the only span that can touch: asking for every
    sentence of an article full of captions stays O(n log n), not O(n^2).
    """
    i = bisect_right(spans, start, key=lambda span: span[1])
    return i < len(spans) and spans[i][0] < end


def _lines(text: str) -> list[tuple[int, int]]:
    out, cursor = [], 0
    for raw in text.split("\n"):
        stripped = raw.strip()
        if stripped:
            lead = len(raw) - len(raw.lstrip())
            out.append((cursor + lead, cursor + lead + len(stripped)))
        cursor += len(raw) + 1
    return out


def _is_repeat(earlier: str, later: str) -> bool:
    """`later` repeats `earlier` (a caption printed twice), perhaps with a credit appended."""
    if len(earlier.split()) < 3:
        return False
    if later == earlier:
        return True
    return later.startswith(earlier) and len(later) - len(earlier) <= _MAX_CREDIT_CHARS
