"""Input formats: the registry, web archives (WARC) and news feeds (RSS, Atom), read through
the real `load_corpus`; one real build and ask over a corpus of them."""

from __future__ import annotations

import gzip
import io
import shutil
import warnings
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from qa.ingest.corpus import CorpusWarning, load_corpus, read_articles
from qa.ingest.files import corpus_files
from qa.ingest.formats import FORMATS, SUFFIXES, format_of, holds_many, stem_of
from qa.ingest.uploads import check_upload, safe_file_name

DATA = Path(__file__).resolve().parents[1] / "data"

HARBOUR_PAGE = """<html><head><title>Harbour reopens | Coast News</title>
<meta property="og:site_name" content="Coast News"></head><body>
<nav><a href="/">Home</a> <a href="/sport">Sport</a></nav>
<article><h1>Port Ellis Harbour Reopens</h1>
<p>The harbour of Port Ellis reopened on Friday after a storm had closed it for three days, the harbour master said.</p>
<p>Ferries to the islands ran again on Saturday morning, carrying about four hundred passengers.</p></article>
<footer>Cookie policy</footer></body></html>"""
MARKET_PAGE = """<html><head><meta property="article:published_time" content="2015-03-02T10:00:00Z">
<meta property="og:title" content="Market Hall Sold"></head><body><article>
<p>The old market hall of Port Ellis was sold to a theatre company on Monday for two million crowns.</p>
<p>The company plans to open a stage there next spring, its director said.</p></article></body></html>"""
EMPTY_PAGE = '<html><head><title>Gallery</title></head><body><img src="a.jpg"></body></html>'  # no text


