"""Which sentences back an answer, which articles they come from, and where articles differ.

A relative day ("Thursday", "yesterday") is compared as the day it names in its own
article (`qa.answer.dates`): two articles that say "Thursday" a week apart disagree, and
"yesterday" in a Friday paper agrees with "Thursday". Without publication dates, answers
compare by their words alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa.answer.dates import resolve_day
from qa.ingest.aliases import answer_key, canonical, same_key
from qa.indexing.memory import SearchIndex
from qa.text import contains_run, without_article_prefix

# Sentences this close in meaning report the same fact, so different answers in them disagree.
SAME_FACT_SIMILARITY = 0.6
NEAR_DUPLICATE_OVERLAP = 0.8
_DAY_KEY = ("<day>",)  # groups of resolved days are keyed by the day, and merge with no word key


@dataclass(frozen=True)
class Group:
    """One answer and the sentences that carry it, best first."""

    answer: str
    score: float
    sentences: tuple[int, ...]
    day: str = ""  # the ISO day a relative-day answer names in its articles, else ""


def day_of(index: SearchIndex, answer: str, s: int) -> str:
    """The ISO day `answer` names in the article of sentence `s`, or "" (not a relative day, or no date)."""
    resolved = resolve_day(answer, index.articles[index.sentences[s].doc_id].published_date)
    return resolved.isoformat() if resolved else ""


def carries(index: SearchIndex, s: int, answer: str, day: str = "") -> bool:
    """Whether sentence `s` states `answer` (or an alias of it) word for word.

    With `day`, a relative day that names another day in the sentence's article does not count.
    """
    if day:
        own = day_of(index, answer, s)
        if own and own != day:
            return False
    key = canonical(answer_key(answer), index.aliases)
    if not key:
        return False
    sentence_words = index.answer_words(s)
    variants = {key} | {alias for alias, name in index.aliases.items() if name == key}
    return any(
        contains_run(sentence_words, v) or contains_run(without_article_prefix(sentence_words), without_article_prefix(v))
        for v in variants
    )


def supporting(
    index: SearchIndex, answer: str, ranked: list[tuple[int, float]], floor: float, day: str = ""
) -> list[int]:
    """Sentences among `ranked` (sentence, probability) scoring at least `floor` that carry `answer`
    (naming the same `day`, when it is a relative day)."""
    return [s for s, p in ranked if p >= floor and carries(index, s, answer, day)]


def group_spans(index: SearchIndex, spans: list[tuple[str, float, int]]) -> list[Group]:
    """Group (answer text, score, sentence) triples naming the same thing; best group first."""
    by_key: dict[tuple[str, ...], list[tuple[str, float, int]]] = {}
    for span in sorted(spans, key=lambda x: -x[1]):
        day = day_of(index, span[0], span[2])
        key = (*_DAY_KEY, day) if day else canonical(answer_key(span[0]), index.aliases)
        by_key.setdefault(key, []).append(span)
    groups: list[list[tuple[str, float, int]]] = []
    group_keys: list[tuple[str, ...]] = []
    for key, members in by_key.items():  # best first, as dicts keep insertion order
        for group, group_key in zip(groups, group_keys):
            if _DAY_KEY not in (key[:1], group_key[:1]) and same_key(group_key, key):
                group.extend(members)
                break
        else:
            groups.append(list(members))
            group_keys.append(key)
    out = []
    for group in groups:
        group.sort(key=lambda x: -x[1])  # best first, so the first of each article is its best
        best_by_article: dict[str, float] = {}
        for _, score, s in group:
            best_by_article.setdefault(index.sentences[s].doc_id, score)
        sentences = tuple(dict.fromkeys(s for _, _, s in group))
        day = day_of(index, group[0][0], group[0][2])
        out.append(Group(group[0][0], corroborated(list(best_by_article.values())), sentences, day))
    return sorted(out, key=lambda g: -g.score)


def corroborated(scores: list[float]) -> float:
    """The chance that at least one of several articles' best sentences for an answer is right.

    Different reports of one event back each other: an answer that three articles give is
    likelier than one that a single sentence gives a little more strongly. Repeats inside
    one article are not counted again.
    """
    doubt = 1.0
    for score in scores:
        doubt *= 1.0 - min(max(score, 0.0), 1.0)
    return 1.0 - doubt


def disagreements(index: SearchIndex, best: Group, others: list[Group], min_score: float) -> list[Group]:
    """Other answers to the same fact from articles that do not carry the best answer.

    Two sentences report the same fact when their embeddings are close; only then is a
    different answer a disagreement rather than an answer to another question.
    """
    best_docs = {index.sentences[s].doc_id for s in best.sentences}
    anchor = index.sentence_vectors[best.sentences[0]]
    found = []
    for group in others:
        if group.score < min_score:
            continue
        if any(carries(index, s, best.answer, best.day) for s in group.sentences):
            continue
        rival = [s for s in group.sentences if index.sentences[s].doc_id not in best_docs]
        if rival and float(np.dot(anchor, index.sentence_vectors[rival[0]])) >= SAME_FACT_SIMILARITY:
            found.append(Group(group.answer, group.score, tuple(rival), group.day))
    return found


def one_per_article(index: SearchIndex, sentences: list[int]) -> list[int]:
    """The first (best) sentence of each article, in order."""
    seen: set[str] = set()
    out = []
    for s in sentences:
        doc = index.sentences[s].doc_id
        if doc not in seen:
            seen.add(doc)
            out.append(s)
    return out


def collapse_duplicates(index: SearchIndex, sentences: list[int]) -> list[list[int]]:
    """Sentences grouped when they are the same quote in different articles; order kept."""
    groups: list[list[int]] = []
    for s in sentences:
        tokens = set(index.sentence_tokens[s])
        for group in groups:
            other = set(index.sentence_tokens[group[0]])
            union = tokens | other
            if union and len(tokens & other) / len(union) >= NEAR_DUPLICATE_OVERLAP:
                group.append(s)
                break
        else:
            groups.append([s])
    return groups
