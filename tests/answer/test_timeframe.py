"""The time a question asks about: a window of publication days before the day it is asked."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from qa.answer.timeframe import RECENT_DAYS, TimeWindow, format_range, latest_week, time_window
from qa.types import ArticleFilter

ASKED = date(2023, 1, 8)  # a Sunday


@pytest.mark.parametrize(
    "question, start, end",
    [
        ("Who won the game this week?", date(2023, 1, 2), ASKED),
        ("What happened this past week in Congress?", date(2023, 1, 2), ASKED),
        ("Which company announced layoffs last week?", date(2022, 12, 26), ASKED),
        ("Who resigned yesterday?", date(2023, 1, 7), ASKED),
        ("What did the senator say today?", ASKED, ASKED),
        ("Which show was recently green lit for a new season?", date(2022, 12, 10), ASKED),
        ("What is the latest country to join NATO?", date(2022, 12, 10), ASKED),
        ("How many jobs were added this month?", date(2023, 1, 1), ASKED),
        ("Which film led the box office last month?", date(2022, 12, 1), ASKED),
        ("Who has scored most this year?", date(2023, 1, 1), ASKED),
    ],
)
def test_time_words_set_a_window_before_the_day_asked(question: str, start: date, end: date) -> None:
    window = time_window(question, ASKED)
    assert window is not None and (window.start, window.end) == (start, end)
    assert window.words.lower() in question.lower()


def test_a_question_without_time_words_has_no_window() -> None:
    assert time_window("Who accepted the pledge and when?", ASKED) is None
    assert time_window("Which New York team won?", ASKED) is None  # "New" is no time word
    assert (ASKED - time_window("Who recently won?", ASKED).start).days == RECENT_DAYS - 1


def test_a_window_admits_days_inside_it_and_says_which() -> None:
    window = TimeWindow(date(2023, 1, 1), date(2023, 1, 7), "this week")
    assert window.admits(date(2023, 1, 1)) and window.admits(date(2023, 1, 7))
    assert not window.admits(date(2022, 12, 31)) and not window.admits(None)
    assert window.describe() == "articles of 1–7 Jan 2023"
    assert format_range(date(2022, 12, 28), date(2023, 1, 3)) == "28 Dec 2022 – 3 Jan 2023"
    assert format_range(date(2023, 1, 30), date(2023, 2, 5)) == "30 Jan – 5 Feb 2023"
    assert format_range(ASKED, ASKED) == "8 Jan 2023"


def _corpus(folder: Path) -> Path:
    folder.mkdir()
    articles = {
        "old.md": ("2022-11-02", "Ferry line names a new captain", "The ferry line named Ada Moss as its new captain on Tuesday."),
        "new.md": ("2023-01-05", "Ferry line names another captain", "The ferry line named Tom Reyes as its new captain on Thursday."),
        "later.md": ("2023-02-20", "Ferry line captain resigns", "Tom Reyes resigned as captain of the ferry line on Monday."),
    }
    for name, (day, title, body) in articles.items():
        (folder / name).write_text(f"---\ntitle: {title}\npublished: {day}\n---\n{body}\n", encoding="utf-8")
    return folder


@pytest.mark.slow
def test_asked_as_of_a_day_the_window_is_read_first_and_later_articles_never(tmp_path: Path) -> None:
    from qa import ask

    corpus = _corpus(tmp_path / "news")
    index_dir = tmp_path / "index"
    recent = ask("Who did the ferry line name as its new captain this week?", corpus=corpus, index_dir=index_dir,
                 as_of="2023-01-08")
    assert recent.answerable and "Reyes" in recent.answer and recent.window == "articles of 2–8 Jan 2023"
    assert recent.text.startswith("*From articles of 2–8 Jan 2023")
    before = ask("Who did the ferry line name as its new captain?", corpus=corpus, index_dir=index_dir, as_of="2022-12-01")
    assert "Moss" in before.answer and all(c.doc_id == "old" for c in before.citations)
    never_later = ask("Who resigned as captain?", corpus=corpus, index_dir=index_dir, as_of="2023-01-08")
    assert all(c.doc_id != "later" for c in never_later.citations)
    with pytest.raises(ValueError, match="as_of must be a date"):
        ask("Who resigned?", corpus=corpus, index_dir=index_dir, as_of="next Tuesday")


def test_the_latest_week_is_the_seven_days_up_to_the_day_asked() -> None:
    week = latest_week(ASKED)
    assert (week.start, week.end) == (date(2023, 1, 2), ASKED) and week.describe() == "articles of 2–8 Jan 2023"


@pytest.mark.slow
def test_a_question_without_time_words_keeps_the_latest_week_answer_when_it_is_surer(tmp_path: Path) -> None:
    from qa import ask

    corpus = tmp_path / "regatta"
    corpus.mkdir()
    articles = {  # the same race a year apart: the older report holds its winner twice
        "2022.md": ("2022-01-12", "Harbour regatta won by the Gulls",
                    "The Gulls won the harbour regatta on Sunday. The Gulls, a crew from Westport, finished two "
                    "lengths clear of the Herons."),
        "2023.md": ("2023-01-11", "Herons win the harbour regatta",
                    "The Herons won the harbour regatta on Sunday, finishing a length ahead of the Gulls."),
        "ferry.md": ("2022-06-01", "Ferry timetable changes", "The ferry line will add two crossings a day from June."),
    }
    for name, (day, title, body) in articles.items():
        (corpus / name).write_text(f"---\ntitle: {title}\npublished: {day}\n---\n{body}\n", encoding="utf-8")
    question, index_dir = "Which crew won the harbour regatta?", tmp_path / "index"
    that_week = ask(question, corpus=corpus, index_dir=index_dir, as_of="2023-01-14")
    assert "Herons" in that_week.answer and that_week.window == "articles of 8–14 Jan 2023", that_week.text
    assert that_week.text.startswith("*From the latest week, articles of 8–14 Jan 2023")
    assert all(c.doc_id == "2023" for c in that_week.citations[:1])
    # weeks later no article is of the latest week: every article is read as one, no window
    later = ask(question, corpus=corpus, index_dir=index_dir, as_of="2023-03-01")
    assert later.window == "" and later.answerable


@pytest.mark.slow
def test_an_index_and_its_views_find_articles_by_publication_day(tmp_path: Path) -> None:
    from qa.api import build_index

    corpus = _corpus(tmp_path / "news")
    (corpus / "undated.md").write_text(
        "---\ntitle: Ferry timetable\noutlet: Harbour Gazette\n---\nThe ferry runs hourly.\n", encoding="utf-8"
    )
    index = build_index(corpus, index_dir=tmp_path / "index", read_all=False)
    doc = {Path(a.path).stem: d for d, a in index.articles.items()}
    assert index.doc_ids_of(index.published_mask(date(2023, 1, 1), date(2023, 1, 31))) == {doc["new"]}
    assert index.doc_ids_of(index.published_mask(None, date(2023, 1, 8))) == {doc["old"], doc["new"]}
    assert index.doc_ids_of(index.published_mask(None, date(2023, 1, 8), undated=True)) == {doc["old"], doc["new"], doc["undated"]}
    assert index.doc_ids_of(index.published_mask(date(2023, 1, 6), None)) == {doc["later"]}
    view = index.within({doc["new"], doc["later"], doc["undated"]})
    assert view.doc_ids_of(view.published_mask(None, None, undated=True)) == {doc["new"], doc["later"], doc["undated"]}
    assert view.doc_ids_of(view.published_mask(None, date(2023, 1, 8))) == {doc["new"]}
    kept_sentences = {view.sentences[i].doc_id for i in view.tables["sentences"].keep.nonzero()[0]}
    assert kept_sentences == {doc["new"], doc["later"], doc["undated"]}
    # a question's filters are masks over the build's articles; a view of a view keeps what both keep
    narrower = view.within_articles(index.published_mask(date(2023, 1, 1), None))
    assert set(narrower.articles) == {doc["new"], doc["later"]} == index.doc_ids_of(narrower.articles.mask())
    for name in ("sentences", "chunks"):
        rows = view.chunks if name == "chunks" else view.sentences
        kept = {rows[i].doc_id for i in narrower.tables[name].keep.nonzero()[0]}
        assert kept == {doc["new"], doc["later"]}, name
    assert index.doc_ids_of(index.admitted_by(ArticleFilter(outlets=("harbour GAZETTE",)))) == {doc["undated"]}
    for scope in (
        ArticleFilter(published_from=date(2023, 1, 5)), ArticleFilter(published_to=date(2023, 1, 8)),
        ArticleFilter(outlets=("Harbour Gazette", "none")), ArticleFilter(published_from=date(2022, 1, 1), outlets=("x",)),
    ):
        assert index.doc_ids_of(index.admitted_by(scope)) == scope.doc_ids(index.articles.values()), scope
        assert view.doc_ids_of(view.admitted_by(scope)) == scope.doc_ids(view.articles.values()), scope


def test_the_passes_of_a_question_embed_it_once(tmp_path: Path, fake_settings, fake_embedder) -> None:
    from qa.api import answer_with_index
    from qa.indexing.catalog import ensure_index

    corpus = _corpus(tmp_path / "news")
    index = ensure_index(corpus, fake_settings, embedder=fake_embedder)
    counting = type(fake_embedder)()
    # no time words: read from every article up to the day, then from the latest week's alone
    answer = answer_with_index(index, "Who did the ferry line name as captain?", fake_settings, embedder=counting,
                               as_of=date(2023, 1, 8))
    assert answer.answerable and counting.calls == 1
