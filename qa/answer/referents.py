"""The kind of a name as the articles use it: the entity label the index holds for it.

A follow-up's pronoun is replaced only by a name that agrees with it (`qa.answer.followup`):
"he" by a person, "it" by an organisation, a place or a thing. Whether "Jean Moss" is a
person or "Save Our Libraries" an organisation is read off the entities the annotator found
where the articles name them, at index time, so answering never waits for a parser.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from qa.indexing.memory import SearchIndex
from qa.text import content_tokens, fold

NOUN_PHRASE = "NP"  # also given to most names; a typed label ("PERSON", "ORG") given to the same words wins
SENTENCES_READ = 40  # the sentences that match a name best; its label is the one most of them give it
_LEADING_THE = re.compile(r"^the\s+")
_POSSESSIVE = re.compile(r"['’]s$")


def entity_label(index: SearchIndex, name: str) -> str:
    """The label the annotator gave `name` most often where the articles name it ("PERSON", "ORG",
    "GPE", "DATE", ...; "NP" only when it never gave it a typed one), or "" when no entity of the
    index reads as the name.

    Only the `SENTENCES_READ` sentences that match the name's words best are read (one BM25
    look-up), so the cost does not grow with the corpus.
    """
    wanted = _key(name)
    tokens = content_tokens(name)
    if not wanted or not tokens or not index.sentences:
        return ""
    scores = np.asarray(index.tables["sentences"].postings.scores(tokens))
    count = min(SENTENCES_READ, len(scores))
    best = np.argpartition(-scores, count - 1)[:count]
    labels: Counter[str] = Counter()
    for row in best[scores[best] > 0]:
        sentence = index.sentences[int(row)]
        for entity in sentence.entities:
            text = sentence.text[entity.start - sentence.start : entity.end - sentence.start]
            if _key(text) == wanted:
                labels[entity.label] += 1
    typed = Counter({label: n for label, n in labels.items() if label != NOUN_PHRASE})
    return (typed or labels).most_common(1)[0][0] if labels else ""


def _key(text: str) -> str:
    """A name as it compares: folded, spaces collapsed, without "the" in front or "'s" behind."""
    return _POSSESSIVE.sub("", _LEADING_THE.sub("", " ".join(fold(text).split())))
