"""A follow-up's pronoun stands for a name that agrees with it; else the turn before lends its words."""

from __future__ import annotations

import pytest

from qa.answer.followup import agrees, lean_on, names_in, short_answers
from qa.answer.question import analyse

# Entity labels as the index would give them (spaCy's), for names of the conversations below.
LABELS = {
    "Jean Moss": "PERSON", "Save Our Libraries": "ORG", "Islamic State": "ORG", "Abu Bakr al-Baghdadi": "PERSON",
    "Caliph Ibrahim": "PERSON", "Boko Haram": "ORG", "Saturday": "DATE", "2002": "DATE", "Nigerians": "NORP",
}


def kind_of(name: str) -> str:
    return LABELS.get(name, "")


def reply(answer: str) -> str:
    return f"**{answer}** [1]\n\n[1] “...” — an article"


def test_it_never_stands_for_a_person_so_the_earlier_question_lends_its_words() -> None:
    history = [("Who said a petition against the closures had been signed?", reply("Jean Moss"))]
    question, context = lean_on("And how many signatures did it gather?", history, kind_of)
    assert question == "And how many signatures did it gather?"  # not "... did Jean Moss gather?"
    assert context == "said a petition against the closures had been signed"
    part = analyse("And how many signatures did it gather?", history, kind_of).parts[0]
    assert "petition" in part.search_text and "Moss" not in part.search_text


def test_their_skips_the_latest_answer_when_it_is_a_person_and_finds_the_group() -> None:
    history = [
        ("Which group accepted Boko Haram's pledge?", reply("Islamic State")),
        ("Who is its leader?", reply("Abu Bakr al-Baghdadi")),
        ("What is he known as?", reply("Caliph Ibrahim")),
    ]
    assert lean_on("And who is their spokesman?", history, kind_of) == ("And who is Islamic State's spokesman?", "Islamic State")


def test_he_finds_the_person_and_it_the_organisation() -> None:
    history = [("Which group accepted the pledge?", reply("Islamic State")), ("Who is its leader?", reply("Abu Bakr al-Baghdadi"))]
    assert lean_on("What is he called?", history, kind_of)[0] == "What is Abu Bakr al-Baghdadi called?"
    assert lean_on("Where does it rule?", history, kind_of)[0] == "Where does Islamic State rule?"


def test_a_name_the_earlier_question_asked_about_can_be_the_referent() -> None:
    history = [("When was Boko Haram founded?", reply("2002"))]  # a day is never what "it" stands for
    assert lean_on("What does its name mean?", history, kind_of)[0] == "What does Boko Haram's name mean?"


def test_a_day_or_a_figure_is_never_a_referent_and_the_question_lends_its_words() -> None:
    history = [("When did Boko Haram's leader pledge allegiance?", reply("Saturday"))]
    question, context = lean_on("How did he make it?", history, kind_of)
    assert question == "How did he make it?" and context == "did Boko Haram's leader pledge allegiance"
    assert not agrees("it", "1.5 million", "")  # unknown to the index, but a figure


@pytest.mark.parametrize(
    ("pronoun", "label", "agreeing"),
    [("he", "PERSON", True), ("she", "ORG", False), ("it", "ORG", True), ("its", "PERSON", False),
     ("they", "NORP", True), ("their", "PERSON", False), ("it", "DATE", False), ("his", "", True)],
)
def test_agreement_by_label(pronoun: str, label: str, agreeing: bool) -> None:
    assert agrees(pronoun, "Some Name", label) is agreeing


def test_without_labels_a_capitalised_earlier_answer_still_stands_for_the_pronoun() -> None:
    # the rules annotator gives no person or organisation labels: a name still agrees
    history = [("Who accepted the pledge?", reply("Islamic State"))]
    assert analyse("And who is their leader?", history).parts[0].search_text == "And who is Islamic State's leader?"


def test_short_answers_read_as_written_and_names_leave_out_question_words() -> None:
    assert short_answers("Who: **1\\.5 million** [1]\nWhen: **Tom &amp; Jerry** [2]") == ["1.5 million", "Tom & Jerry"]
    assert short_answers("**Not in these articles.** None of the passages ...") == []
    assert names_in("Which group accepted Boko Haram's pledge in West Africa?") == ["Boko Haram", "West Africa"]
    assert names_in("And who is their leader?") == []


def test_a_question_that_does_not_lean_back_borrows_nothing() -> None:
    history = [("Who accepted the pledge?", reply("Islamic State"))]
    assert lean_on("Where is Tikrit located in Iraq?", history, kind_of) == ("Where is Tikrit located in Iraq?", "")
    assert lean_on("Who is their leader?", [], kind_of) == ("Who is their leader?", "")
