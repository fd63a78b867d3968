"""Sentence boundaries that survive news prose, as (start, end) offsets into the text.

Rules, in the spirit of Kiss & Strunk's Punkt and the "golden rules" of pySBD, kept
small enough to read: a line break ends a sentence unless the line was merely wrapped;
`.`, `!`, `?` and ellipses end one only when what follows looks like a new sentence
and what precedes is not an abbreviation (Mr., Gen., U.S.) or an initial.

Every step looks only at a bounded neighbourhood of the text or walks it once, so the
time is linear in the length of the text: an uploaded paragraph of 2 MiB costs what
a thousand short articles cost, never the square of it.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right

MAX_SENTENCE_CHARS = 400

ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof gen lt col sgt capt cpt maj cmdr adm rep sen gov pres supt insp det
    st jr sr rev hon mt ft fr sgt messrs mme mlle gens reps sens govs
    inc corp ltd co bros dept univ assn est approx vs etc al
    jan feb mar apr jun jul aug sep sept oct nov dec
    no nos vol pp fig ch art sec para ed eds
    """.split()
)
# Words that may still end a sentence after an abbreviation-like token ("... in the U.S. The ...").
SENTENCE_STARTERS = frozenset(
    """
    the a an it he she they we i you this that these those there but and however in on at
    his her its their our my yet so if when while after before meanwhile still for as
    """.split()
)
_ENDS_AFTER_ABBREVIATION = frozenset({"etc", "inc", "co", "ltd", "corp", "jr", "sr"})

_TERMINATOR = re.compile(r"(\.{3}|…|[.!?]+)[\"'”’)\]]*")
_OPENERS = "\"'“‘([«"
_ACRONYM = re.compile(r"(?:\b[A-Za-z]\.){2,}$")
_INITIAL = re.compile(r"(?:^|[\s(])[A-Z]\.$")
_NON_SPACE = re.compile(r"\S")
_WORD = re.compile(r"[\w']+")
_LINE = re.compile(r"[^\n]*(?:\n|$)")
_SOFT_BREAKS = (re.compile(r"[;:]\s"), re.compile(r",\s"), re.compile(r"\s"))


def split_sentences(text: str, max_chars: int = MAX_SENTENCE_CHARS) -> list[tuple[int, int]]:
    """Split `text` into sentences, in time linear in its length.

    Args:
        text: the article text, untouched.
        max_chars: longer sentences are cut at a semicolon, comma or space.

    Returns:
        (start, end) offsets, stripped of surrounding whitespace, in text order.
    """
    spans: list[tuple[int, int]] = []
    for block_start, block_end in _blocks(text):
        for start, end in _split_block(text, block_start, block_end):
            spans.extend(_cap_length(text, start, end, max_chars))
    return spans


def _blocks(text: str) -> list[tuple[int, int]]:
    """Runs of lines that belong together: a wrapped line continues into the next one."""
    blocks: list[tuple[int, int]] = []
    current: tuple[int, int] | None = None
    for match in _LINE.finditer(text):
        line = match.group().rstrip("\n")
        if not line.strip():
            if current:
                blocks.append(current)
            current = None
            if match.end() == len(text):
                break
            continue
        start, end = match.start(), match.start() + len(line)
        if current and _is_wrapped(_last_mark(text, current[0], current[1]), line):
            current = (current[0], end)
        else:
            if current:
                blocks.append(current)
            current = (start, end)
        if match.end() == len(text):
            break
    if current:
        blocks.append(current)
    return blocks


def _last_mark(text: str, start: int, end: int) -> str:
    """The last non-space character of text[start:end] ("" if none), found without copying it.

    Only the trailing spaces of the last line are walked, so checking every line of a long
    wrapped paragraph stays linear.
    """
    while end > start and text[end - 1].isspace():
        end -= 1
    return text[end - 1] if end > start else ""


def _is_wrapped(last_mark: str, line: str) -> bool:
    """A hard-wrapped paragraph: the line before has no end mark and this one goes on in lower case."""
    head = line.lstrip()
    return bool(head) and head[0].islower() and bool(last_mark) and last_mark not in ".!?:\"”'’"


