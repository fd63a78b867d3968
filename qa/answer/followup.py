"""What a follow-up leans on: the referent of its pronoun, chosen by agreement, or the turn before.

"And who is their leader?" after "Who accepted the pledge?" was answered **Islamic State**:
"their" stands for a group, and Islamic State is one, so the question is asked as "And who
is Islamic State's leader?". "And how many signatures did it gather?" after "Who organised
the petition?" was answered **Jean Moss**: "it" cannot stand for a person, so her name does
not replace it; the earlier question's words ("organised the petition") are searched with
the follow-up instead. A name's kind is the entity label the index holds for it
(`qa.answer.referents.entity_label`, given here as `kind_of`): a person for he and she, an
organisation, place or thing for it, a group or a nation for they. Candidates are the
answers of the latest turns, newest first, then the names their questions asked about.

The words after a question's wh-phrase (`predicate`) live here too: a follow-up borrows
them from the turn before, and `qa.answer.question` splits two-part questions with them.
"""

from __future__ import annotations

import html
import re
from typing import Callable, Iterator

KindOf = Callable[[str], str]  # a name -> the entity label the index holds for it ("PERSON", "ORG"; "" unknown)

WH = r"(?:who|whom|whose|when|where|why|what|which|how)"
LEADING_WH = re.compile(
    rf"^\s*(?:(?:and|so|but|then|also)\s+)?(?:(?:to|from|with|by|for|of|in|on|at)\s+)?"
    rf"({WH})\b((?:\s+(?:many|much|long|old|far|often|large|big|soon))?)",
    re.IGNORECASE,
)
ANAPHORA = re.compile(
    r"\b(?:he|she|they|them|their|theirs|his|her|hers|its|it|this|that|these|those|there|"
    r"the group|the organi[sz]ation|the man|the leader)\b",
    re.IGNORECASE,
)
_PRONOUN = re.compile(r"\b(?:he|she|they|them|their|his|her|him|its|it)\b", re.IGNORECASE)
_NOUN_FOLLOWS = re.compile(r"\s+(?!(?:to|for|with|by|from|at|in|on|about|and|or|as)\b)[A-Za-z]")
_CONTINUATION = re.compile(r"^\s*(?:and|but|also|what about|how about|so)\b", re.IGNORECASE)
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ESCAPED = re.compile(r"\\([\\`*_{}\[\]#|~.)+-])")
_NAME = re.compile(r"[A-Z][\w-]*(?:\s+(?:al-|bin\s+|ibn\s+)?[A-Z][\w-]*)*")
_NOT_NAMES = frozenset(
    "who whom whose when where why what which how and but so also then did does do is was were are has have had "
    "will would can could in on at to of for from by with the a an".split()
)
_DIGIT = re.compile(r"\d")
LOOK_BACK_TURNS = 3  # a pronoun stands for something of the latest turns, not of the whole conversation

# Which entity labels each pronoun agrees with (spaCy's labels; the rules annotator's PROPER
# and a name the index does not know are "unknown", below).
_PERSONAL = frozenset("he him his she her hers".split())
_THING = frozenset("it its".split())
_AGREES = {
    "person": frozenset({"PERSON"}),
    "thing": frozenset({"ORG", "GPE", "LOC", "FAC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE"}),
    "group": frozenset({"ORG", "NORP", "GPE"}),
}
_UNKNOWN = frozenset({"", "PROPER"})


def pronoun_kind(word: str) -> str:
    """"person" for he/she and their forms, "thing" for it/its, "group" for they/them/their."""
    word = word.lower()
    return "person" if word in _PERSONAL else "thing" if word in _THING else "group"


def agrees(pronoun: str, name: str, label: str) -> bool:
    """Whether `name`, whose entity label is `label`, can be what `pronoun` stands for.

    A name of unknown kind (no label, or the rules annotator's PROPER) agrees when it reads as
    a proper name: a capital letter in front, no digit (never a day or a figure).
    """
    if label in _UNKNOWN:
        return bool(name[:1].isupper()) and not _DIGIT.search(name)
    return label in _AGREES[pronoun_kind(pronoun)]


