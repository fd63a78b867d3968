"""The corpus as the shells see it: `qa.articles`, `qa.add_articles`, `qa.corpus_summary`,
`qa.example_questions`."""

from __future__ import annotations

from pathlib import Path

import pytest

import qa
from conftest import SEEDS

DATED = {
    "ferry.md": "---\ntitle: Island Ferry Named\noutlet: Orkvik Post\npublished: 2015-03-13\n---\n"
    "The new Orkvik island ferry was named Morning Tern at a ceremony on Thursday.\n",
    "quarry.md": "---\ntitle: Quarry Reopens In Helmsby\noutlet: helmsby herald\npublished: 2015-02-02\n---\n"
    "The Helmsby quarry reopened on Tuesday after a two-year closure.\n",
}


def test_articles_are_listed_and_read_again_only_when_a_file_changes(tiny_corpus: Path) -> None:
    first = qa.articles(tiny_corpus)
    assert sorted(a.doc_id for a in first) == ["festival", "harbour", "storm"]
    again = qa.articles(tiny_corpus)
    assert again == first and all(a is b for a, b in zip(again, first))  # the same records: nothing was read
    (tiny_corpus / "quarry.txt").write_text("Quarry Reopens\n\nThe quarry reopened on Tuesday.\n", encoding="utf-8")
    assert "quarry" in {a.doc_id for a in qa.articles(tiny_corpus)}


def test_articles_of_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(qa.CorpusError, match="does not exist"):
        qa.articles(tmp_path / "nowhere")


def test_add_articles_stores_good_files_and_says_why_others_were_refused(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    upload = tmp_path / "Varnholt lighthouse.txt"
    upload.write_text("Keeper Retires\n\nThe keeper retired on Tuesday.\n", encoding="utf-8")
    big = tmp_path / "huge.txt"
    with open(big, "wb") as file:  # over the limit without writing it: refused before it is read
        file.truncate(qa.MAX_UPLOAD_BYTES + 1)
    files = [upload, ("notes.docx", b"PK\x03\x04"), ("notes.pdf", b"%PDF-1.4"), ("photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00"),
             str(big), ("story.md", b"# Story\n\nText.")]
    result = qa.add_articles(files, corpus)
    assert result.added == ("Varnholt_lighthouse.txt", "story.md")
    assert [given for given, _ in result.refused] == ["notes.docx", "notes.pdf", "photo.txt", str(big)]
    reasons = " | ".join(why for _, why in result.refused)
    assert "not a" in reasons and "not a readable PDF" in reasons and "binary" in reasons and "KiB" in reasons, reasons
    assert sorted(p.name for p in corpus.iterdir()) == ["Varnholt_lighthouse.txt", "story.md"]
    again = qa.add_articles([upload], corpus)  # the same bytes: not stored twice
    assert again.added == () and again.already == ((str(upload), "Varnholt_lighthouse.txt"),)
    assert len(list(corpus.iterdir())) == 2
    assert ".txt" in qa.article_suffixes() and ".html" in qa.article_suffixes()


def test_the_summary_gives_the_date_range_outlets_and_newest_headlines(tiny_corpus: Path) -> None:
    for name, text in DATED.items():
        (tiny_corpus / name).write_text(text, encoding="utf-8")
    summary = qa.corpus_summary(tiny_corpus, headlines=3)
    assert (summary.articles, summary.first_published, summary.last_published) == (5, "2015-02-02", "2015-03-13")
    assert summary.outlets == ("helmsby herald", "Orkvik Post")  # sorted without regard to case
    assert summary.headlines == ("Island Ferry Named", "Quarry Reopens In Helmsby", "Lantern Festival Draws Record Crowd")
    undated = qa.corpus_summary(SEEDS)
    assert (undated.articles, undated.first_published, undated.outlets) == (4, "", ())


@pytest.mark.slow
def test_example_questions_are_made_from_headlines_and_answered(seeds_copy: Path, seeds_index_dir: Path) -> None:
    page = Path(__file__).resolve().parents[1] / "data" / "tormund-herald.html"
    (seeds_copy / page.name).write_text(page.read_text(encoding="utf-8"), encoding="utf-8")
    settings = qa.Settings(index_dir=seeds_index_dir)
    questions = qa.example_questions(seeds_copy, count=3, settings=settings)
    assert questions[0] == "When did the Tormund harbour freeze over?"  # the newest article first
    assert len(questions) == 3 and len(set(questions)) == 3
    assert any("pledge" in q and q.startswith("Who") for q in questions), questions
    for question in questions:
        assert qa.ask(question, corpus=seeds_copy, settings=settings).answerable, question
    with pytest.raises(ValueError, match="count must be at least 1"):
        qa.example_questions(seeds_copy, count=0)


def test_an_upload_whose_text_is_already_in_the_corpus_is_not_added_and_says_where_it_is(tmp_path) -> None:
    import qa

    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "ferry.txt").write_text("Ferry fares rise\n\nFares on the ferry rise by 8% in April.\n", encoding="utf-8")
    result = qa.add_articles(
        [("same.txt", b"Ferry fares rise\n\nFares on the ferry rise by 8% in April.\n"),  # the same bytes
         ("crlf.txt", b"Ferry fares rise\r\n\r\nFares on the ferry  rise by 8% in April.\r\n"),  # the same words
         ("new.txt", b"A new story about the harbour wall.\n")],
        folder,
    )
    assert result.added == ("new.txt",)
    assert result.already == (("same.txt", "ferry.txt"), ("crlf.txt", "ferry.txt"))
    assert sorted(p.name for p in folder.iterdir()) == ["ferry.txt", "new.txt"]