def _split_block(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans, cursor = [], start
    for match in _TERMINATOR.finditer(text, start, end):
        if _is_boundary(text, start, end, match):
            spans.append((cursor, match.end()))
            cursor = match.end()
    spans.append((cursor, end))
    return [s for s in (_strip(text, a, b) for a, b in spans) if s]


def _is_boundary(text: str, start: int, end: int, match: re.Match[str]) -> bool:
    """Whether the end mark `match` ends a sentence of the block text[start:end].

    Looks only at the mark, the word before it and the word after it.
    """
    cut = match.end()
    if cut >= end or not text[cut].isspace():
        return False  # "3.5", "U.S.-led", "Yahoo!Inc" and the like
    found = _NON_SPACE.search(text, cut, end)
    if not found:
        return False
    following = found.start()
    first = text[following]
    if first in _OPENERS:
        first = text[following + 1] if following + 1 < end else "x"
    if not (first.isupper() or first.isdigit()):
        return False  # "the caliph... has accepted", "'Stop!' he said"
    mark_start, mark_end = match.span(1)
    if mark_end - mark_start != 1 or text[mark_start] != "." or mark_start == start or text[mark_start - 1] in ".…":
        return True
    token_start = mark_start
    while token_start > start and not text[token_start - 1].isspace():
        token_start -= 1
    token = text[token_start : mark_start + 1]
    word = token.strip(_OPENERS).rstrip(".").lower()
    word_start = following
    while word_start < end and text[word_start] in _OPENERS:
        word_start += 1
    next_word = _WORD.match(text, word_start, end)
    starts_sentence = bool(next_word) and next_word.group().lower() in SENTENCE_STARTERS
    if word in ABBREVIATIONS:
        return word in _ENDS_AFTER_ABBREVIATION and starts_sentence
    # Both patterns are anchored at the end of the token: its last few characters decide.
    if _ACRONYM.search(token, max(0, len(token) - 4)) or _INITIAL.search(" " + token[-3:]):
        return starts_sentence
    return True


def _strip(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _cap_length(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Cut an over-long sentence near its middle at the softest break available, again and again.

    The breaks are found once and searched by bisection, so a sentence of any length is cut
    in linear time (a fresh scan per cut would be quadratic on a 2 MiB run-on sentence).
    """
    if end - start <= max_chars:
        return [(start, end)]
    breaks = [_Breaks(pattern, text, start + 1, end - 1) for pattern in _SOFT_BREAKS]
    spans: list[tuple[int, int]] = []
    pending = [(start, end)]
    while pending:
        piece_start, piece_end = pending.pop()
        if piece_end - piece_start <= max_chars:
            spans.append((piece_start, piece_end))
            continue
        middle = piece_start + (piece_end - piece_start) // 2
        cut = next(
            (c for c in (b.nearest(piece_start + 1, piece_end - 1, middle) for b in breaks) if c is not None),
            middle,
        )
        # Right piece pushed first, so the left one is cut (and emitted) first: text order.
        for piece in (_strip(text, cut, piece_end), _strip(text, piece_start, cut)):
            if piece:
                pending.append(piece)
    return spans


class _Breaks:
    """Every match of one soft-break pattern in text[start:end], for nearest-to-a-point queries."""

    def __init__(self, pattern: re.Pattern[str], text: str, start: int, end: int) -> None:
        # These patterns cannot overlap themselves, so one scan finds every match of any sub-range.
        found = [m.span() for m in pattern.finditer(text, start, end)]
        self.starts = [a for a, _ in found]
        self.ends = [b for _, b in found]

    def nearest(self, start: int, end: int, point: int) -> int | None:
        """The end of the match inside [start, end) nearest `point` (the earlier one on a tie)."""
        low, high = bisect_left(self.starts, start), bisect_right(self.ends, end)
        if low >= high:
            return None
        i = bisect_left(self.ends, point, low, high)
        if i == low:
            return self.ends[low]
        if i == high:
            return self.ends[high - 1]
        before, after = self.ends[i - 1], self.ends[i]
        return before if point - before <= after - point else after
