"""A description answered with the name it stands for: "Which show was green lit?" -> not
"the South Korean show" but "Squid Game", where the article names it.

News writes a name once and then refers back to it ("the show", "the company", "the
retailer"). When the best span for a "which/what <noun>" question is such a description,
its last word the very noun asked about, the article's own name for it is the answer: the
nearest name of a fitting kind in the sentences before it (the one it most likely points
back to), cited where that name stands. Only nouns that name things news reports by name
are resolved this way.
"""

from __future__ import annotations

from qa.answer.question import QuestionPart
from qa.indexing.memory import SearchIndex
from qa.text import words

# The nouns a "which X" question asks about that articles name, and the entity labels their names carry.
_NAMED = {
    **dict.fromkeys(("show", "series", "film", "movie", "album", "song", "book", "game", "play", "novel"),
                    ("WORK_OF_ART", "PROPER", "ORG", "PRODUCT", "EVENT")),
    **dict.fromkeys(("company", "firm", "retailer", "bank", "airline", "carrier", "network", "brand", "chain",
                     "startup", "manufacturer", "automaker", "maker", "platform", "app", "newspaper", "channel",
                     "broadcaster", "publisher", "studio", "agency", "group", "organization", "organisation",
                     "party", "union", "team", "club", "university", "band"), ("ORG", "PROPER", "PRODUCT")),
    **dict.fromkeys(("country", "nation", "city", "state", "region", "province", "town"), ("GPE", "PROPER")),
}
LOOK_BACK = 8  # sentences before the description searched for the name


def named_referent(
    index: SearchIndex, part: QuestionPart, answer: str, sentence: int
) -> tuple[str, int] | None:
    """(the name, the sentence it stands in) that the description `answer` in `sentence` refers
    to, for a "which/what <noun>" question whose noun ends the description; else None."""
    head = part.head
    labels = _NAMED.get(head)
    answer_words = words(answer)
    if labels is None or not answer_words or answer_words[-1] not in (head, head + "s"):
        return None
    asked = set(words(part.text))
    record = index.sentences[sentence]
    for back in range(0, LOOK_BACK + 1):
        s = index.sentence_index(record.doc_id, record.position - back)
        if s is None:
            break
        found = index.sentences[s]
        text = index.articles[found.doc_id].text
        names = [e for e in found.entities if e.label in labels and (s != sentence or e.end <= _start_of(found, answer))]
        for entity in sorted(names, key=lambda e: -e.start):  # the nearest before the description first
            name = text[entity.start : entity.end]
            name_words = words(name)
            if name_words and not set(name_words) <= asked and name_words[-1] != head:
                return name, s
    return None


def _start_of(sentence, answer: str) -> int:  # noqa: ANN001
    """Where `answer` starts in the sentence's article (the sentence's end when it is not found in it)."""
    at = sentence.text.find(answer)
    return sentence.start + at if at >= 0 else sentence.end
