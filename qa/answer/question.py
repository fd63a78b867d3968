"""What a question asks: its parts ("who ... and when?"), the type of answer each wants,
and, for a follow-up, the earlier turn it leans on."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, replace

from qa.answer.followup import ANAPHORA, LEADING_WH, WH, KindOf, lean_on, predicate

MAX_QUESTION_CHARS = 2000
MAX_QUESTION_PARTS = 4  # "who ... and when ... and where ...": more parts are dropped, with a warning
MAX_HISTORY_TURNS = 20  # only the latest turns can matter to a follow-up
MAX_HISTORY_CHARS = 20_000  # per question or reply of the history

PERSON, DATE, PLACE, NUMBER, REASON, DEFINITION, OTHER = (
    "person", "date", "place", "number", "reason", "definition", "other"
)
DURATION = "duration"  # "how long", "how soon": a stretch of time or a time ("four months", "by June")
ANSWER_TYPES = (PERSON, DATE, PLACE, NUMBER, REASON, DEFINITION, OTHER, DURATION)
TYPED = (PERSON, DATE, PLACE, NUMBER, DURATION)  # answered by a named thing, so articles can disagree on it

_SPLIT = re.compile(
    rf",?\s+(?:and|&)\s+(?:(?:to|from|with|by|for|of|in|on|at)\s+)?(?={WH}\b)", re.IGNORECASE
)
_PERSON_NOUNS = (
    r"person|people|man|woman|men|women|group|groups|organi[sz]ations?|militants?|leaders?|"
    r"team|company|party|spokesman|spokesperson|officials?|president|outlet|agency|newspaper|"
    r"broadcaster|movement|scientists?|emperor|king|queen|ruler|general|commander|author|writer|"
    r"philosopher|players?|coach|architect|engineer|actor|singer|poet|artist|minister|bishop|pope|"
    r"explorer|inventor|chemist|physicist|mathematician|economist|historian|politician|senator|"
    r"governor|mayor|founder|professor|journalist|expert|tribe|army|dynasty|family"
)
_AUXILIARIES = frozenset(
    "is are was were be been being do does did has have had can could will would may might must "
    "should shall".split()
)
_HEAD_OF = frozenset("type kind sort form part name number amount".split())
_TYPE_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(?:how (?:many|much)|what (?:percentage|proportion|number|amount|share))\b"), NUMBER),
    (re.compile(r"^(?:for )?how (?:long|soon)\b"), DURATION),
    (re.compile(r"^how (?:old|far|large|big|often)\b"), NUMBER),
    (re.compile(r"^(?:when|what (?:year|day|date|month|time|decade|century))\b"), DATE),
    (re.compile(r"^(?:which|what) (?:year|day|date|month|decade|century)\b"), DATE),
    (re.compile(r"^(?:where|(?:what|which|in what|in which) (?:country|countries|city|cities|town|towns|region|place|state|continent|location|area|capital))\b"), PLACE),
    (re.compile(rf"^(?:who|whom|whose|(?:what|which) (?:{_PERSON_NOUNS}))\b"), PERSON),
    (re.compile(r"^(?:why|what (?:caused|was the reason|is the reason|led to|prompted|motivated))\b|^for what reason\b"), REASON),
    (re.compile(r"^what (?:is|are|was|were|does|do)\s+(?:an?\s+|the\s+)?[\w'-]+(?:\s+[\w'-]+)?\s*(?:mean)?\s*\??$"), DEFINITION),
]
_NUMBER_QUANTIFIER = re.compile(r"\bhow\s+(?:many|much)\b", re.IGNORECASE)
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")


class QuestionWarning(UserWarning):
    """The question was changed before answering (for instance cut to length)."""


@dataclass(frozen=True)
class QuestionPart:
    """One thing asked: its own wording, the wanted answer type and the retrieval text."""

    text: str
    answer_type: str
    search_text: str
    head: str = ""
    asks_subject: bool = False
    about_first_part: bool = False  # "and when?": asks about what the first part's answer did

    @property
    def lexical_text(self) -> str:
        """The retrieval text as word matching reads it: without the quantifier of "how many" /
        "how much", which asks for a number and names no word the answer's sentence holds (in a
        small corpus "much" is often a word no article uses, and would weigh as a rare one)."""
        return _NUMBER_QUANTIFIER.sub("how", self.search_text)


@dataclass(frozen=True)
class Analysis:
    """A question split into parts, with the context a follow-up borrowed."""

    question: str
    parts: tuple[QuestionPart, ...]
    context: str = ""


def clean_question(question: object) -> str:
    """The question stripped and whitespace-collapsed, cut to 2,000 characters with a warning.

    Invisible control characters are dropped.

    Raises:
        ValueError: not a string, holds a lone surrogate (not text), or empty once stripped.
    """
    if not isinstance(question, str):
        raise ValueError(f"the question must be text, not {type(question).__name__}")
    _refuse_surrogates(question, "the question")
    text = " ".join(_CONTROL.sub("", question).split())
    if not text:
        raise ValueError("the question is empty; type a question about the articles, e.g. 'Who accepted the pledge?'")
    if len(text) > MAX_QUESTION_CHARS:
        warnings.warn(
            f"the question has {len(text)} characters; only the first {MAX_QUESTION_CHARS} are used",
            QuestionWarning,
            stacklevel=3,
        )
        text = text[:MAX_QUESTION_CHARS].rstrip()
    return text


def clean_history(history: object) -> list[tuple[str, str]]:
    """Earlier (question, reply) turns checked and bounded: the latest 20, each text cut to 20,000 characters.

    A missing reply (None) counts as an empty one.

    Raises:
        ValueError: not a list of [question, reply] pairs of text; the message says which turn.
    """
    if history is None:
        return []
    if isinstance(history, (str, bytes)) or not isinstance(history, (list, tuple)):
        raise ValueError(
            f"the history must be a list of [question, reply] pairs, not {type(history).__name__}"
        )
    turns: list[tuple[str, str]] = []
    for number, turn in enumerate(history[-MAX_HISTORY_TURNS:], start=1):
        if isinstance(turn, (str, bytes)) or not isinstance(turn, (list, tuple)) or len(turn) != 2:
            raise ValueError(
                f"turn {number} of the history is not a [question, reply] pair; "
                "send the history as a list of [question, reply] pairs of text"
            )
        question, reply = turn[0], "" if turn[1] is None else turn[1]
        if not isinstance(question, str) or not isinstance(reply, str):
            raise ValueError(f"turn {number} of the history holds something other than text; send text only")
        _refuse_surrogates(question, f"turn {number} of the history")
        _refuse_surrogates(reply, f"turn {number} of the history")
        turns.append((question[:MAX_HISTORY_CHARS], reply[:MAX_HISTORY_CHARS]))
    return turns


def part_count(question: str) -> int:
    """How many parts a cleaned question splits into, before the cap of `MAX_QUESTION_PARTS`."""
    return len(_SPLIT.split(question))


def _refuse_surrogates(text: str, what: str) -> None:
    found = _SURROGATE.search(text)
    if found:
        raise ValueError(
            f"{what} holds an invalid character at position {found.start()} (a lone UTF-16 surrogate, "
            "which is not text); retype it or paste it as plain text"
        )


def answer_type(text: str) -> str:
    """The kind of answer a (single-part) question wants, from its wh-phrase."""
    lowered = " ".join(re.sub(r"[^\w\s'-]", " ", text.lower()).split())
    lowered = re.sub(r"^(?:and|so|but|then|also|in|on|at|to|from|by|for|of|with)\s+", "", lowered)
    lowered = re.sub(r"^(?:can you tell me|tell me|do you know|please say)\s+", "", lowered)
    for pattern, kind in _TYPE_RULES:
        if pattern.search(lowered):
            return kind
    for word, kind in (("when", DATE), ("where", PLACE), ("who", PERSON), ("why", REASON), ("how many", NUMBER)):
        if re.search(rf"\b{word}\b", lowered):
            return kind
    return OTHER


def wh_head(text: str) -> str:
    """The noun a "what/which" question asks about: "What welding process was ..." -> "process".

    "What type of school ..." gives "school"; "What is ..." gives "".
    """
    found = re.search(r"\b(?:what|which)\s+((?:[\w'-]+\s+){0,3}?[\w'-]+)(?=\s+(?:%s)\b|\s*\?|$)"
                      % "|".join(sorted(_AUXILIARIES)), text.lower())
    phrase = found.group(1).split() if found else []
    if not phrase:
        match = re.search(r"\b(?:what|which)\s+([\w'-]+)", text.lower())
        phrase = [match.group(1)] if match else []
    if not phrase or phrase[0] in _AUXILIARIES:
        return ""
    if len(phrase) >= 3 and phrase[-2] == "of" and phrase[-3] in _HEAD_OF:
        return phrase[-1]
    if len(phrase) >= 2 and phrase[1] == "of" and phrase[0] in _HEAD_OF:
        return phrase[2] if len(phrase) > 2 else ""
    return phrase[-1] if len(phrase) <= 2 else phrase[0]


def asks_subject(text: str) -> bool:
    """Whether the wh-phrase is the subject: "Who accepted ...?" yes, "Who did X meet?" no.

    A copula leaves it open ("Who is the leader?" is answered by "the leader is Y" and by
    "Y, the leader"), so it does not count.
    """
    match = re.match(r"\s*(?:and\s+)?(?:who|what|which)(?:\s+[\w'-]+){0,2}?\s+([\w'-]+)", text.lower())
    if not match:
        return False
    verb = match.group(1)
    return verb not in _AUXILIARIES or verb in ("has", "have", "had")


def analyse(question: str, history: list[tuple[str, str]] | None = None, kind_of: KindOf | None = None) -> Analysis:
    """Split `question` into parts and, for a follow-up, borrow context from `history`.

    Args:
        question: a cleaned question (see `clean_question`).
        history: earlier (question, reply) turns, oldest first; replies as `Answer.text`.
        kind_of: the entity label of a name, by which a pronoun's referent is chosen
            (`qa.answer.followup`; default: every name of unknown kind).

    Returns:
        The parts, each with the text to search with; `context` is what the follow-up
        leaned on (the referent that replaced its pronoun, or the words it borrowed).
    """
    original = question
    question, context = lean_on(question, history or [], kind_of)
    borrowed = "" if question != original else context  # a referent in the question itself is not searched twice
    pieces = _SPLIT.split(question)
    if len(pieces) > MAX_QUESTION_PARTS:
        warnings.warn(
            f"the question has {len(pieces)} parts; only the first {MAX_QUESTION_PARTS} are answered "
            "(ask the others separately)",
            QuestionWarning,
            stacklevel=2,
        )
        pieces = pieces[:MAX_QUESTION_PARTS]
    parts: list[QuestionPart] = []
    if len(pieces) > 1:
        shared = predicate(pieces[0])
        for number, piece in enumerate(pieces):
            bare = _is_bare_wh(piece)
            text = f"{piece.strip(' ,?')} {shared}?".strip() if bare else piece.strip(" ,?") + "?"
            # "..., and when did IS accept it?": "it" is what the first part was about.
            leans = number > 0 and not bare and bool(ANAPHORA.search(piece))
            part = _part(text, f"{borrowed} {shared}".strip() if leans else borrowed)
            parts.append(replace(part, about_first_part=number > 0 and bare))
    else:
        parts.append(_part(question, borrowed))
    return Analysis(original, tuple(parts), context)


def _part(text: str, context: str) -> QuestionPart:
    return QuestionPart(text, answer_type(text), _with_context(text, context), wh_head(text), asks_subject(text))


def _with_context(text: str, context: str) -> str:
    return f"{text} {context}".strip() if context else text


def _is_bare_wh(piece: str) -> bool:
    """"when?", "and on what day?": a wh-phrase with at most one more word and no verb of its own."""
    match = LEADING_WH.match(piece)
    if not match:
        return False
    rest = piece[match.end():].strip(" ?,.").split()
    return len(rest) <= 1 and not (rest and rest[0].lower() in _AUXILIARIES)
