"""Which of a follow-up's two answers is kept: the one read with the conversation, or the one
read from the question as asked (`qa.api._better_supported`)."""

from __future__ import annotations

from qa.api import _better_supported
from qa.types import Answer, Citation


class _Rarity:
    """Every word equally rare: the share of missing words is a plain count."""

    def idf(self, token: str) -> float:
        return 1.0


def _answer(answer: str, quote: str, confidence: float, answerable: bool = True) -> Answer:
    citation = Citation("doc", "Title", 0, len(quote), quote, 1.0)
    return Answer("q", answer, f"**{answer}** [1]", (citation,), confidence, answerable)


QUESTION = "When will its libraries close?"
# the borrowed name made the sentence that answered the last turn look relevant
LEANING = _answer("Tuesday night", "Two libraries will shut after the council passed its budget on Tuesday night.", 0.68)
ALONE = _answer("June 30", "The Ashby Road library and the Millfield library will close on June 30.", 0.42)


def test_the_answer_whose_sentence_holds_more_of_the_question_own_words_is_kept() -> None:
    # both name the libraries; only the second says they "close" (the first: "shut")
    assert _better_supported(_Rarity(), QUESTION, LEANING, ALONE) is ALONE


def test_with_the_own_words_matched_as_well_the_higher_confidence_wins() -> None:
    same_words = _answer("Tuesday night", "The libraries will close after the vote on Tuesday night.", 0.68)
    wordy = _answer("June 30", "The libraries will close on June 30.", 0.42)
    assert _better_supported(_Rarity(), QUESTION, same_words, wordy) is same_words
    assert _better_supported(_Rarity(), QUESTION, wordy, same_words) is same_words


def test_a_declined_answer_never_wins_on_words() -> None:
    declined = _answer("June 30", "The libraries will close on June 30.", 0.05, answerable=False)
    assert _better_supported(_Rarity(), QUESTION, LEANING, declined) is LEANING
    # the conversation's answer declined: the question asked alone is kept when surer
    assert _better_supported(_Rarity(), QUESTION, _answer("", "x", 0.05, answerable=False), ALONE) is ALONE


def test_the_same_answer_either_way_keeps_the_higher_confidence() -> None:
    sure = _answer("June 30", "The libraries will close on June 30.", 0.9)
    less = _answer("June 30", "Two libraries will shut on June 30.", 0.4)
    assert _better_supported(_Rarity(), QUESTION, less, sure) is sure
    assert _better_supported(_Rarity(), QUESTION, sure, less) is sure
