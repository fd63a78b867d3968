"""Answer-span options in the best sentences, scored by the learned span model.

Features say how well a span fits: its label against the wanted answer type, where it
stands relative to the question's words in the sentence (the subject of "accepted" stands
just before it), whether the question already names it, and how many other good
sentences carry the same span.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from qa.ingest.aliases import answer_key, canonical
from qa.answer.question import ANSWER_TYPES, QuestionPart
from qa.models import load_model
from qa.indexing.memory import SearchIndex
from qa.answer.spans import SpanCandidate, typed_spans
from qa.text import STOPWORDS, WORD, content_tokens, stem

SPAN_SENTENCES = 6  # sentences searched for answer spans
WORDS_SATURATION = 10  # answers of this many content words or more count as equally long
_LABEL_GROUPS = {
    "PERSON": "person", "ORG": "org", "NORP": "norp", "GPE": "place", "LOC": "place", "FAC": "place",
    "DATE": "date", "TIME": "date", "CARDINAL": "number", "QUANTITY": "number", "MONEY": "number",
    "PERCENT": "number", "ORDINAL": "ordinal", "NP": "np", "PROPER": "proper", "REASON": "reason",
    "READ": "read",
}


@dataclass(frozen=True)
class SpanOption:
    """A scored possible answer."""

    text: str
    sentence: int
    start: int
    end: int
    features: dict[str, float]
    probability: float


def span_options(
    index: SearchIndex, part: QuestionPart, ranked: list[tuple[int, float]], avoid: frozenset[str]
) -> list[SpanOption]:
    """Every typed span in the top sentences, with features and the span model's probability.

    Args:
        index: the searchable index.
        part: the question part (its answer type decides which labels fit).
        ranked: (sentence, probability) best first.
        avoid: stems of the question's words.
    """
    top = ranked[:SPAN_SENTENCES]
    found: list[tuple[SpanCandidate, float, int]] = []
    for rank, (s, probability) in enumerate(top):
        for span in typed_spans(index, s, part.answer_type, avoid):
            found.append((span, probability, rank))
    model = load_model("span", SPAN_FEATURES)
    out = []
    for (span, _, _), (text, features) in zip(found, span_option_features(index, part, found, top, avoid)):
        out.append(SpanOption(text, span.sentence, span.start, span.end, features, model.probability(features)))
    return sorted(out, key=lambda o: -o.probability)


def span_option_features(
    index: SearchIndex,
    part: QuestionPart,
    found: list[tuple[SpanCandidate, float, int]],
    top: list[tuple[int, float]],
    avoid: frozenset[str],
) -> list[tuple[str, dict[str, float]]]:
    """(text, features) of each (span, sentence probability, sentence rank) in `found`.

    Args:
        index: the searchable index.
        part: the question part.
        found: the spans with the probability and rank of their sentence.
        top: the sentences searched, (sentence, probability), best first.
        avoid: stems of the question's words.
    """
    texts = [_span_text(index, span) for span, _, _ in found]
    keys = [tuple(content_tokens(t)) for t in texts]
    # "IS", "ISIS" and "Islamic State" back one answer: support is counted by canonical name
    names = [canonical(answer_key(t), index.aliases) for t in texts]
    total = sum(p for _, p in top) or 1.0
    layouts = {s: _layout(index, s, avoid) for s, _ in top}
    verbs = {s: _clause_verbs(index, s) for s, _ in top}
    backing: dict[tuple[str, ...], dict[int, float]] = {}
    for (span, probability, _), name in zip(found, names):
        backing.setdefault(name, {})[span.sentence] = probability
    head = stem(part.head) if part.head else ""
    out = []
    for (span, probability, rank), text, key, name in zip(found, texts, keys, names):
        features = {
            "head_match": 1.0 if head and head in key else 0.0,
            "sentence_probability": probability,
            "sentence_rank": 1.0 / (1 + rank),
            "label_prior": span.prior,
            "support": sum(backing[name].values()) / total,
            "in_question": _in_question(key, avoid),
            "log_chars": math.log1p(len(text)),
            "words": min(len(key), WORDS_SATURATION) / WORDS_SATURATION,
            **_position_features(layouts[span.sentence], span, part.asks_subject),
            "possessive": 1.0 if _is_possessive(index, span) else 0.0,
            **_role_features(span, part.asks_subject, avoid),
            **_attachment_features(span, verbs[span.sentence], avoid),
            f"type_{part.answer_type}_label_{label_group(span.label)}": 1.0,
        }
        out.append((text, features))
    return out


def label_group(label: str) -> str:
    """The coarse group of an entity label used in type x label features."""
    return _LABEL_GROUPS.get(label, "other")


def type_label_features() -> list[str]:
    """Every answer-type x label indicator the span model may weigh."""
    groups = sorted(set(_LABEL_GROUPS.values()) | {"other"})
    return [f"type_{t}_label_{g}" for t in ANSWER_TYPES for g in groups]


# What the span models weigh (see `span_option_features`): these, and one indicator per
# answer type x label group, of which each span sets one.
SPAN_FEATURES = (
    "head_match", "sentence_probability", "sentence_rank", "label_prior", "support", "in_question", "log_chars",
    "words", "left_match", "right_match", "adjacent_match", "relative_position", "subject_before_match",
    "object_after_match", "between_matches", "subject_between_matches", "possessive", "subject_of_match",
    "object_of_match", "oblique_of_match", "possessor", "subject_question_subject_of_match",
    "subject_question_object_of_match", "oblique_of_matched_verb", "oblique_of_noun", *type_label_features(),
)


@dataclass(frozen=True)
class _Layout:
    """Words of a sentence with their offsets, and which of them the question also has."""

    starts: tuple[int, ...]
    ends: tuple[int, ...]
    matched: tuple[bool, ...]


def _layout(index: SearchIndex, s: int, avoid: frozenset[str]) -> _Layout:
    sentence = index.sentences[s]
    text = index.articles[sentence.doc_id].text
    starts, ends, matched = [], [], []
    for match in WORD.finditer(text, sentence.start, sentence.end):
        word = match.group().lower()
        starts.append(match.start())
        ends.append(match.end())
        matched.append(word not in STOPWORDS and stem(word) in avoid)
    return _Layout(tuple(starts), tuple(ends), tuple(matched))


def _position_features(layout: _Layout, span: SpanCandidate, asks_subject: bool) -> dict[str, float]:
    """Distances (in words) from the span to the nearest question word on each side.

    When the question asks for the subject ("Who accepted ...?") the answer tends to
    stand before the matched verb; when it asks for an object, after it.
    """
    inside = [i for i, start in enumerate(layout.starts) if span.start <= start < span.end]
    if not inside:
        return {
            "left_match": 0.0, "right_match": 0.0, "adjacent_match": 0.0, "relative_position": 0.0,
            "subject_before_match": 0.0, "object_after_match": 0.0, "between_matches": 0.0,
            "subject_between_matches": 0.0,
        }
    first, last = inside[0], inside[-1]
    left = [first - i for i in range(first) if layout.matched[i]]
    right = [i - last for i in range(last + 1, len(layout.matched)) if layout.matched[i]]
    nearest_left = min(left, default=0)
    nearest_right = min(right, default=0)
    adjacent = any(d <= 2 for d in left + right)
    between = 1.0 if left and right else 0.0  # "accepted [Boko Haram's] pledge": a modifier, seldom the doer
    return {
        "left_match": 1.0 / nearest_left if nearest_left else 0.0,
        "right_match": 1.0 / nearest_right if nearest_right else 0.0,
        "adjacent_match": 1.0 if adjacent else 0.0,
        "relative_position": first / max(len(layout.starts) - 1, 1),
        # the subject stands before every question word the sentence shares, the object after them
        "subject_before_match": 1.0 / nearest_right if nearest_right and not left and asks_subject else 0.0,
        "object_after_match": 1.0 / nearest_left if nearest_left and not right and not asks_subject else 0.0,
        "between_matches": between,
        "subject_between_matches": between if asks_subject else 0.0,
    }


def _role_features(span: SpanCandidate, asks_subject: bool, avoid: frozenset[str]) -> dict[str, float]:
    """Whether the span is the doer or the thing done to of a verb the question names.

    "Who accepted the pledge?" is answered by the subject of "accepted", not by the
    possessor in "accepted Boko Haram's pledge".
    """
    governed = bool(span.governor) and stem(span.governor) in avoid
    subject = 1.0 if governed and span.role == "subject" else 0.0
    obj = 1.0 if governed and span.role == "object" else 0.0
    return {
        "subject_of_match": subject,
        "object_of_match": obj,
        "oblique_of_match": 1.0 if governed and span.role == "oblique" else 0.0,
        "possessor": 1.0 if span.role == "possessor" else 0.0,
        "subject_question_subject_of_match": subject if asks_subject else 0.0,
        "subject_question_object_of_match": obj if asks_subject else 0.0,
    }


def _clause_verbs(index: SearchIndex, s: int) -> frozenset[str]:
    """Words of sentence `s` the parser saw as verbs: those with a subject or an object."""
    return frozenset(e.governor for e in index.sentences[s].entities if e.role in ("subject", "object") and e.governor)


def _attachment_features(span: SpanCandidate, verbs: frozenset[str], avoid: frozenset[str]) -> dict[str, float]:
    """Where a prepositional span hangs: on a verb the question names, or on a noun.

    "When did the council approve the budget?" over "approved a budget for 2027 on
    Tuesday": "Tuesday" hangs on "approved" (the event's date), "2027" on "budget" (a
    year the sentence merely names).
    """
    if span.role != "oblique" or not span.governor:
        return {"oblique_of_matched_verb": 0.0, "oblique_of_noun": 0.0}
    on_verb = span.governor in verbs
    return {
        "oblique_of_matched_verb": 1.0 if on_verb and stem(span.governor) in avoid else 0.0,
        "oblique_of_noun": 0.0 if on_verb else 1.0,
    }


def _is_possessive(index: SearchIndex, span: SpanCandidate) -> bool:
    text = index.articles[index.sentences[span.sentence].doc_id].text
    return text[span.end - 2 : span.end] in ("'s", "’s") or text[span.end : span.end + 2] in ("'s", "’s")


def _span_text(index: SearchIndex, span: SpanCandidate) -> str:
    """The span as an answer: one line, without a possessive ending ("Boko Haram's")."""
    text = index.articles[index.sentences[span.sentence].doc_id].text
    words = " ".join(text[span.start : span.end].split())
    return words[:-2] if words.endswith(("'s", "’s")) and len(words) > 2 else words


def _in_question(key: tuple[str, ...], avoid: frozenset[str]) -> float:
    return sum(1 for t in key if t in avoid) / len(key) if key else 1.0
