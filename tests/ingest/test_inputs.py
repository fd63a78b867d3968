"""Metadata and the other inputs: YAML front matter, saved web pages, JSON-lines dumps."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.ingest.corpus import CorpusWarning, load_corpus
from qa.ingest.metadata import parse_date, split_front_matter
from qa.ingest.titles import fallback_title
from qa.types import Article, ArticleFilter

DATA = Path(__file__).resolve().parents[1] / "data"
FRONT_MATTER = """---
title: IS accepts Boko Haram pledge
source: BBC News
url: https://www.bbc.co.uk/news/world-africa-31862992
author: [Anna Holligan, Tom Esslemont]
date: 2015-03-13
---
Islamic State has accepted a pledge of allegiance from Boko Haram, its spokesman said on Thursday.
"""


def load(folder: Path) -> dict[str, Article]:
    return {a.doc_id: a for a in load_corpus(folder)}


def test_front_matter_gives_metadata_and_is_not_part_of_the_text(tmp_path: Path) -> None:
    (tmp_path / "pledge.md").write_text(FRONT_MATTER, encoding="utf-8")
    (tmp_path / "plain.txt").write_text("---\noutlet: Reuters\npublished: 12 March 2015\n---\nBody text here.\n")
    articles = load(tmp_path)
    pledge = articles["pledge"]
    assert (pledge.title, pledge.outlet, pledge.published) == ("IS accepts Boko Haram pledge", "BBC News", "2015-03-13")
    assert pledge.author == "Anna Holligan, Tom Esslemont"
    assert pledge.url == "https://www.bbc.co.uk/news/world-africa-31862992"
    assert pledge.text == FRONT_MATTER.split("---\n", 2)[2]  # the body, exactly as in the file
    assert pledge.published_date == date(2015, 3, 13)
    assert (articles["plain"].outlet, articles["plain"].published) == ("Reuters", "2015-03-12")


def test_without_front_matter_the_text_is_the_whole_file(tmp_path: Path) -> None:
    text = "Council Votes\n\n---\n\nA rule inside the article is not front matter.\n"
    (tmp_path / "a.txt").write_text(text, encoding="utf-8")
    article = load(tmp_path)["a"]
    assert article.text == text
    assert (article.outlet, article.published, article.url, article.author) == ("", "", "", "")


def test_bad_front_matter_is_cut_off_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("---\ntitle: [unclosed\n---\nThe body.\n", encoding="utf-8")
    (tmp_path / "b.md").write_text("---\ndate: sometime soon\n---\nAnother body.\n", encoding="utf-8")
    with pytest.warns(CorpusWarning) as caught:
        articles = load(tmp_path)
    assert articles["a"].text == "The body.\n"
    assert articles["b"].published == ""
    messages = " ".join(str(w.message) for w in caught)
    assert "a.md: the front matter is not valid YAML" in messages
    assert "b.md: cannot read the date 'sometime soon'; write it as 2015-03-12" in messages


def test_saved_page_keeps_the_article_and_drops_the_boilerplate(tmp_path: Path) -> None:
    shutil.copy(DATA / "grimsholt-gazette.html", tmp_path / "ferry.html")
    page = load(tmp_path)["ferry"]
    assert page.title == "Grimsholt Council Buys A Ferry"
    assert (page.outlet, page.published, page.author) == ("The Grimsholt Gazette", "2015-03-13", "Ida Berg")
    assert page.url == "https://gazette.example/ferry"
    assert "voted on Thursday to buy a new ferry named Osprey Lantern" in page.text
    assert "ninety cars" in page.text and "seven votes to two" in page.text
    for boilerplate in ("Share on Facebook", "Cookie policy", "Bridge plan shelved", "Home"):
        assert boilerplate not in page.text
    assert "<" not in page.text


def test_page_without_article_text_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "empty.html").write_text("<html><head><title>x</title></head><body></body></html>")
    (tmp_path / "a.txt").write_text("Something to read.\n")
    with pytest.warns(CorpusWarning, match="empty.html: no article text found in the page"):
        assert set(load(tmp_path)) == {"a"}


def test_jsonl_dump_one_article_per_line_bad_rows_named(tmp_path: Path) -> None:
    rows = [
        json.dumps({"id": "q-1", "title": "Quarry reopens", "outlet": "Helmsby Post", "published": "March 12, 2015",
                    "text": "The Helmsby quarry reopened on Tuesday after two years."}),
        "not json at all",
        json.dumps({"title": "no text"}),
        "[1, 2]",
        "",
        json.dumps({"text": "A row with only text, about the harbour of Grimsholt, which froze yesterday."}),
    ]
    (tmp_path / "dump.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.warns(CorpusWarning) as caught:
        articles = load(tmp_path)
    assert set(articles) == {"dump#q-1", "dump#line-6"}
    quarry = articles["dump#q-1"]
    assert (quarry.title, quarry.outlet, quarry.published) == ("Quarry reopens", "Helmsby Post", "2015-03-12")
    assert quarry.text == "The Helmsby quarry reopened on Tuesday after two years."
    assert articles["dump#line-6"].title == "A row with only text, about the harbour …"
    messages = [str(w.message) for w in caught]
    assert any("dump.jsonl line 2: not JSON" in m for m in messages)
    assert any("dump.jsonl line 3: it has no \"text\" string" in m for m in messages)
    assert any("dump.jsonl line 4: a row must be a JSON object" in m for m in messages)
    assert not any("line 5" in m for m in messages)  # a blank line is no row


def test_dump_rows_hash_on_their_own(tmp_path: Path) -> None:
    dump = tmp_path / "d.jsonl"
    dump.write_text(json.dumps({"text": "First article."}) + "\n" + json.dumps({"text": "Second article."}) + "\n")
    before = {a.doc_id: a.sha256 for a in load_corpus(tmp_path)}
    dump.write_text(json.dumps({"text": "First article."}) + "\n" + json.dumps({"text": "Second, edited."}) + "\n")
    after = {a.doc_id: a.sha256 for a in load_corpus(tmp_path)}
    assert before["d#line-1"] == after["d#line-1"]  # an unchanged row is reused whole by the next build
    assert before["d#line-2"] != after["d#line-2"]


@pytest.mark.parametrize(
    "value, day",
    [
        ("2015-03-12", date(2015, 3, 12)), ("2015-03-12T23:10:00Z", date(2015, 3, 12)),
        ("12 March 2015", date(2015, 3, 12)), ("March 12, 2015", date(2015, 3, 12)),
        ("Thu, 12 Mar 2015 10:00:00 +0000", date(2015, 3, 12)), (date(2015, 3, 12), date(2015, 3, 12)),
        ("soon", None), ("", None), (12, None),
    ],
)
def test_dates_in_the_forms_news_metadata_uses(value: object, day: date | None) -> None:
    assert parse_date(value) == day


_DAY_SHAPES = st.one_of(
    st.builds(lambda day, form: day.strftime(form), st.dates(date(1000, 1, 1), date(9999, 12, 31)),
              st.sampled_from(["%Y/%m/%d", "%Y/%-m/%-d", "%d.%m.%Y", "%Y-%m-%d", "%d %B %Y", "%b %d, %Y", "%B %d %Y", "%m/%d/%Y"])),
    st.from_regex(r"\A\d{1,5}[/. -]\d{1,3}[/. -]\d{1,5}\Z"),  # digits that are no day, or are one by chance
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_DAY_SHAPES, st.text(max_size=14)))
def test_a_day_reads_as_trying_every_form_in_turn_reads_it(text: str) -> None:
    """A date of digits alone skips the forms that name the month; the day found is the same
    as when every form is tried in turn (parse_date as it was)."""
    from unittest.mock import patch

    from qa.ingest import metadata

    found = parse_date(text)
    with patch.object(metadata, "_NUMERIC_DAY_FORMATS", metadata._DAY_FORMATS):
        assert found == parse_date(text)


def test_front_matter_needs_an_opening_and_a_closing_rule() -> None:
    assert split_front_matter("---\nno closing rule\n", "x", print) == ({}, 0)
    assert split_front_matter("---\nA paragraph of prose: set off by rules.\n---\nMore.", "x", print) == ({}, 0)
    assert split_front_matter("---\n# a comment\noutlet: AP\n---\nBody", "x", print) == ({"outlet": "AP"}, 31)
    fields, start = split_front_matter("---\ntitle: T\n...\nBody", "x", print)
    assert fields == {"title": "T"} and "---\ntitle: T\n...\nBody"[start:] == "Body"


def test_fallback_titles_read_like_titles() -> None:
    assert fallback_title("Some text.", "harbour-bridge_reopens") == "Harbour bridge reopens"
    text = "Image copyright AFP Image caption A caption\n\nIslamic State (IS) has accepted a pledge of allegiance today."
    assert fallback_title(text, "000_4036766391eee30b") == "Islamic State (IS) has accepted a pledge of …"


def test_article_filter_by_date_range_and_outlet() -> None:
    bbc = Article("a", "t", "x", "p", "s", outlet="BBC News", published="2015-03-13")
    undated = Article("b", "t", "x", "p", "s", outlet="Reuters")
    march = ArticleFilter(date(2015, 3, 1), date(2015, 3, 31))
    assert march.admits(bbc) and not march.admits(undated)
    assert not ArticleFilter(published_to=date(2015, 3, 12)).admits(bbc)
    assert ArticleFilter(outlets=("bbc news",)).admits(bbc) and not ArticleFilter(outlets=("bbc",)).admits(bbc)
    assert ArticleFilter().admits(undated) and not ArticleFilter().active


def test_the_benchmark_refuses_a_folder_holding_articles_of_any_format(tmp_path: Path) -> None:
    from eval.files import sync_corpus

    sync_corpus(tmp_path, {"a": "An article."})
    (tmp_path / "news.warc.gz").write_bytes(b"")  # a stray archive would be indexed with the benchmark's articles
    with pytest.raises(ValueError, match="news.warc.gz"):
        sync_corpus(tmp_path, {"a": "An article."})
