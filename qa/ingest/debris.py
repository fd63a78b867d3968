"""Find web-page debris in scraped news: photo captions, credits, share buttons, bylines,
newsletter and consent prompts, promotions.

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
# Scraped news pages carry their site's furniture inside the text: datelines and credits,
# bylines, newsletter and subscription prompts, consent notices, promotions and separators.
_SCRAPED = re.compile(
    r"^\s*(?:"
    r"[\W_]+"  # a separator: ___, ***, ♦, —
    r"|(?:The )?Associated Press|AP|USA TODAY(?: Network| Sports)?(?: and wire reports)?"
    r"|From USA TODAY Network and wire reports"
    r"|(?:Contributing|Contributors?|Additional reporting|Reporting by|Editing by|Written by)\b.*"
    r"|(?:Photo|Photograph|Image|Picture)s?(?: credit| by)?:.*"
    r"|.*\b(?:sign up|subscribe|receive)\b.{0,80}\bnewsletter\b.*|.*\bnewsletter\b.{0,80}\b(?:sign up|subscribe)\b.*"
    r"|(?:The |Our )?[\w’']+(?: \w+)? newsletter provides\b.*"
    r"|.*\b(?:use of your data|this ad to you|accept (?:all )?cookies|our cookie policy|privacy policy)\b.*"
    r"|.*\bcontent partner offering\b.*|Prices were accurate at the time\b.*"
    r"|(?:Thank you for supporting|Support local journalism|Subscribe to)\b.*(?:journalism|subscribe|today)\b.*"
    r"|Follow every game:.*|[A-Z][A-Z0-9 '&]{3,}: The latest\b.*|FOLLOW THE MONEY:.*"
    r"|For the full story\b.*|More news to know now|On (?:Facebook|Twitter|Instagram|X|YouTube)"
    r"|Story continues below.*|Continue reading.*|Recommended (?:stories|reading)"
    r")\s*$",
    re.IGNORECASE,
)
# Bylines and dateline credits, told by their capitals: "– David Jackson", "By Ann Lee, Reuters",
# "Washington CNN —" (a bullet point "- Residents were told to stay indoors" is not one).
_BYLINE = re.compile(
    r"^\s*(?:(?:By|[–—―-]{1,2}) ?(?:[A-Z][\w.'’-]+ ){1,3}[A-Z][\w.'’-]+"
    r"(?:,? (?:and|&) (?:[A-Z][\w.'’-]+ ){1,3}[A-Z][\w.'’-]+)?(?:,? (?:[A-Z][\w.]* ?){1,4})?"
    r"|(?:[A-Z][\w.,'-]*(?: [A-Z][\w.,'-]*){0,4} )?CNN(?: Business)? —"
    r"|[–—―-]{1,2} ?CNN['’]s .* contributed to this report\.?)\s*$"
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
        if _CAPTION.match(line) or _BOILERPLATE.match(line) or _SCRAPED.match(line) or _BYLINE.match(line):
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
