"""Paraphrases of one question get one answer, with what makes it true (the real model and reader)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REPO

pytestmark = pytest.mark.slow

FOOTBRIDGE = REPO / "tests" / "data" / "footbridge"  # five reports of a footbridge closure and one unrelated ferry


def test_how_much_the_ferry_costs_is_one_answer_however_it_is_asked(tmp_path: Path) -> None:
    from qa import ask

    answers = [
        ask(question, corpus=FOOTBRIDGE, index_dir=tmp_path / "index")
        for question in ("How much will the free ferry cost?", "How much will the free ferry cost the council?")
    ]
    assert [a.answer for a in answers] == ["£42,000", "£42,000"]  # the currency sign stays in the span
    assert all(a.answerable and a.citations[0].doc_id == "tanebury-gazette" for a in answers)
