"""Example questions about a corpus, made from its own headlines (or lead sentences).

A headline says who did what ("Keeper Retires From Varnholt Lighthouse"); the question
asks for one of its parts. When the subject is named (a person, an organisation, a
place) the question asks who did it ("Who officially joined forces?"), else when it
happened ("When did the keeper retire from Varnholt lighthouse?"). Rules over spaCy's
parse, nothing generated: a headline the rules cannot read gives no question, and the
caller keeps only the questions its articles answer (`qa.archive.example_questions`).
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from typing import Any, Iterable, Sequence

from qa.ingest.annotate import load_spacy
from qa.ingest.sentences import split_sentences
from qa.text import content_tokens
from qa.types import Article

MAX_QUESTION_WORDS = 14
NEAR_REPEAT = 0.5  # share of words (Jaccard) from which two questions ask the same
MAX_LEAD_WORDS = 40  # a longer first sentence is a paragraph, not a lead
AGENTS = frozenset({"PERSON", "ORG", "NORP", "GPE"})
_TRUNCATED = ("…", "...")
_SITE_TAIL = re.compile(r"\s+[|–—-]\s+[^|–—-]{1,40}$")  # "… | CNN Business", "… - BBC News"
_DROPPED_DEPS = frozenset({"mark", "advcl", "relcl", "acl", "appos", "parataxis", "dep", "npadvmod"})
_QUOTES = frozenset({'"', "“", "”", "‘", "’", "'", ")", "]"})
_WORD = re.compile(r"[A-Za-z][\w'’-]*")
_parse_lock = threading.Lock()  # one pipeline per process, shared with index builds on other threads


def questions_from_headlines(articles: Iterable[Article]) -> list[str]:
    """Questions made from the articles' headlines, in the articles' order; a question sharing
    half its words with an earlier one (two reports of one event) is left out."""
    found: list[tuple[str, set[str]]] = []
    for article in articles:
        lead = headline(article)
        question = question_from(truecase(lead, article.text), article.text) if lead else None
        words = set(content_tokens(question or ""))
        if question and all(len(words & seen) < NEAR_REPEAT * len(words | seen) for _, seen in found):
            found.append((question, words))
    return [question for question, _ in found]


def headline(article: Article) -> str | None:
    """The article's headline without a site name after it; its lead sentence when the title
    is only its first words cut short; None when neither reads as one statement."""
    title = _SITE_TAIL.sub("", article.title.strip())
    if not title.endswith(_TRUNCATED):
        return title if ":" not in title and "?" not in title else None
    spans = split_sentences(article.text)
    start = article.text.find(title.rstrip(".… ").strip())
    lead = next((article.text[a:b] for a, b in spans if a <= start < b), None) if start >= 0 else None
    return lead if lead and len(lead.split()) <= MAX_LEAD_WORDS else None


def truecase(text: str, body: str) -> str:
    """A headline with each word written as its article writes it ("Keeper Retires" ->
    "keeper retires"): every word of a headline in Title Case, else only its first."""
    words = list(_WORD.finditer(text))
    title_case = len(words) >= 3 and sum(w.group()[0].isupper() for w in words) >= 0.6 * len(words)
    body = body.replace(text, " ")  # the headline itself, often the article's first line
    seen = Counter(m.group() for m in _WORD.finditer(body) if not _starts_sentence(body, m.start()))

    def written(match: re.Match[str]) -> str:
        word = match.group()
        capital, lower = seen[word], seen[word.lower()]
        if (len(word) > 1 and word.isupper()) or word == word.lower():
            return word
        if title_case:
            return word if capital > lower else word.lower()  # a word the article never writes: lower case
        return word.lower() if match.start() == 0 and lower > capital else word

    return _WORD.sub(written, text)


def _starts_sentence(text: str, at: int) -> bool:
    before = text[max(0, at - 3):at].rstrip(" \"“'‘(")
    return not before or before[-1] in ".!?\n"


def question_from(text: str, body: str = "") -> str | None:
    """A who- or when-question about the statement `text` (from an article `body`), or None
    when its parse has no subject and finite verb to ask about."""
    clause = _clause(text)
    if clause is None and text[:1].islower():
        clause = _clause(f"The {text}")  # "keeper retires" parses as a noun compound, "The keeper retires" does not
    if clause is None:
        return None
    root, subject = clause
    rest = _kept([t for c in root.children if c.i > root.i for t in c.subtree])
    adverbs = [c for c in root.children if c.i < root.i and c.dep_ == "advmod"]  # "officially joined"
    passive = subject.dep_ == "nsubjpass" or (root.tag_ == "VBN" and not any(c.dep_ == "aux" for c in root.children))
    if any(t.ent_type_ in AGENTS for t in subject.subtree) and not passive:
        question = f"Who {_text(adverbs)} {_past(root, body)} {_text(rest)}"
    else:
        about = _text(_kept(list(subject.subtree)))
        about = about[0].lower() + about[1:] if about.split()[0] in ("The", "A", "An") else about
        if subject.tag_ == "NN" and not any(c.dep_ in ("det", "poss") for c in subject.children):
            about = f"the {about}"  # headlines drop articles: "Keeper retires"
        verb = root.text if passive else root.lemma_
        question = f"When {'was' if passive else 'did'} {about} {_text(adverbs)} {verb} {_text(rest)}"
    question = " ".join(question.split())
    if not 3 <= len(question.split()) <= MAX_QUESTION_WORDS:
        return None
    return question.rstrip(" ,;:-") + "?"


def _clause(text: str) -> tuple[Any, Any] | None:
    """The finite main verb of `text` and its subject, parsed; None when it has no such pair."""
    with _parse_lock:
        nlp = load_spacy()
        doc = nlp.get_pipe("lemmatizer")(nlp(text))
    for root in doc:
        if root.dep_ == "ROOT" and root.pos_ in ("VERB", "AUX") and root.tag_ in ("VBZ", "VBP", "VBD", "VBN"):
            subjects = [c for c in root.children if c.dep_ in ("nsubj", "nsubjpass")]
            return (root, subjects[0]) if subjects else None
    return None


def _past(root: Any, body: str) -> str:
    """The verb in the past tense: as the headline has it, a regular past form its article
    uses ("retires" -> "retired"), else as the headline has it ("Who leads the poll?")."""
    if root.tag_ == "VBD" or (root.tag_ == "VBN" and root.text.endswith("ed")):
        return root.text
    lemma = root.lemma_.lower()
    for form in (lemma + "d", lemma + "ed", lemma[:-1] + "ied", lemma + lemma[-1:] + "ed"):
        if re.search(rf"\b{re.escape(form)}\b", body, re.IGNORECASE):
            return form
    return ("has " if root.tag_ == "VBN" else "") + root.text


def _kept(tokens: Sequence[Any]) -> list[Any]:
    """Tokens of the question: dates dropped (what a when-question asks), and clauses,
    appositions, attributions, parentheses and trailing conjunctions cut."""
    dropped: set[int] = set()
    depth = 0
    for token in tokens:
        depth += token.text in ("(", "[")
        if depth or token.text in _QUOTES:
            dropped.add(token.i)
        depth -= depth > 0 and token.text in (")", "]")
        if token.dep_ in _DROPPED_DEPS or (token.dep_ == "prep" and token.lower_ == "according"):
            dropped.update(t.i for t in token.subtree)
        elif token.ent_type_ in ("DATE", "TIME"):
            dropped.add(token.i)
            if token.head.dep_ == "prep" and all(c.ent_type_ in ("DATE", "TIME") for c in token.head.children):
                dropped.add(token.head.i)
    kept = [t for t in tokens if t.i not in dropped]
    while kept and (kept[-1].dep_ in ("cc", "prep", "det", "case") or kept[-1].is_punct):
        kept.pop()
    return kept


def _text(tokens: Sequence[Any]) -> str:
    """The tokens as the headline writes them ("£48.2m", "Haram's"), a space where words were cut."""
    out = ""
    for token, following in zip(tokens, [*tokens[1:], None]):
        joined = following is not None and following.i == token.i + 1
        out += token.text_with_ws if joined else token.text + " "
    return out.strip()
