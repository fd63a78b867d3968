"""Exact values of the benchmark metrics on small hand-made cases."""

from __future__ import annotations

import pytest

from eval.datasets import EvalQuestion, Span
from eval.metrics import (
    Abstention,
    QuestionResult,
    abstention,
    citation_accuracy,
    citation_support,
    contains_answer,
    exact_match,
    first_relevant_rank,
    hit_at_1,
    mrr,
    normalize_answer,
    percentile,
    recall_at_k,
    score_answer,
    summarize,
    token_f1,
)
from qa.types import Answer, Citation, Passage, Source


def cite(doc_id: str, quote: str, *also: str) -> Citation:
    return Citation(
        doc_id=doc_id, title=doc_id, start=0, end=len(quote), quote=quote, score=1.0,
        also_in=tuple(Source(d, d, 0, len(quote)) for d in also),
    )


# --- normalisation, EM, F1 -------------------------------------------------------------


def test_normalize_answer_follows_squad() -> None:
    assert normalize_answer("The  Denver Broncos!") == "denver broncos"
    assert normalize_answer("An apple a day, (the) best.") == "apple day best"
    assert normalize_answer("Theatre") == "theatre"  # "the" only as a whole word
    assert normalize_answer("  ") == ""


def test_exact_match_classic_cases() -> None:
    assert exact_match("the Denver Broncos", ["Denver Broncos"]) == 1.0
    assert exact_match("Denver Broncos.", ["Carolina Panthers", "denver broncos"]) == 1.0
    assert exact_match("Broncos", ["Denver Broncos"]) == 0.0


def test_token_f1_classic_cases() -> None:
    # precision 1/1, recall 1/2: 2 * 1 * 0.5 / 1.5
    assert token_f1("Broncos", ["Denver Broncos"]) == pytest.approx(2 / 3)
    assert token_f1("the Denver Broncos", ["Denver Broncos"]) == 1.0
    # best over golds: "Denver" shares nothing with the first gold
    assert token_f1("Denver", ["Carolina Panthers", "Denver Broncos"]) == pytest.approx(2 / 3)
    # repeated tokens count once per gold occurrence: precision 1/2, recall 1/1
    assert token_f1("cat cat", ["a cat"]) == pytest.approx(2 / 3)
    # precision 2/4, recall 2/3 -> 2 * (1/2 * 2/3) / (1/2 + 2/3) = 4/7
    assert token_f1("Denver Broncos won easily", ["Denver Broncos team"]) == pytest.approx(4 / 7)
    assert token_f1("Panthers", ["Denver Broncos"]) == 0.0


def test_empty_prediction_for_answerable_question_scores_zero() -> None:
    assert exact_match("", ["Denver Broncos"]) == 0.0
    assert token_f1("", ["Denver Broncos"]) == 0.0
    assert exact_match("the", ["Denver Broncos"]) == 0.0  # normalises to nothing
    assert token_f1(" . ", ["Denver Broncos"]) == 0.0


def test_unanswerable_gold_both_ways() -> None:
    for metric in (exact_match, token_f1):
        assert metric("", []) == 1.0
        assert metric("The.", ()) == 1.0
        assert metric("Denver", []) == 0.0


# --- containment and hits --------------------------------------------------------------


def test_contains_answer_matches_whole_tokens_only() -> None:
    assert contains_answer("This is about that.", ["IS"])  # "is" is a token here
    assert not contains_answer("This thing", ["IS"])
    assert contains_answer("Islamic State (IS) has accepted a pledge", ["IS"])
    assert contains_answer("The Denver Broncos won.", ["denver broncos"])
    assert not contains_answer("Broncos of Denver", ["Denver Broncos"])
    assert not contains_answer("anything at all", ["the", ""])  # empty golds match nothing


def test_hit_at_1_two_part_needs_every_part() -> None:
    parts = (("Boko Haram",), ("2009", "in 2009"))
    assert not hit_at_1("Boko Haram", "", (), parts)
    quote = "Boko Haram began a military campaign in northern Nigeria in 2009."
    assert hit_at_1("Boko Haram", quote, (), parts)
    assert hit_at_1("", quote, (), parts)  # both parts in the quote alone


