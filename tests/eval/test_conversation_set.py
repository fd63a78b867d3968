"""The conversational set (eval/conversation/questions.jsonl), how the benchmark asks it, its figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval import harness
from eval.conversation import load_conversation
from eval.metrics import QuestionResult, summarize

MIN_FOLLOW_UPS = 40


def test_every_follow_up_has_its_conversation_and_its_evidence(tmp_path: Path) -> None:
    evalset = load_conversation(tmp_path / "corpus")  # raises on evidence not found verbatim in its gold article
    assert len(evalset.questions) >= MIN_FOLLOW_UPS and all(q.history for q in evalset.questions)
    texts = {p.stem: " ".join(p.read_text(encoding="utf-8").split()).lower() for p in (tmp_path / "corpus").glob("*.txt")}
    assert len(texts) == 7  # the four seed articles and the council event's three, in one corpus
    for question in evalset.questions:
        gold = " ".join(texts[d] for d in question.gold_doc_ids)
        assert not question.answers or any(" ".join(a.split()).lower() in gold for a in question.answers), question.id
        assert question.question not in question.history, question.id
    by_event = [sum(f"-{event}-" in q.id for q in evalset.questions) for event in ("seed", "council")]
    assert min(by_event) >= 20, by_event  # both events are talked about


def record(id: str, hit: bool, alone_ok: bool | None, answerable: bool = True, declined: bool = False) -> QuestionResult:
    return QuestionResult(
        id=id, type="who", answerable_gold=answerable, prediction="" if declined else "x", answerable_pred=not declined,
        confidence=0.5, em=0.0, f1=0.0, hit=hit, cite_acc=False, cite_support=False, retrieval_rank=None,
        has_evidence=False, seconds=0.1, alone_ok=alone_ok,
    )


def test_the_follow_up_figures_by_hand() -> None:
    records = [
        record("a", hit=True, alone_ok=True),
        record("b", hit=False, alone_ok=True),  # worse in its conversation
        record("c", hit=True, alone_ok=False),  # better
        record("d", hit=False, alone_ok=False),
        record("e", hit=False, alone_ok=True, answerable=False, declined=False),  # answered an unanswerable one: worse
        record("f", hit=False, alone_ok=None),  # not a follow-up
    ]
    summary = summarize(records)
    assert summary["follow_ups"] == 5
    assert summary["follow_up_hit@1"] == pytest.approx(2 / 4) and summary["alone_hit@1"] == pytest.approx(2 / 4)
    assert summary["worse_than_alone"] == pytest.approx(2 / 5) and summary["better_than_alone"] == pytest.approx(1 / 5)
    assert "follow_ups" not in summarize([record("g", hit=True, alone_ok=None)])


def test_a_follow_up_is_asked_after_its_earlier_turns_each_with_the_replies_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qa.api
    from qa.types import Answer

    asked: list[tuple[str, tuple]] = []

    def fake(index, question, settings, history=None, **options):  # type: ignore[no-untyped-def]
        asked.append((question, tuple(history or ())))
        return Answer(question, f"A-{question}", f"**A-{question}**", (), 0.9, True)

    monkeypatch.setattr(qa.api, "answer_with_index", fake)
    evalset = load_conversation(tmp_path / "corpus")
    first, second = evalset.questions[1], evalset.questions[2]  # two follow-ups of one conversation
    assert first.history[0] == second.history[0] and len(second.history) == 3
    conversation = harness._Conversation(object(), object())  # type: ignore[arg-type]
    turns = conversation.turns(second.history, None)
    again = conversation.turns(second.history[:2], None)
    assert [q for q, _ in turns] == list(second.history)
    assert turns[1] == (second.history[1], f"**A-{second.history[1]}**")
    assert asked[1] == (second.history[1], ((second.history[0], f"**A-{second.history[0]}**"),))
    assert len(asked) == 3 and again == turns[:2]  # each earlier turn asked once
