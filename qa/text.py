"""Normalised tokens for lexical matching: folded case and accents, no stopwords, stems."""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

import snowballstemmer

WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)

STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are aren't as at be because been
    before being below between both but by can cannot could did do does doing down during
    each few for from further had has have having he her here hers herself him himself his
    how i if in into is it its itself just let me more most my myself no nor not of off on
    once only or other ought our ours ourselves out over own same she should so some such
    than that the their theirs them themselves then there these they this those through to
    too under until up very was we were what when where which while who whom whose why will
    with would you your yours yourself yourselves s t also did does said says say
    """.split()
)

# A Snowball stemmer keeps the word it is stemming in itself: two threads stemming with one
# stemmer read each other's words (an IndexError, or a wrong stem). Each thread has its own.
_stemmers = threading.local()


# Characters that do not show: a soft hyphen ("Bagh\u00addadi" reads "Baghdadi"), zero-width
# spaces and joiners, a byte-order mark.
INVISIBLE = frozenset("\u00ad\u200b\u200c\u200d\u2060\ufeff")


def fold(text: str) -> str:
    """Lower-case, NFKC-normalise (a non-breaking space is a space), strip accents and drop
    characters that do not show (`INVISIBLE`), so words compare as they read."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text))
    return "".join(c for c in decomposed if not unicodedata.combining(c) and c not in INVISIBLE).lower()


def words(text: str) -> list[str]:
    """Folded word tokens, possessive endings removed ("Haram's" -> "haram")."""
    out = []
    for match in WORD.finditer(fold(text)):
        word = match.group().replace("’", "'")
        if word.endswith("'s"):
            word = word[:-2]
        out.append(word)
    return out


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Snowball (Porter 2) stem of one folded word; safe to call from many threads at once."""
    stemmer = getattr(_stemmers, "english", None)
    if stemmer is None:
        stemmer = _stemmers.english = snowballstemmer.stemmer("english")
    return stemmer.stemWord(word)


def content_tokens(text: str) -> list[str]:
    """The tokens BM25 and overlap features use: stems of the non-stopwords."""
    return [stem(w) for w in words(text) if w not in STOPWORDS]


def contains_run(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    """Whether `needle` occurs in `haystack` as consecutive items (an empty needle never does)."""
    n = len(needle)
    return n > 0 and any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def without_article_prefix(key: tuple[str, ...]) -> tuple[str, ...]:
    """Arabic names: "al-Baghdadi" and "Baghdadi" are one name (`words` splits the hyphen)."""
    return tuple(w for w in key if w not in ("al", "el"))