def test_hit_at_1_single_part_and_unanswerable() -> None:
    assert hit_at_1("Denver Broncos", "", ["Denver Broncos"])
    assert hit_at_1("", "The Denver Broncos won Super Bowl 50.", ["Denver Broncos"])
    assert not hit_at_1("Carolina", "Carolina lost.", ["Denver Broncos"])
    assert not hit_at_1("", "", [])  # unanswerable: measured by abstention instead


# --- citations and retrieval -----------------------------------------------------------


def test_citation_accuracy_uses_first_citation_and_also_in() -> None:
    gold = ("gold",)
    assert citation_accuracy([cite("gold", "q")], gold)
    assert citation_accuracy([cite("copy", "q", "other", "gold")], gold)
    assert not citation_accuracy([cite("copy", "q", "other")], gold)
    assert not citation_accuracy([cite("other", "q"), cite("gold", "q")], gold)
    assert not citation_accuracy([], gold)


def test_citation_support_checks_first_quote() -> None:
    answers = ["Denver Broncos"]
    assert citation_support([cite("d", "The Denver Broncos won.")], answers)
    assert not citation_support([cite("d", "Carolina lost."), cite("d", "Denver Broncos")], answers)
    assert not citation_support([], answers)


def test_first_relevant_rank_requires_containment() -> None:
    passages = [
        Passage("c1", "a", 0, 100, 0.9),
        Passage("c2", "b", 0, 50, 0.8),  # right doc, span sticks out past 50
        Passage("c3", "b", 40, 120, 0.7),
    ]
    assert first_relevant_rank(passages, [Span("b", 45, 60)]) == 3
    assert first_relevant_rank(passages, [Span("b", 40, 50), Span("a", 0, 100)]) == 1
    assert first_relevant_rank(passages, [Span("c", 0, 10)]) is None
    assert first_relevant_rank([], [Span("a", 0, 10)]) is None


def test_recall_and_mrr_exact() -> None:
    ranks = [1, 3, None, 6]
    assert recall_at_k(ranks, 1) == 0.25
    assert recall_at_k(ranks, 5) == 0.5
    assert recall_at_k(ranks, 10) == 0.75
    assert mrr(ranks) == pytest.approx((1 + 1 / 3 + 0 + 1 / 6) / 4)  # 0.375
    assert recall_at_k([], 5) is None and mrr([]) is None
    with pytest.raises(ValueError, match="k must be at least 1"):
        recall_at_k(ranks, 0)


# --- aggregates ------------------------------------------------------------------------


def test_abstention_with_and_without_unanswerables() -> None:
    outcomes = [(False, False), (False, True), (True, False), (True, True), (True, True)]
    assert abstention(outcomes) == Abstention(0.5, 1 / 3, unanswerable=2, answerable=3)
    assert abstention([(True, True), (True, False)]) == Abstention(None, 0.5, 0, 2)
    assert abstention([]) == Abstention(None, None, 0, 0)


def test_percentile_linear_interpolation() -> None:
    assert percentile([4, 1, 3, 2], 50) == 2.5
    assert percentile([1, 2, 3, 4], 95) == pytest.approx(3.85)  # 3 + 0.85 * (4 - 3)
    assert percentile([1, 2, 3, 4], 0) == 1 and percentile([1, 2, 3, 4], 100) == 4
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def record(**changes: object) -> QuestionResult:
    base = dict(
        id="q", type="who", answerable_gold=True, prediction="x", answerable_pred=True,
        confidence=0.5, em=0.0, f1=0.0, hit=False, cite_acc=False, cite_support=False,
        retrieval_rank=None, has_evidence=True, seconds=0.1,
    )
    return QuestionResult(**{**base, **changes})  # type: ignore[arg-type]


