"""When two extracted answers name the same thing: "IS", "ISIS" and "Islamic State"."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from qa.text import STOPWORDS, contains_run, stem, without_article_prefix, words

# "Islamic State (IS)", "Voice of America (VOA)": a capitalised name, then its acronym in
# brackets. The brackets are found first; the name is then looked for just before them
# (scanning whole archives with the full pattern took most of an index's load time).
_BRACKETED_ACRONYM = re.compile(r"\(([A-Z]{2,8})\)")
_NAME_BEFORE = re.compile(r"\b((?:[A-Z][\w'’-]*)(?:\s+(?:of|the|and|for|de|al)?\s*[A-Z][\w'’-]*){0,6})\s+$")
_NAME_REACH = 600  # characters before the brackets a name of seven words may take
_ACRONYM = re.compile(r"\b[A-Z]{2,8}\b")
_TITLES = frozenset("mr mrs ms dr gen president leader spokesman caliph".split())


def answer_key(text: str) -> tuple[str, ...]:
    """Folded content words of an answer: "the Islamic State's" -> ("islamic", "state").

    Acronyms stay even when they spell a stopword ("IS").
    """
    acronyms = written_acronyms(text)
    return tuple(w for w in words(text) if w in acronyms or (w not in STOPWORDS and w not in _TITLES))


Alias = tuple[tuple[str, ...], tuple[str, ...]]  # an acronym's key and the key of its name


def find_aliases(texts: Iterable[str]) -> dict[tuple[str, ...], tuple[str, ...]]:
    """Acronyms defined in the texts, mapped to the key of the name they stand for."""
    return merged_aliases(aliases_of(text) for text in texts)


def aliases_of(text: str) -> tuple[Alias, ...]:
    """The acronyms one text defines, in order (an index stores them per article, so a load
    need not scan every article again)."""
    found: list[Alias] = []
    after_previous = 0  # a name never reaches back into the previous definition
    for bracket in _BRACKETED_ACRONYM.finditer(text):
        defined = _NAME_BEFORE.search(text, max(after_previous, bracket.start() - _NAME_REACH), bracket.start())
        if not defined:
            continue
        after_previous = bracket.end()
        acronym = bracket.group(1)
        name = _name_for(defined.group(1).split(), acronym)
        if name:
            found.append((answer_key(acronym), answer_key(name)))
    return tuple(found)


def merged_aliases(per_text: Iterable[Iterable[Alias]]) -> dict[tuple[str, ...], tuple[str, ...]]:
    """The texts' aliases as one table; a later definition of an acronym wins."""
    return {acronym: name for aliases in per_text for acronym, name in aliases}


@lru_cache(maxsize=1)
def aliases_code() -> str:
    """A hash of the code `aliases_of` runs: stored aliases made by other code are found again."""
    digest = hashlib.sha1()
    for path in (Path(__file__), Path(__file__).parents[1] / "text.py"):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _name_for(name_words: list[str], acronym: str) -> str | None:
    """The trailing words of `name_words` the acronym abbreviates ("IS" <- "Islamic State")."""
    best = None
    for k in range(1, len(name_words) + 1):
        suffix = name_words[-k:]
        initials = "".join(w[0] for w in suffix).upper()
        capitals = "".join(w[0] for w in suffix if w[0].isupper())
        if initials == acronym or capitals == acronym or (
            acronym.startswith(capitals) and len(capitals) >= 2 and suffix[0][0] == acronym[0]
        ):
            best = " ".join(suffix)
    return best


def canonical(key: tuple[str, ...], aliases: dict[tuple[str, ...], tuple[str, ...]]) -> tuple[str, ...]:
    """The key an acronym stands for, or the key itself."""
    return aliases.get(key, key)


def same_answer(a: str, b: str, aliases: dict[tuple[str, ...], tuple[str, ...]]) -> bool:
    """Whether two answer strings name the same thing.

    Equal keys, an acronym and its name, or one name inside the other ("Shekau" and
    "Abubakar Shekau", "Baghdadi" and "Abu Bakr al-Baghdadi").
    """
    return same_key(canonical(answer_key(a), aliases), canonical(answer_key(b), aliases))


def same_key(key_a: tuple[str, ...], key_b: tuple[str, ...]) -> bool:
    """`same_answer` on canonical keys (see `answer_key` and `canonical`)."""
    if not key_a or not key_b:
        return False
    if key_a == key_b:
        return True
    small, large = sorted((key_a, key_b), key=len)
    return contains_run(large, small) or contains_run(without_article_prefix(large), without_article_prefix(small))


def written_acronyms(text: str) -> set[str]:
    """Acronyms written in capitals in `text`, folded ("IS" counts, "is" does not)."""
    return {w.lower() for w in _ACRONYM.findall(text)}


def stems_with_other_names(text: str, aliases: dict[tuple[str, ...], tuple[str, ...]]) -> frozenset[str]:
    """Stems of the words of `text`, plus those of the other name of any name it uses.

    A question about "ISIS" also names the "Islamic State" when an article defines one as
    the other.
    """
    stems = {stem(w) for w in words(text)}
    out = set(stems)
    capitals = written_acronyms(text)
    for acronym, name in aliases.items():
        name_named = all(stem(w) in stems for w in name)
        if name_named or all(w in capitals for w in acronym):
            out.update(stem(w) for w in acronym + name if w not in STOPWORDS or w in capitals)
            if name_named:
                out.update(acronym)  # folded, so a sentence's words can match it
    return frozenset(out)
