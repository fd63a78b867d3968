"""Question analysis: answer types, two-part questions, follow-ups, bad input."""

from __future__ import annotations

import pytest

from qa.answer.question import (
    DATE, DURATION, NUMBER, OTHER, PERSON, PLACE, REASON, QuestionWarning, analyse, answer_type, clean_question,
)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who accepted the pledge?", PERSON),
        ("Which militant group swore loyalty?", PERSON),
        ("When was the tape released?", DATE),
        ("What year was Boko Haram founded?", DATE),
        ("Where is Boko Haram based?", PLACE),
        ("In which country is Tikrit?", PLACE),
        ("How many people were killed?", NUMBER),
        ("How much did the repairs cost?", NUMBER),
        ("Why were the elections delayed?", REASON),
        ("How soon could vaccines be available for children?", DURATION),  # a time or a stretch of it, not an age
        ("How long will the bridge stay shut?", DURATION),
        ("How old is the mayor?", NUMBER),
        ("What did the spokesman urge Muslims to do?", OTHER),
    ],
)
def test_answer_types(question: str, expected: str) -> None:
    assert answer_type(question) == expected


def test_two_part_question_borrows_the_predicate() -> None:
    analysis = analyse("Who accepted the pledge and when?")
    assert [(p.text, p.answer_type) for p in analysis.parts] == [
        ("Who accepted the pledge?", PERSON),
        ("when accepted the pledge?", DATE),
    ]
    assert [p.about_first_part for p in analysis.parts] == [False, True]


def test_independent_second_question_is_not_about_the_first_answer() -> None:
    analysis = analyse("Who leads Boko Haram and where is the group based?")
    assert [p.about_first_part for p in analysis.parts] == [False, False]
    assert analyse("Who accepted the pledge?").parts[0].about_first_part is False


def test_two_full_questions_joined_by_and() -> None:
    analysis = analyse("Who leads Boko Haram and where is the group based?")
    assert [p.answer_type for p in analysis.parts] == [PERSON, PLACE]
    assert analysis.parts[1].text == "where is the group based?"


def test_a_single_question_with_and_stays_whole() -> None:
    analysis = analyse("Which groups in Egypt and Libya pledged allegiance?")
    assert len(analysis.parts) == 1


def test_follow_up_uses_the_previous_answer() -> None:
    history = [("Who accepted the pledge?", "**Islamic State** [1]\n\n[1] “...”")]
    analysis = analyse("And who is their leader?", history)
    assert analysis.context == "Islamic State"
    # the pronoun stands for the previous answer, so the answer takes its place
    assert analysis.parts[0].search_text == "And who is Islamic State's leader?"
    assert analysis.question == "And who is their leader?"  # what the user asked is kept


def test_follow_up_after_a_miss_uses_the_previous_question() -> None:
    history = [("Who accepted the pledge?", "**Not in these articles.** None of ...")]
    assert analyse("When did they do it?", history).context == "accepted the pledge"


def test_self_contained_question_ignores_history() -> None:
    history = [("Who accepted the pledge?", "**Islamic State** [1]")]
    assert analyse("Where is Tikrit located in Iraq?", history).context == ""


@pytest.mark.parametrize("bad", ["", "   ", "\n\t"])
def test_empty_question_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="the question is empty"):
        clean_question(bad)


def test_non_text_question_is_refused() -> None:
    with pytest.raises(ValueError, match="must be text"):
        clean_question(None)


def test_long_question_is_cut_with_a_warning() -> None:
    with pytest.warns(QuestionWarning, match="only the first 2000"):
        text = clean_question("why " * 1000)
    assert 1990 <= len(text) <= 2000 and text == text.strip()  # no space left dangling at the cut


def test_the_query_of_how_many_leaves_out_the_quantifier_only() -> None:
    import numpy as np

    from qa.answer.question import analyse
    from qa.retrieve.retriever import Query
    from qa.text import content_tokens

    vector = np.zeros(2, dtype=np.float32)

    def tokens(question: str) -> tuple[str, ...]:
        part = analyse(question).parts[0]
        return Query.of(part.search_text, vector, part.lexical_text).tokens

    assert tokens("How many people died in the storm?") == tuple(content_tokens("people died storm"))
    assert tokens("HOW MUCH was the budget?") == tuple(content_tokens("budget"))
    # elsewhere "many" and "much" are words like any other
    assert "mani" in tokens("Were many people hurt?")
    assert "much" in tokens("Who said the budget was too much?")
