"""Sentence boundaries that survive news prose, as (start, end) offsets into the text.

Rules, in the spirit of Kiss & Strunk's Punkt and the "golden rules" of pySBD, kept
small enough to read: a line break ends a sentence unless the line was merely wrapped;
`.`, `!`, `?` and ellipses end one only when what follows looks like a new sentence
and what precedes is not an abbreviation (Mr., Gen., U.S.) or an initial.
"""

from __future__ import annotations

import re

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

_TERMINATOR = re.compile(r"(?:\.{3}|…|[.!?]+)[\"'”’)\]]*")
_OPENERS = "\"'“‘([«"
_ACRONYM = re.compile(r"(?:\b[A-Za-z]\.){2,}$")
_INITIAL = re.compile(r"(?:^|[\s(])[A-Z]\.$")
_LINE = re.compile(r"[^\n]*(?:\n|$)")
_SOFT_BREAKS = (re.compile(r"[;:]\s"), re.compile(r",\s"), re.compile(r"\s"))


def split_sentences(text: str, max_chars: int = MAX_SENTENCE_CHARS) -> list[tuple[int, int]]:
    """Split `text` into sentences.

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
        if current and _is_wrapped(text[current[0] : current[1]], line):
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


def _is_wrapped(previous: str, line: str) -> bool:
    """A hard-wrapped paragraph: the line before has no end mark and this one goes on in lower case."""
    head = line.lstrip()
    tail = previous.rstrip()
    return bool(head) and head[0].islower() and bool(tail) and tail[-1] not in ".!?:\"”'’"


def _split_block(text: str, start: int, end: int) -> list[tuple[int, int]]:
    block = text[start:end]
    spans, cursor = [], 0
    for match in _TERMINATOR.finditer(block):
        cut = match.end()
        if _is_boundary(block, match.start(), cut):
            spans.append((cursor, cut))
            cursor = cut
    spans.append((cursor, len(block)))
    return [s for s in (_strip(text, start + a, start + b) for a, b in spans) if s]


def _is_boundary(block: str, mark_start: int, cut: int) -> bool:
    rest = block[cut:]
    if not rest[:1].isspace():
        return False  # "3.5", "U.S.-led", "Yahoo!Inc" and the like
    following = rest.lstrip()
    if not following:
        return False
    first = following[0]
    if first in _OPENERS:
        first = following[1:2] or "x"
    if not (first.isupper() or first.isdigit()):
        return False  # "the caliph... has accepted", "'Stop!' he said"
    mark = block[mark_start:cut].rstrip("\"'”’)]")
    if mark != "." or block[mark_start - 1 : mark_start] in ".…":
        return True
    before = block[:mark_start + 1]
    token = before.split()[-1] if before.split() else ""
    word = token.strip(_OPENERS).rstrip(".").lower()
    next_word = re.match(r"[\w']+", following.lstrip(_OPENERS))
    starts_sentence = bool(next_word) and next_word.group().lower() in SENTENCE_STARTERS
    if word in ABBREVIATIONS:
        return word in {"etc", "inc", "co", "ltd", "corp", "jr", "sr"} and starts_sentence
    if _ACRONYM.search(token) or _INITIAL.search(" " + token):
        return starts_sentence
    return True


def _strip(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _cap_length(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Cut an over-long sentence near its middle at the softest break available."""
    if end - start <= max_chars:
        return [(start, end)]
    middle = start + (end - start) // 2
    for pattern in _SOFT_BREAKS:
        cuts = [m.end() for m in pattern.finditer(text, start + 1, end - 1)]
        if cuts:
            cut = min(cuts, key=lambda c: abs(c - middle))
            break
    else:
        cut = middle
    pieces = [_strip(text, start, cut), _strip(text, cut, end)]
    spans: list[tuple[int, int]] = []
    for piece in pieces:
        if piece:
            spans.extend(_cap_length(text, piece[0], piece[1], max_chars))
    return spans
