"""Writing part results up: numbered citations, abstention, rivals, escaping."""

from __future__ import annotations

import pytest

from qa.answer.corroborate import Group
from qa.answer.decide import PartResult
from qa.answer.question import analyse
from qa.indexing.catalog import ensure_index
from qa.reply.compose import NOT_FOUND, compose


@pytest.fixture
def index(tiny_corpus, fake_settings, fake_embedder):
    return ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)


def sentence_with(index, words: str) -> int:
    return next(i for i, s in enumerate(index.sentences) if words in s.text)


def result(part, answer: str, evidence: list[int], answered: bool = True, confidence: float = 0.9, rivals=()):
    ranked = tuple((s, 0.9 - 0.1 * i) for i, s in enumerate(evidence))
    return PartResult(part, answer, confidence, answered, tuple(evidence), ranked, (), tuple(rivals), True, {})


def test_citations_are_numbered_in_order_of_use_and_quote_the_article(index, fake_settings) -> None:
    analysis = analyse("Who cut the ribbon and when did the bridge reopen?")
    ribbon, reopened = sentence_with(index, "cut the ribbon"), sentence_with(index, "reopened on Monday")
    answer = compose(
        index, analysis, [result(analysis.parts[0], "Anna Lind", [ribbon]), result(analysis.parts[1], "Monday", [reopened])],
        fake_settings,
    )
    assert answer.answerable and answer.answer == "Anna Lind; Monday"
    assert [p.citation_numbers for p in answer.parts] == [(1,), (2,)]
    for citation in answer.citations:
        assert index.articles[citation.doc_id].text[citation.start : citation.end] == citation.quote
    assert "**Anna Lind** [1]" in answer.text and "**Monday** [2]" in answer.text
    assert answer.confidence == pytest.approx(0.9)


def test_nothing_answered_says_so_and_cites_the_nearest_passages(index, fake_settings) -> None:
    analysis = analyse("Who won the lottery?")
    nearest = [sentence_with(index, "cut the ribbon"), sentence_with(index, "closed the port")]
    answer = compose(index, analysis, [result(analysis.parts[0], "Anna Lind", nearest, answered=False, confidence=0.1)], fake_settings)
    assert not answer.answerable and answer.answer == ""
    assert answer.text.startswith(f"**{NOT_FOUND}**")
    assert len(answer.citations) == 2 and answer.parts[0].answer == ""


def test_one_part_declined_of_two_is_shown_as_not_found(index, fake_settings) -> None:
    analysis = analyse("Who cut the ribbon and why?")
    ribbon = sentence_with(index, "cut the ribbon")
    answer = compose(
        index, analysis, [result(analysis.parts[0], "Anna Lind", [ribbon]), result(analysis.parts[1], "x", [ribbon], False)],
        fake_settings,
    )
    assert answer.answerable and answer.answer == "Anna Lind"
    assert NOT_FOUND in answer.text.splitlines()[1]


def test_rival_answers_are_listed_with_their_own_citation(index, fake_settings) -> None:
    analysis = analyse("When did the bridge reopen?")
    reopened, port = sentence_with(index, "reopened on Monday"), sentence_with(index, "closed the port")
    rival = Group("Tuesday", 0.5, (port,))
    answer = compose(index, analysis, [result(analysis.parts[0], "Monday", [reopened], rivals=[rival])], fake_settings)
    assert answer.parts[0].alternatives == (("Tuesday", ("storm",)),)
    assert "The articles differ: 1 report **Tuesday** [2]" in answer.text


def test_article_text_cannot_inject_markdown(index, fake_settings) -> None:
    analysis = analyse("Who cut the ribbon?")
    ribbon = sentence_with(index, "cut the ribbon")
    answer = compose(index, analysis, [result(analysis.parts[0], "**Anna** <b>Lind</b>", [ribbon])], fake_settings)
    assert "**\\*\\*Anna\\*\\* &lt;b&gt;Lind&lt;/b&gt;**" in answer.text


@pytest.mark.parametrize(
    ("question", "answer_type", "label"),
    [
        ("when accepted the pledge?", "date", "When"), ("Who accepted the pledge?", "person", "Who"),
        ("and how many died?", "number", "How many"), ("which city was hit?", "place", "Which city"),
        ("what is the group called?", "other", "What"), ("name the leader", "person", "Who"),
        ("describe it", "other", "Answer"),
    ],
)
def test_part_labels_read_naturally(question: str, answer_type: str, label: str) -> None:
    from qa.reply.compose import _label
    from qa.types import AnswerPart

    assert _label(AnswerPart(question, answer_type, "x", 0.9)) == label