def write_warc(path: Path, pages: list[tuple[str, str, str, str]], gzip_records: bool = True) -> None:
    """A web archive as a crawler writes it: per page (url, date, html, record id) a request and
    a response record, plus a stylesheet response that is no article."""
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=gzip_records)
        for url, day, html, record_id in pages:
            writer.write_record(writer.create_warc_record(url, "request", payload=io.BytesIO(b"GET / HTTP/1.0\r\n\r\n")))
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(
                url, "response", payload=io.BytesIO(html.encode("utf-8")), http_headers=headers,
                warc_headers_dict={"WARC-Date": day, "WARC-Record-ID": f"<urn:uuid:{record_id}>"},
            ))
        css = StatusAndHeaders("200 OK", [("Content-Type", "text/css")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(
            "https://coast.example/site.css", "response", payload=io.BytesIO(b"body { margin: 0 }"), http_headers=css,
        ))


HARBOUR = ("https://coast.example/harbour", "2015-03-13T08:00:00Z", HARBOUR_PAGE, "11111111-2222-3333-4444-555555555555")
MARKET = ("https://coast.example/market", "2015-03-04T08:00:00Z", MARKET_PAGE, "66666666-7777-8888-9999-000000000000")


def loaded(folder: Path) -> tuple[dict, list[str]]:
    """{doc id: article} of the folder and the warnings its reading gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        articles = load_corpus(folder)
    return {a.doc_id: a for a in articles}, [str(w.message) for w in caught if issubclass(w.category, CorpusWarning)]


def test_every_format_declares_its_own_suffixes_and_the_longest_ending_decides() -> None:
    assert len(SUFFIXES) == len(set(SUFFIXES)) and all(s.startswith(".") and s == s.lower() for s in SUFFIXES)
    assert {f.name for f in FORMATS} >= {"text", "saved web page", "JSON-lines dump", "web archive", "news feed"}
    assert format_of("crawl.warc.gz").name == format_of("CRAWL.WARC").name == "web archive"
    assert format_of("notes.txt.gz") is None and format_of("photo.jpg") is None and format_of(".warc.gz") is None
    assert stem_of("2015/crawl.WARC.gz") == "2015/crawl" and stem_of("a.b.txt") == "a.b"
    assert holds_many("feed.rss") and holds_many("dump.jsonl") and not holds_many("page.html")


def test_the_folder_lists_archives_and_feeds_and_nothing_else(tmp_path: Path) -> None:
    for name in ("a.warc.gz", "b.warc", "c.rss", "d.atom", "e.xml", "f.txt", "g.gz", "h.json", "i.warc.gz.part"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in corpus_files(tmp_path)] == ["a.warc.gz", "b.warc", "c.rss", "d.atom", "e.xml", "f.txt"]


def test_each_html_page_of_a_web_archive_is_an_article(tmp_path: Path) -> None:
    write_warc(tmp_path / "crawl.warc.gz", [HARBOUR, MARKET])
    articles, warned = loaded(tmp_path)
    assert warned == []
    harbour = articles["crawl#11111111-2222-3333-4444-555555555555"]
    assert harbour.text.startswith("Port Ellis Harbour Reopens\n\nThe harbour of Port Ellis reopened on Friday")
    assert "Cookie" not in harbour.text and "Sport" not in harbour.text  # the page extraction of a saved .html
    assert harbour.url == "https://coast.example/harbour" and harbour.outlet == "Coast News"
    assert harbour.published == "2015-03-13"  # the page names no date: the capture day
    market = articles["crawl#66666666-7777-8888-9999-000000000000"]
    assert market.published == "2015-03-02" and market.title == "Market Hall Sold"  # the page's own date and title
    assert len(articles) == 2  # the request and the stylesheet are not articles


def test_archive_ids_are_stable_when_it_is_written_again_around_them(tmp_path: Path) -> None:
    write_warc(tmp_path / "crawl.warc", [MARKET], gzip_records=False)
    before, _ = loaded(tmp_path)
    write_warc(tmp_path / "crawl.warc", [HARBOUR, MARKET], gzip_records=False)  # a new page first
    after, _ = loaded(tmp_path)
    key = "crawl#66666666-7777-8888-9999-000000000000"
    assert set(before) == {key} and key in after and after[key].sha256 == before[key].sha256
    assert after[key].text == before[key].text


def test_a_bad_archive_is_skipped_with_one_warning_naming_it(tmp_path: Path) -> None:
    (tmp_path / "ok.txt").write_text("Ferry Strike\n\nThe ferry crews went on strike on Monday.\n", encoding="utf-8")
    (tmp_path / "noise.warc.gz").write_bytes(gzip.compress(b"this is not a web archive\n" * 50))
    (tmp_path / "random.warc").write_bytes(bytes(range(256)) * 40)
    write_warc(tmp_path / "pages.warc.gz", [("https://coast.example/x", "2015-03-01T00:00:00Z", EMPTY_PAGE, "0" * 8)])
    articles, warned = loaded(tmp_path)
    assert list(articles) == ["ok"]
    for name in ("noise.warc.gz", "random.warc", "pages.warc.gz"):
        assert len([w for w in warned if name in w]) == 1, warned
    assert any("pages.warc.gz: none of its 1 HTML page(s) holds article text" in w for w in warned)


def test_an_archive_cut_short_keeps_the_pages_before_the_cut(tmp_path: Path) -> None:
    write_warc(tmp_path / "whole.warc.gz", [HARBOUR, MARKET])  # an interrupted crawl: its file ends mid-record
    data = (tmp_path / "whole.warc.gz").read_bytes()
    (tmp_path / "whole.warc.gz").unlink()
    (tmp_path / "cut.warc.gz").write_bytes(data[: len(data) // 2])
    articles, warned = loaded(tmp_path)
    assert list(articles) == ["cut#11111111-2222-3333-4444-555555555555"]
    assert len(warned) == 1 and "cut.warc.gz" in warned[0] and "damaged" in warned[0], warned


def test_rss_and_atom_entries_are_articles_with_their_metadata(tmp_path: Path) -> None:
    shutil.copy(DATA / "kelvale-courier.rss", tmp_path / "courier.rss")
    shutil.copy(DATA / "vardo-city-desk.atom", tmp_path / "desk.atom")
    articles, warned = loaded(tmp_path)
    assert warned == []
    library = articles["courier#courier-1042"]
    assert library.title == "Kelvale Library Reopens After Fire" and library.outlet == "The Kelvale Courier"
    assert library.url == "https://courier.example/news/library-reopens" and library.published == "2015-03-11"
    assert library.author == "Ann Holm"
    assert library.text == (
        "The Kelvale library reopened on Tuesday after a fire closed it in January.\n\n"
        "About three hundred readers came on the first day, the librarian Tove Lind said.\n"
    )  # HTML stripped, a paragraph per <p>
    road = articles["courier#courier-1043"]
    assert road.outlet == "Northern Wire"  # the entry's <source>, not the feed
    assert road.text.startswith("The valley road between Kelvale and Ostby") and "track()" not in road.text  # content over summary
    tram = articles["desk#tag_citydesk.example_2015_tram-line"]
    assert tram.outlet == "Vardo City Desk" and tram.author == "Nils Berg" and tram.published == "2015-03-10"
    assert tram.text.startswith("The new tram line from Vardo station to the harbour opened on Monday")
    market = articles["desk#tag_citydesk.example_2015_fish-market"]
    assert market.published == "2015-03-09" and market.text.startswith("The Vardo fish market moved")  # summary, updated


def test_feed_ids_are_stable_when_the_feed_is_saved_again_with_new_entries(tmp_path: Path) -> None:
    feed = (DATA / "kelvale-courier.rss").read_text(encoding="utf-8")
    (tmp_path / "courier.rss").write_text(feed, encoding="utf-8")
    before, _ = loaded(tmp_path)
    newer = feed.replace("<item>", "<item><title>Snow Day</title><guid>courier-1050</guid>"
                                   "<description>Schools in Kelvale closed for snow on Friday.</description></item>\n<item>", 1)
    (tmp_path / "courier.rss").write_text(newer, encoding="utf-8")
    after, _ = loaded(tmp_path)
    assert set(after) == set(before) | {"courier#courier-1050"}
    assert all(after[k].sha256 == before[k].sha256 and after[k].text == before[k].text for k in before)


def test_a_file_that_is_no_feed_is_skipped_with_one_warning_naming_it(tmp_path: Path) -> None:
    (tmp_path / "ok.txt").write_text("Ferry Strike\n\nThe ferry crews went on strike on Monday.\n", encoding="utf-8")
    (tmp_path / "sitemap.xml").write_text(
        '<?xml version="1.0"?><urlset><url><loc>https://x.example/</loc></url></urlset>', encoding="utf-8"
    )
    (tmp_path / "broken.rss").write_bytes(b"<rss><channel><item><title>unclosed \x00\xff")
    (tmp_path / "empty.atom").write_text('<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title></feed>')
    articles, warned = loaded(tmp_path)
    assert list(articles) == ["ok"]
    for name in ("sitemap.xml", "broken.rss", "empty.atom"):
        assert len([w for w in warned if name in w]) == 1, warned


def test_an_archive_or_feed_file_reads_the_same_articles_on_its_own(tmp_path: Path) -> None:
    shutil.copy(DATA / "kelvale-courier.rss", tmp_path / "courier.rss")
    by_file = read_articles(tmp_path / "courier.rss", tmp_path)
    assert [a.doc_id for a in by_file] == ["courier#courier-1042", "courier#courier-1043"]


def test_archives_and_feeds_can_be_uploaded_under_their_whole_ending(tmp_path: Path) -> None:
    write_warc(tmp_path / "crawl.warc.gz", [HARBOUR])
    assert safe_file_name("My Crawl.WARC.GZ") == "My_Crawl.warc.gz" and safe_file_name("news feed.rss") == "news_feed.rss"
    check_upload("crawl.warc.gz", (tmp_path / "crawl.warc.gz").read_bytes())  # gzip bytes are not "binary text"
    with pytest.raises(ValueError, match="empty"):
        check_upload("crawl.warc.gz", b"  \n")


@pytest.mark.slow
def test_questions_are_answered_from_archives_and_feeds_with_exact_offsets(tmp_path: Path) -> None:
    from qa import ask

    folder = tmp_path / "news"
    folder.mkdir()
    write_warc(folder / "coast.warc.gz", [HARBOUR, MARKET])
    shutil.copy(DATA / "kelvale-courier.rss", folder / "courier.rss")
    shutil.copy(DATA / "vardo-city-desk.atom", folder / "desk.atom")
    texts = {a.doc_id: a.text for a in load_corpus(folder)}
    index_dir = tmp_path / "index"
    library = ask("When did the Kelvale library reopen?", corpus=folder, index_dir=index_dir)
    assert library.parts[0].answer == "Tuesday" and library.parts[0].resolved_date == "2015-03-10", library.text
    assert library.citations[0].doc_id == "courier#courier-1042" and library.citations[0].outlet == "The Kelvale Courier"
    harbour = ask("When did the harbour of Port Ellis reopen?", corpus=folder, index_dir=index_dir)
    assert harbour.citations[0].doc_id == "coast#11111111-2222-3333-4444-555555555555", harbour.text
    assert harbour.parts[0].answer == "Friday" and harbour.parts[0].resolved_date == "2015-03-13", harbour.text
    tram = ask("Where does the new Vardo tram line go?", corpus=folder, index_dir=index_dir)
    assert tram.citations[0].doc_id == "desk#tag_citydesk.example_2015_tram-line", tram.text
    for answer in (library, harbour, tram):
        for citation in answer.citations:
            assert citation.quote == texts[citation.doc_id][citation.start : citation.end]
