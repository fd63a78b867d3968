"""Answer spans inside a sentence: the entity or phrase of the wanted type.

A span must add something: one whose words all appear in the question ("Boko Haram" for
"What did Boko Haram pledge?") is not an answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from qa.answer.question import DATE, DURATION, NUMBER, PERSON, PLACE, REASON
from qa.text import STOPWORDS, stem, words

if TYPE_CHECKING:
    from qa.indexing.memory import SearchIndex

LABELS = {
    PERSON: {"PERSON": 1.0, "ORG": 0.9, "NORP": 0.6, "PROPER": 0.8},
    DATE: {"DATE": 1.0, "TIME": 0.9},
    PLACE: {"GPE": 1.0, "LOC": 1.0, "FAC": 0.8, "PROPER": 0.6, "ORG": 0.2},
    NUMBER: {"CARDINAL": 1.0, "QUANTITY": 1.0, "MONEY": 1.0, "PERCENT": 1.0, "ORDINAL": 0.3, "DATE": 0.3},
    DURATION: {"DATE": 1.0, "TIME": 0.9, "CARDINAL": 0.3, "QUANTITY": 0.3},  # spaCy labels "four months" DATE
}
_ANY = {
    "NP": 0.6, "PERSON": 0.5, "ORG": 0.5, "NORP": 0.4, "GPE": 0.5, "LOC": 0.5, "FAC": 0.4,
    "PROPER": 0.5, "EVENT": 0.5, "WORK_OF_ART": 0.5, "LAW": 0.5, "PRODUCT": 0.4, "LANGUAGE": 0.4,
    "DATE": 0.3, "CARDINAL": 0.3, "MONEY": 0.3, "PERCENT": 0.3, "QUANTITY": 0.3,
}
# Causal cues, the strong ones first: "voted 27 to 14 ..., arguing that ..." gives the clause
# after "arguing that", not after "to".
_REASON_CUES = (
    re.compile(
        r"\b(?:because(?: of)?|due to|in order to|so (?:as )?to|so that|as a result of|owing to|"
        r"in response to|on the grounds that|(?:arguing|saying|claiming|warning) that|blam(?:ed|ing)\b[^.]{0,40}?\bon|"
        r"to allow|to avoid|to help|to protect|to ensure)\b",
        re.IGNORECASE,
    ),
    re.compile(r"\b(?:after|since|to)\b(?!\s*\d)", re.IGNORECASE),
)
_PRONOUNS = frozenset("he she it they we you i them him her us this that these those who which".split())


@dataclass(frozen=True)
class SpanCandidate:
    """A possible short answer inside sentence `sentence` (article offsets)."""

    sentence: int
    start: int
    end: int
    label: str
    prior: float
    role: str = ""
    governor: str = ""


def label_priors(answer_type: str) -> dict[str, float]:
    """How well each entity label fits the wanted answer type."""
    return LABELS.get(answer_type, _ANY)


def typed_spans(index: "SearchIndex", s: int, answer_type: str, avoid: frozenset[str]) -> list[SpanCandidate]:
    """Spans of sentence `s` whose label fits `answer_type` and that the question does not name.

    Args:
        index: the searchable index (for the sentence and its entities).
        s: global sentence index.
        answer_type: from `qa.answer.question.answer_type`.
        avoid: stems of the question's words.
    """
    sentence = index.sentences[s]
    text = index.articles[sentence.doc_id].text
    priors = label_priors(answer_type)
    if answer_type == REASON:
        reason = reason_span(text, sentence.start, sentence.end)
        return [SpanCandidate(s, *reason, "REASON", 1.0)] if reason else []
    out: list[SpanCandidate] = []
    seen: set[tuple[int, int]] = set()
    for entity in sentence.entities:
        prior = priors.get(entity.label)
        if prior is None or (entity.start, entity.end) in seen:
            continue
        if not _adds_information(text[entity.start : entity.end], avoid):
            continue
        seen.add((entity.start, entity.end))
        start, end = with_units(text, entity.start, entity.end, sentence.start, sentence.end)
        out.append(SpanCandidate(s, start, end, entity.label, prior, entity.role, entity.governor))
    return out


_CURRENCY_BEFORE = "£$€¥₹"
_MAGNITUDE = re.compile(r"[ \u00a0](?:million|billion|trillion|thousand|bn|mn)\b", re.IGNORECASE)
_UNIT_AFTER = re.compile(
    r"(?:[ \u00a0]?%|[ \u00a0](?:percent|per cent|percentage points?|pounds|pence|dollars|cents|euros|yen|yuan|rupees"
    r"|francs|kilometres|kilometers|km|miles|metres|meters|feet|tonnes|tons|kilograms|kg|degrees)\b)",
    re.IGNORECASE,
)


def with_units(text: str, start: int, end: int, lower: int, upper: int) -> tuple[int, int]:
    """The span [start, end) of a number widened to keep what makes it true: a currency sign
    before it ("£42,000"), a magnitude and a unit after it ("48.2 million pounds", "60%",
    "12 per cent"), never past [lower, upper) (its sentence). A span that is not a number
    is returned as it is."""
    if end <= start or not any(c.isdigit() for c in text[start:end]):
        return start, end
    if start > lower and text[start - 1] in _CURRENCY_BEFORE:
        start -= 1
    magnitude = _MAGNITUDE.match(text, end, upper)
    if magnitude:
        end = magnitude.end()
    unit = _UNIT_AFTER.match(text, end, upper)
    if unit:
        end = unit.end()
    return start, end


def reason_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The clause after a causal cue ("because ...", "to allow ..."), to the sentence end."""
    match = next((m for m in (cue.search(text, start, end) for cue in _REASON_CUES) if m), None)
    if not match:
        return None
    clause_end = end
    while clause_end > match.start() and text[clause_end - 1] in ".!?\"'” ":
        clause_end -= 1
    return (match.start(), clause_end) if clause_end - match.start() > len(match.group()) + 3 else None


def _adds_information(span_text: str, avoid: frozenset[str]) -> bool:
    tokens = _content_words(span_text)
    if not tokens or all(t in _PRONOUNS for t in tokens):
        return False
    return not all(stem(t) in avoid for t in tokens)


@lru_cache(maxsize=65_536)
def _content_words(span_text: str) -> tuple[str, ...]:
    """The span's folded words but stopwords; remembered, as a question weighs the same names and
    numbers in each pass and each span source, and folding a text is the costly part."""
    return tuple(w for w in words(span_text) if w not in STOPWORDS)
