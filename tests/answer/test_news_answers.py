"""`ask()` on articles with metadata, real model and real FAISS index: citations carry outlet and
date, relative days are resolved, filters narrow the articles, every input keeps exact offsets."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from qa import ask
from qa.ingest.corpus import load_corpus

pytestmark = pytest.mark.slow
DATA = Path(__file__).resolve().parents[1] / "data"
QUESTION = "When did Islamic State accept the pledge?"


def report(outlet: str, published: str, headline: str, sentence: str) -> str:
    return f"---\noutlet: {outlet}\npublished: {published}\n---\n# {headline}\n\n{sentence}\n\nAnalysts said the move was symbolic.\n"


@pytest.fixture
def two_reports(tmp_path: Path) -> Path:
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "lagos.md").write_text(report(
        "Lagos Daily", "2015-03-13", "Islamic State accepts Boko Haram pledge",
        "Islamic State accepted the pledge of allegiance from Boko Haram on Thursday, its spokesman said.",
    ))
    (folder / "abuja.md").write_text(report(
        "Abuja Times", "2015-03-16", "Caliphate claims West Africa",
        "Islamic State accepted the pledge of allegiance from Boko Haram last Thursday, according to a recording.",
    ))
    return folder


def test_a_relative_day_is_resolved_and_articles_agree_on_the_resolved_day(two_reports: Path, tmp_path: Path) -> None:
    answer = ask(QUESTION, corpus=two_reports, index_dir=tmp_path / "index")
    part = answer.parts[0]
    assert part.answer == "Thursday" and part.resolved_date == "2015-03-12"
    assert "**Thursday (12 March 2015)**" in answer.text
    assert set(part.supporting_docs) == {"lagos", "abuja"}  # "on Thursday" (Fri) = "last Thursday" (Mon)
    assert not part.alternatives
    by_doc = {c.doc_id: c for c in answer.citations}
    assert (by_doc["lagos"].outlet, by_doc["lagos"].published) == ("Lagos Daily", "2015-03-13")
    assert "Lagos Daily, 13 March 2015" in answer.text


def test_the_same_weekday_a_week_apart_is_a_disagreement(two_reports: Path, tmp_path: Path) -> None:
    (two_reports / "abuja.md").write_text(report(
        "Abuja Times", "2015-03-20", "Caliphate claims West Africa",
        "Islamic State accepted the pledge of allegiance from Boko Haram on Thursday, according to a recording.",
    ))
    answer = ask(QUESTION, corpus=two_reports, index_dir=tmp_path / "index")
    part = answer.parts[0]
    days = {part.resolved_date, *(a for a, _ in part.alternatives)}
    assert days == {"2015-03-12", "Thursday (19 March 2015)"} or days == {"2015-03-19", "Thursday (12 March 2015)"}
    assert "The articles differ" in answer.text


def test_filters_by_outlet_and_date_range(two_reports: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    only_abuja = ask(QUESTION, corpus=two_reports, index_dir=index_dir, outlets=["abuja times"])
    assert {c.doc_id for c in only_abuja.citations} == {"abuja"}
    late = ask(QUESTION, corpus=two_reports, index_dir=index_dir, published_from="2015-03-14")
    assert {c.doc_id for c in late.citations} == {"abuja"}
    early = ask(QUESTION, corpus=two_reports, index_dir=index_dir, published_to="2015-03-13")
    assert {c.doc_id for c in early.citations} == {"lagos"}
    assert "reported by" not in early.text  # one article in scope


def test_a_filter_nothing_passes_says_so(two_reports: Path, tmp_path: Path) -> None:
    answer = ask(QUESTION, corpus=two_reports, index_dir=tmp_path / "index", published_from="2016-01-01")
    assert not answer.answerable and not answer.citations
    assert "No article matches the filter (published 2016-01-01 to any date)" in answer.text
    assert "2 of 2 articles have a publication date (2015-03-13 to 2015-03-16)" in answer.text


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"published_from": "next week"}, "published_from must be a date or an ISO day"),
        ({"published_from": "2015-03-20", "published_to": "2015-03-01"}, "is after published_to"),
        ({"outlets": [None]}, "outlets must be a list of outlet names"),
    ],
)
def test_a_malformed_filter_says_how_to_fix_it(kwargs: dict, message: str, two_reports: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=message):
        ask(QUESTION, corpus=two_reports, index_dir=tmp_path / "index", **kwargs)


def test_pages_and_dumps_are_answered_with_exact_offsets(tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(DATA / "grimsholt-gazette.html", folder / "ferry.html")
    rows = [
        {"id": "quarry", "outlet": "Helmsby Post", "published": "2015-03-12",
         "text": "Quarry Reopens\n\nThe Helmsby quarry reopened on Tuesday after a two-year closure."},
        {"text": "Harbour Freezes\n\nThe harbour of Tormund froze solid yesterday for the first time in decades."},
    ]
    (folder / "dump.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    texts = {a.doc_id: a.text for a in load_corpus(folder)}
    index_dir = tmp_path / "index"
    ferry = ask("When did the Grimsholt council vote to buy a new ferry?", corpus=folder, index_dir=index_dir)
    assert ferry.parts[0].resolved_date == "2015-03-12", ferry.text  # "Thursday" in a Friday page
    assert "Osprey Lantern" in ferry.citations[0].quote
    quarry = ask("When did the Helmsby quarry reopen?", corpus=folder, index_dir=index_dir)
    assert quarry.parts[0].answer == "Tuesday" and quarry.parts[0].resolved_date == "2015-03-10", quarry.text
    for answer in (ferry, quarry):
        assert answer.citations
        for citation in answer.citations:
            assert citation.quote == texts[citation.doc_id][citation.start : citation.end]
    assert ferry.citations[0].outlet == "The Grimsholt Gazette" and ferry.citations[0].published == "2015-03-13"
    assert quarry.citations[0].doc_id == "dump#quarry" and quarry.citations[0].outlet == "Helmsby Post"