def test_summarize_by_hand() -> None:
    records = [
        record(id="a", em=1.0, f1=1.0, hit=True, cite_acc=True, cite_support=True,
               retrieval_rank=1, seconds=0.1),
        record(id="b", f1=0.5, hit=True, cite_acc=True, retrieval_rank=4, seconds=0.2),
        record(id="c", answerable_pred=False, prediction="", retrieval_rank=None, seconds=0.3),
        record(id="d", answerable_gold=False, answerable_pred=False, prediction="", em=1.0,
               f1=1.0, has_evidence=False, seconds=0.4),
    ]
    assert summarize(records) == pytest.approx({
        "count": 4, "answerable": 3, "unanswerable": 1,
        "em": 1 / 3, "f1": 0.5, "hit@1": 2 / 3,  # (1 + 0.5 + 0) / 3
        "citation_accuracy": 2 / 3, "citation_support": 1 / 3,
        "recall@1": 1 / 3, "recall@5": 2 / 3, "recall@10": 2 / 3,
        "mrr": (1 + 0.25 + 0) / 3,
        "abstain_unanswerable": 1.0, "wrongly_declined": 1 / 3,
        "median_ms": 250.0, "p95_ms": 385.0,  # 300 + 0.85 * 100
        "ece": 0.5,  # every confidence is 0.5 and no best guess is marked right
        "confidently_wrong": 0.0,  # the two answered questions are under 0.8
        "unanswerable_confident": 0.0,  # the unanswerable one was declined
    })


def test_summarize_empty_and_all_unanswerable() -> None:
    empty = summarize([])
    assert empty["count"] == 0 and empty["em"] is None and empty["median_ms"] is None
    only = summarize([record(answerable_gold=False, answerable_pred=True, has_evidence=False)])
    assert only["em"] is None and only["recall@5"] is None
    assert only["abstain_unanswerable"] == 0.0 and only["wrongly_declined"] is None


# --- scoring one answer ----------------------------------------------------------------


def question(**changes: object) -> EvalQuestion:
    base = dict(
        id="q1", question="Who won Super Bowl 50?", answers=("Denver Broncos",), answer_parts=(),
        answerable=True, gold_doc_ids=("sb50",), evidence=(Span("sb50", 10, 24),), type="who",
        tags=(),
    )
    return EvalQuestion(**{**base, **changes})  # type: ignore[arg-type]


def answer(text: str, citations: tuple[Citation, ...], answerable: bool = True) -> Answer:
    return Answer(
        question="Who won Super Bowl 50?", answer=text, text=text, citations=citations,
        confidence=0.8, answerable=answerable,
        passages=(Passage("x", "other", 0, 99, 0.9), Passage("y", "sb50", 0, 30, 0.5)),
    )


def test_score_answer_applies_every_metric() -> None:
    citations = (cite("copy", "The Denver Broncos won.", "sb50"),)
    got = score_answer(question(), answer("Broncos", citations), 0.25)
    assert got == QuestionResult(
        id="q1", type="who", answerable_gold=True, prediction="Broncos", answerable_pred=True,
        confidence=0.8, em=0.0, f1=pytest.approx(2 / 3), hit=True, cite_acc=True,
        cite_support=True, retrieval_rank=2, has_evidence=True, seconds=0.25, right=True,
    )


def test_score_answer_declined_counts_as_no_answer() -> None:
    guess = answer("Denver Broncos", (cite("sb50", "Denver Broncos won."),), answerable=False)
    got = score_answer(question(), guess, 0.1)
    assert (got.prediction, got.em, got.hit, got.cite_acc) == ("", 0.0, False, False)
    assert not got.answerable_pred
    assert got.retrieval_rank == 2  # retrieval is scored whatever the answerer decided
    unanswerable = question(answers=(), answerable=False, evidence=(), gold_doc_ids=())
    assert score_answer(unanswerable, guess, 0.1).em == 1.0
    assert score_answer(unanswerable, answer("Denver", ()), 0.1).em == 0.0


def test_score_answer_two_part_question() -> None:
    two = question(answers=(), answer_parts=(("Boko Haram",), ("2009",)), type="two_part")
    got = score_answer(two, answer("Boko Haram, 2009", (cite("sb50", "Boko Haram rose."),)), 0.1)
    # parts are joined by a space for EM/F1, so punctuation between them does not matter
    assert got.hit and got.em == 1.0 and got.cite_support
    partial = score_answer(two, answer("Boko Haram", ()), 0.1)
    assert not partial.hit and partial.f1 == pytest.approx(0.8)  # precision 1, recall 2/3


