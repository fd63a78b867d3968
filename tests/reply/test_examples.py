"""Questions made from headlines (`qa.reply.examples`): who- and when-questions, or none."""

from __future__ import annotations

import pytest

from qa.reply.examples import headline, question_from, questions_from_headlines, truecase
from qa.types import Article

LIGHTHOUSE = (
    "Keeper Retires From Varnholt Lighthouse\n\nThe Varnholt lighthouse on the island of Osterby was kept for "
    "forty-one years by Margit Oyelaran, who retired on Tuesday.\n"
)
JOINED = (
    "The Islamic State And Boko Haram Have Officially Joined Forces\n\nThe Islamic State and Nigerian Islamic "
    "terror group Boko Haram officially joined forces.\n"
)
LEAD = (
    "Image caption Boko Haram began a campaign in 2009\n\nIslamic State (IS) has accepted a pledge of allegiance "
    "from Nigeria's militant group Boko Haram, according to an audio message.\n\nMore text follows here."
)


def article(title: str, text: str) -> Article:
    return Article("doc", title, text, "doc.txt", "0" * 64)


def test_a_headline_in_title_case_is_written_as_its_article_writes_each_word() -> None:
    assert truecase("Keeper Retires From Varnholt Lighthouse", LIGHTHOUSE) == "keeper retires from Varnholt lighthouse"
    assert truecase("Kelmsford sets budget", "Kelmsford sets its budget.") == "Kelmsford sets budget"  # sentence case
    assert truecase("Grimsholt Council Buys A Ferry", "The Grimsholt council voted.") == "Grimsholt council buys a ferry"


def test_the_headline_is_cut_of_its_site_name_and_a_cut_title_gives_the_lead_sentence() -> None:
    assert headline(article("Elon Musk pulls back on job cuts | CNN Business", "")) == "Elon Musk pulls back on job cuts"
    lead = headline(article("Islamic State (IS) has accepted a pledge of …", LEAD))
    assert lead == "Islamic State (IS) has accepted a pledge of allegiance from Nigeria's militant group Boko Haram, according to an audio message."
    assert headline(article("Where is the 2026 World Cup? Host cities", "")) is None  # already a question


@pytest.mark.slow
@pytest.mark.parametrize(
    ("title", "text", "question"),
    [
        ("Keeper Retires From Varnholt Lighthouse", LIGHTHOUSE, "When did the keeper retire from Varnholt lighthouse?"),
        ("The Islamic State And Boko Haram Have Officially Joined Forces", JOINED, "Who officially joined forces?"),
        ("Islamic State (IS) has accepted a pledge of …", LEAD,
         "Who accepted a pledge of allegiance from Nigeria's militant group?"),  # no attribution, no apposition
        ("Island Ferry Named", "Island Ferry Named\n\nThe ferry was named on Thursday.", "When was the island ferry named?"),
        ("Tormund Harbour Freezes Over", "The harbour of Tormund froze solid on Thursday.",
         "When did the Tormund harbour freeze over?"),
    ],
)
def test_a_headline_becomes_a_who_or_when_question(title: str, text: str, question: str) -> None:
    assert questions_from_headlines([article(title, text)]) == [question]


@pytest.mark.slow
def test_a_statement_without_subject_and_verb_gives_no_question() -> None:
    assert question_from("Aftermath of Boko Haram attack") is None
    assert question_from("The longest playoff droughts in sports") is None
    assert questions_from_headlines([article("Latin Grammys 2022: Full winners list", "")]) == []
