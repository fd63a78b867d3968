"""An article's title: a headline when it has one, else something a reader can recognise."""

from __future__ import annotations

import re

from qa.ingest.debris import debris_spans, overlaps_debris

MAX_TITLE_CHARS = 150
FALLBACK_WORDS = 8
_MD_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")
# A file name that says nothing: hex digests, numbers, generated ids ("000_4036766391eee30b").
_MEANINGLESS_NAME = re.compile(r"^[\W_\d]*(?:[0-9a-f]{8,}|\d+)?[\W_\d]*$", re.IGNORECASE)


def tell_title(text: str) -> str | None:
    """The headline: a Markdown heading, or a short first line without a full stop."""
    debris = debris_spans(text)
    cursor = 0
    for raw in text.split("\n"):
        start = cursor + len(raw) - len(raw.lstrip())
        cursor += len(raw) + 1
        line = raw.strip()
        if not line or overlaps_debris(start, start + len(line), debris):
            continue
        heading = _MD_HEADING.match(line)
        if heading:
            return heading.group(1)
        if len(line) <= MAX_TITLE_CHARS and line[-1] not in ".!?\"”:;,":
            return line
        return None
    return None


def fallback_title(text: str, name: str) -> str:
    """A title for an article without a headline: its file name made readable, when the name
    means something ("harbour-bridge_reopens" -> "Harbour bridge reopens"), else its first words.
    """
    readable = " ".join(re.sub(r"[_\-.]+", " ", name).split())
    if readable and not _MEANINGLESS_NAME.match(name) and re.search(r"[A-Za-z]{3}", readable):
        return readable[:1].upper() + readable[1:]
    debris = debris_spans(text)
    start = 0
    for paragraph in re.finditer(r"\S[^\n]*", text):
        if not overlaps_debris(paragraph.start(), paragraph.end(), debris):
            start = paragraph.start()
            break
    words = text[start:].split()
    if not words:
        return readable or name
    head = " ".join(words[:FALLBACK_WORDS])
    return head + (" …" if len(words) > FALLBACK_WORDS else "")