def lean_on(question: str, history: list[tuple[str, str]], kind_of: KindOf | None = None) -> tuple[str, str]:
    """The follow-up with its pronoun replaced by its referent, and the context it borrows.

    Args:
        question: a cleaned question.
        history: earlier (question, reply) turns, oldest first; replies as `Answer.text`.
        kind_of: the entity label of a name (default: every name is of unknown kind).

    Returns:
        (question, context): the question as it is to be read, its first personal pronoun
        replaced by the nearest earlier answer or name that agrees with it (the context is
        then that referent); else the question unchanged and the words of the last turn it
        leans on (its answer, or, when that is a day, a figure or a name the pronoun cannot
        stand for, its question's words after the wh-phrase); ("question", "") for a question
        that does not lean back.
    """
    if not history or not leans_back(question):
        return question, ""
    kind_of = kind_of or (lambda name: "")
    pronoun = _PRONOUN.search(question)
    if pronoun is not None:
        for name, from_answer in _candidates(history):
            label = kind_of(name)
            if (from_answer or label not in _UNKNOWN) and agrees(pronoun.group(0), name, label):
                return resolve_pronoun(question, name), name
        return question, predicate(history[-1][0] or "")
    last = previous_answer(history)
    if last and any(agrees(word, last, kind_of(last)) for word in ("he", "it", "they")):  # a name, not a day or figure
        return question, last
    return question, predicate(history[-1][0] or "")


def leans_back(question: str) -> bool:
    """Whether a question refers to the turn before: a pronoun, "and ...", or a bare "Why?"."""
    words = re.findall(r"[\w'-]+", question)
    bare_wh = len(words) <= 3 and bool(LEADING_WH.match(question))  # "Why?", "When was that?"
    return bool(ANAPHORA.search(question) or _CONTINUATION.search(question)) or bare_wh


def _candidates(history: list[tuple[str, str]]) -> Iterator[tuple[str, bool]]:
    """(name, whether it was an answer) of the latest turns, newest first: each turn's answers, then
    the names its question asked about."""
    for question, reply in reversed(history[-LOOK_BACK_TURNS:]):
        for answer in short_answers(reply):
            yield answer, True
        for name in names_in(question):
            yield name, False


def short_answers(reply: str) -> list[str]:
    """The short answers of a reply (its bold texts, markdown escapes undone); none after a miss."""
    found = [_plain(m.group(1)) for m in _BOLD.finditer(reply or "")]
    return [a for a in found if a and "not in these articles" not in a.lower()]


def previous_answer(history: list[tuple[str, str]]) -> str:
    """The short answer of the last turn (its first bold text), or "" after a miss."""
    answers = short_answers(history[-1][1]) if history else []
    return answers[0] if answers else ""


def names_in(question: str) -> list[str]:
    """Capitalised names a question mentions ("Boko Haram" in "Who leads Boko Haram's army?")."""
    names = []
    for match in _NAME.finditer(question):
        words = match.group(0).split()
        while words and words[0].lower() in _NOT_NAMES:
            words = words[1:]
        if words:
            names.append(" ".join(words))
    return names


def resolve_pronoun(question: str, referent: str) -> str:
    """The question with its first personal pronoun replaced by `referent`.

    "And who is their leader?" with "Islamic State" gives "And who is Islamic State's
    leader?": possessives become "<referent>'s", subjects and objects the referent itself,
    so the reader and the retriever see what the pronoun stands for.
    """
    match = _PRONOUN.search(question)
    if not match:
        return question
    word = match.group(0).lower()
    follows = question[match.end():]
    possessive = word in ("their", "its", "his") or (word == "her" and bool(_NOUN_FOLLOWS.match(follows)))
    if match.start() > 0 and referent[:4] == "The ":
        referent = "the " + referent[4:]  # "Who is the Islamic State's leader?"
    name = f"{referent}'s" if possessive else referent
    return question[: match.start()] + name + follows


def predicate(piece: str) -> str:
    """What a question says after its wh-phrase: "Who accepted the pledge" -> "accepted the pledge"."""
    match = LEADING_WH.match(piece)
    rest = piece[match.end():] if match else piece
    return rest.strip(" ?,.")


def _plain(markdown: str) -> str:
    """Escaped markdown text as it reads: "1\\.5 million" -> "1.5 million", "&amp;" -> "&"."""
    return html.unescape(_ESCAPED.sub(r"\1", markdown)).strip()