def test_abstention_trade_off_counts_both_sides_exactly() -> None:
    from eval.abstention import trade_offs
    from eval.metrics import QuestionResult

    def result(answerable: bool, confidence: float, hit: bool, answered: bool = True) -> QuestionResult:
        return QuestionResult("q", "who", answerable, "x", answered, confidence, 0.0, 0.0, hit and answered, False,
                              False, None, False, 0.0, right=hit)

    results = [
        result(True, 0.9, True), result(True, 0.12, True), result(True, 0.3, False),
        result(False, 0.08, False), result(False, 0.6, False), result(True, 0.01, False, answered=False),
    ]
    by_threshold = {round(t.threshold, 2): t for t in trade_offs(results, used=0.0)}
    assert by_threshold[0.0].answerable_declined == 0.25  # the one declined by the run itself
    assert by_threshold[0.0].hit_at_1 == 0.5
    assert by_threshold[0.0].unanswerable_declined == 0.0
    assert by_threshold[0.1].unanswerable_declined == 0.5
    assert by_threshold[0.15].answerable_declined == 0.5 and by_threshold[0.15].hit_at_1 == 0.25
    assert min(by_threshold) == 0.0

    # A run at 0.15 declined the answers at 0.12 and 0.08; its curve below 0.15 still counts
    # them answered (and right where they were), as the run at 0.0 did: one run, the whole curve.
    evidenced = results[:-1]  # (a declined answer under the run's threshold reads as declined by it)
    declined_by_run = [
        result(a.answerable_gold, a.confidence, a.right, answered=a.confidence >= 0.15) for a in evidenced
    ]
    assert trade_offs(declined_by_run, used=0.15) == trade_offs(evidenced, used=0.0)


def test_the_stored_threshold_declines_the_most_unanswerable_within_the_bound() -> None:
    from eval.abstention import TradeOff, bounded_threshold

    rows = [TradeOff(0.1, 0.70, 0.03, 0.8), TradeOff(0.2, 0.85, 0.08, 0.78), TradeOff(0.25, 0.85, 0.09, 0.77),
            TradeOff(0.3, 0.95, 0.12, 0.75)]
    assert bounded_threshold(rows).threshold == 0.2  # 0.3 declines too many answerable; 0.25 gains nothing
    assert bounded_threshold(rows, most_answerable_declined=0.2).threshold == 0.3
    assert bounded_threshold(rows, most_answerable_declined=0.01).threshold == 0.1  # none within: the lowest


def _result(confidence: float, right: bool, answered: bool = True, gold: bool = True):
    from eval.metrics import QuestionResult

    return QuestionResult("q", "who", gold, "x" if answered else "", answered, confidence, 0.0, 0.0, right and answered,
                          False, False, None, False, 0.01, right=right)


def test_calibration_error_is_zero_when_confidence_matches_the_share_right() -> None:
    from eval.calibration import calibration

    records = [_result(0.75, True), _result(0.75, True), _result(0.75, True), _result(0.75, False)]
    assert calibration(records).error == pytest.approx(0.0)
    assert calibration(records).bins == ((0.7, 4, 0.75, 0.75),)


def test_calibration_error_weighs_each_bin_by_its_share() -> None:
    from eval.calibration import calibration

    records = [_result(0.95, False), _result(0.15, False), _result(0.15, True)]  # bins: 0.9 (0 right), 0.1 (half)
    assert calibration(records).error == pytest.approx((0.95 + 2 * 0.35) / 3)
    assert calibration([]).error is None


def test_confidently_wrong_counts_only_answered_questions() -> None:
    from eval.calibration import confidently_wrong

    records = [_result(0.9, False), _result(0.9, True), _result(0.5, False), _result(0.95, False, answered=False)]
    assert confidently_wrong(records) == pytest.approx(1 / 3)
    assert confidently_wrong([_result(0.9, True, gold=False)]) == 1.0  # sure of an answer to an unanswerable question
    assert confidently_wrong([]) is None