def test_articles_are_filtered_by_outlet_day_and_text(tiny_corpus: Path) -> None:
    for name, text in DATED.items():
        (tiny_corpus / name).write_text(text, encoding="utf-8")
    assert [a.doc_id for a in qa.articles(tiny_corpus, outlets=["Helmsby Herald"])] == ["quarry"]
    assert [a.doc_id for a in qa.articles(tiny_corpus, published_from="2015-03-01")] == ["ferry"]
    assert [a.doc_id for a in qa.articles(tiny_corpus, grep="  RIBBON  at")] == ["harbour"]  # text, any case and spacing
    assert [a.doc_id for a in qa.articles(tiny_corpus, grep="festival draws")] == ["festival"]  # the title
    assert len(qa.articles(tiny_corpus, grep=" ")) == 5  # blank: no filter
    with pytest.raises(ValueError, match="published_from must be a date"):
        qa.articles(tiny_corpus, published_from="soon")


def test_an_article_is_opened_by_its_doc_id(tiny_corpus: Path) -> None:
    harbour = qa.article("harbour", tiny_corpus)
    assert harbour.title == "Harbour Bridge Reopens After Repairs" and "Anna Lind" in harbour.text
    with pytest.raises(qa.CorpusError, match="no article 'nowhere'.*qa articles"):
        qa.article("nowhere", tiny_corpus)


def test_an_article_is_deleted_and_replaced_under_its_own_name(tiny_corpus: Path, tmp_path: Path) -> None:
    assert qa.delete_article("storm", tiny_corpus) == Path(qa.resolve_corpus(tiny_corpus)) / "storm.txt"
    assert not (tiny_corpus / "storm.txt").exists() and "storm" not in {a.doc_id for a in qa.articles(tiny_corpus)}
    new = tmp_path / "bridge news.md"
    new.write_text("# Harbour Bridge Closes Again\n\nThe Harbour Bridge closed on Friday for more repairs.\n", encoding="utf-8")
    written = qa.replace_article("harbour", new, tiny_corpus)
    assert written.name == "harbour.md" and not (tiny_corpus / "harbour.txt").exists()  # its own kind's ending
    assert qa.article("harbour", tiny_corpus).title == "Harbour Bridge Closes Again"
    qa.replace_article("harbour", ("x.txt", b"Harbour Bridge\n\nIt reopened on Sunday.\n"), tiny_corpus)
    assert "Sunday" in qa.article("harbour", tiny_corpus).text and (tiny_corpus / "harbour.txt").is_file()
    festival = (tiny_corpus / "festival.md").read_bytes()
    for refused, why in [(("x.txt", festival), "already in the corpus as festival.md"), (("x.txt", b"\x00\x01"), "binary"),
                         (("x.jsonl", b'{"text": "a"}\n'), "holds several articles"), (("x.exe", b"text"), "not a")]:
        with pytest.raises(qa.CorpusError, match=why):
            qa.replace_article("harbour", refused, tiny_corpus)
    assert "Sunday" in qa.article("harbour", tiny_corpus).text  # a refused file changes nothing


def test_an_article_of_a_file_of_many_is_refused_with_what_to_do(tmp_path: Path) -> None:
    corpus = tmp_path / "feeds"
    corpus.mkdir()
    feed = Path(__file__).resolve().parents[1] / "data" / "kelvale-courier.rss"
    (corpus / feed.name).write_bytes(feed.read_bytes())
    [first, _] = qa.articles(corpus)
    assert first.doc_id == "kelvale-courier#courier-1042"
    with pytest.raises(qa.CorpusError, match=r"one of the articles of kelvale-courier\.rss \(a news feed\).*edit that file"):
        qa.delete_article(first.doc_id, corpus)
    with pytest.raises(qa.CorpusError, match="cannot be replaced on its own"):
        qa.replace_article(first.doc_id, ("x.txt", b"Some text.\n"), corpus)
    assert (corpus / feed.name).is_file()
