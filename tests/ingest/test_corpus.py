"""Loading articles: ids, titles, debris, and every kind of bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.ingest.corpus import CorpusWarning, load_corpus, tell_title
from qa.ingest.uploads import add_article, safe_file_name
from qa.ingest.debris import debris_spans
from qa.errors import CorpusError


def test_loads_txt_and_md_with_ids_and_titles(tiny_corpus: Path) -> None:
    articles = {a.doc_id: a for a in load_corpus(tiny_corpus)}
    assert set(articles) == {"harbour", "festival", "storm"}
    assert articles["harbour"].title == "Harbour Bridge Reopens After Repairs"
    assert articles["festival"].title == "Lantern Festival Draws Record Crowd"
    assert articles["storm"].title == "Storm"  # no headline to tell: the file name, made readable
    assert articles["harbour"].text == (tiny_corpus / "harbour.txt").read_text(encoding="utf-8")


def test_seed_articles_keep_their_names() -> None:
    seeds = Path(__file__).resolve().parents[2] / "seeds"
    ids = [a.doc_id for a in load_corpus(seeds)]
    assert ids == ["000_4036766391eee30b", "001_270854b2cc289c85", "002_bb9311e280d2964a", "003_ad3456abf3c96007"]


def test_nested_folders_and_hidden_files(tiny_corpus: Path) -> None:
    (tiny_corpus / "world").mkdir()
    (tiny_corpus / "world" / "harbour.txt").write_text("Another harbour story.", encoding="utf-8")
    (tiny_corpus / ".hidden.txt").write_text("secret", encoding="utf-8")
    (tiny_corpus / "notes.pdf").write_bytes(b"%PDF")
    ids = sorted(a.doc_id for a in load_corpus(tiny_corpus))
    assert ids == ["festival", "harbour", "storm", "world/harbour"]


def test_missing_folder_names_it(tmp_path: Path) -> None:
    # the message names every registered format (`qa.ingest.formats`)
    with pytest.raises(CorpusError, match=r"nowhere.*does not exist") as raised:
        load_corpus(tmp_path / "nowhere")
    for suffix in (".txt", ".md", ".html", ".htm", ".jsonl", ".warc", ".warc.gz", ".rss", ".atom", ".xml", ".pdf"):
        assert f" {suffix}," in str(raised.value) or f" {suffix} " in str(raised.value), suffix


def test_empty_folder_says_what_it_expects(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"no article files; add news articles"):
        load_corpus(tmp_path)


def test_a_file_instead_of_a_folder(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("x", encoding="utf-8")
    with pytest.raises(CorpusError, match="is not a folder"):
        load_corpus(path)


def test_binary_and_empty_files_are_skipped_with_warnings(tiny_corpus: Path) -> None:
    (tiny_corpus / "image.txt").write_bytes(b"\x89PNG\x00\x00\x01")
    (tiny_corpus / "blank.md").write_text("   \n", encoding="utf-8")
    with pytest.warns(CorpusWarning) as caught:
        ids = {a.doc_id for a in load_corpus(tiny_corpus)}
    messages = " ".join(str(w.message) for w in caught)
    assert "image.txt" in messages and "binary" in messages
    assert "blank.md" in messages and "empty" in messages
    assert ids == {"harbour", "festival", "storm"}


def test_only_unreadable_files_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "image.txt").write_bytes(b"\x00\x01")
    with pytest.warns(CorpusWarning), pytest.raises(CorpusError, match="1 file\\(s\\), none readable"):
        load_corpus(tmp_path)


def test_windows_1252_is_decoded_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "latin.txt").write_bytes("Caf\u00e9 owners met on Monday.".encode("cp1252"))
    with pytest.warns(CorpusWarning, match="latin.txt is not UTF-8"):
        (article,) = load_corpus(tmp_path)
    assert article.text == "Caf\u00e9 owners met on Monday."


def test_undecodable_bytes_are_replaced_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "bad.txt").write_bytes(b"Report \x81\x8d\x8f\x90\x9d ends here.")
    with pytest.warns(CorpusWarning, match="replaced with U\\+FFFD"):
        (article,) = load_corpus(tmp_path)
    assert article.text.startswith("Report ") and "\ufffd" in article.text


def test_utf8_bom_is_dropped(tmp_path: Path) -> None:
    (tmp_path / "bom.txt").write_bytes("\ufeffHeadline here\n\nBody.".encode("utf-8"))
    (article,) = load_corpus(tmp_path)
    assert article.text == "Headline here\n\nBody." and article.title == "Headline here"


def test_debris_lines_are_found() -> None:
    text = (
        "Aftermath of the attack (illustration)\n"
        "Aftermath of the attack (illustration)Reuters\n"
        "Image copyright AFP Image caption Troops in the north\n"
        "Real news sentence here.\n"
        "Image copyright AFP\n"
        "Media playback is unsupported on your device\n"
    )
    found = [text[s:e] for s, e in debris_spans(text)]
    assert found == [
        "Aftermath of the attack (illustration)",
        "Aftermath of the attack (illustration)Reuters",
        "Image copyright AFP Image caption Troops in the north",
        "Image copyright AFP",
        "Media playback is unsupported on your device",
    ]


def test_title_skips_debris() -> None:
    assert tell_title("Image copyright AFP\nStorm Hits Coast\n\nA storm hit.") == "Storm Hits Coast"
    assert tell_title("A full sentence opens this article.\nMore.") is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("story.txt", "story.txt"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\x\\My Story!.MD", "My_Story.md"),
        (".hidden.txt", "hidden.txt"),
        ("naïve café.txt", "na_ve_caf.txt"),
    ],
)
def test_safe_file_names(name: str, expected: str) -> None:
    assert safe_file_name(name) == expected


@pytest.mark.parametrize("name", ["evil.exe", "noext", "....txt", "a.txt.exe"])
def test_unsafe_names_are_refused(name: str) -> None:
    with pytest.raises(CorpusError):
        safe_file_name(name)


def test_add_article_stores_under_a_free_name(tmp_path: Path) -> None:
    first = add_article(tmp_path, "../story.txt", b"One.")
    again = add_article(tmp_path, "story.txt", b"One.")
    other = add_article(tmp_path, "story.txt", b"Two.")
    assert first == tmp_path / "story.txt" and again == first
    assert other == tmp_path / "story-1.txt" and other.read_bytes() == b"Two."


def test_add_article_refuses_big_binary_and_empty(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="KiB"):
        add_article(tmp_path, "big.txt", b"x" * (3 * 1024 * 1024))
    with pytest.raises(CorpusError, match="binary"):
        add_article(tmp_path, "bin.txt", b"\x00\x01")
    with pytest.raises(CorpusError, match="empty"):
        add_article(tmp_path, "empty.txt", b"  \n")
    assert list(tmp_path.iterdir()) == []


def test_an_unchanged_file_gives_back_the_article_read_before(tmp_path: Path) -> None:
    from dataclasses import replace

    (tmp_path / "a.txt").write_text("Storm hits coast\n\nThe storm hit the coast on Monday.\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("Fair opens\n\nThe fair opened on Sunday.\n", encoding="utf-8")
    first = load_corpus(tmp_path)
    marked = [replace(a, title=f"remembered {a.title}") for a in first]
    (tmp_path / "b.txt").write_text("Fair closes\n\nThe fair closed on Monday.\n", encoding="utf-8")
    again = {a.doc_id: a for a in load_corpus(tmp_path, known=marked)}
    assert again["a"].title == "remembered Storm hits coast" and again["a"].text == first[0].text
    assert again["b"].title == "Fair closes"  # changed bytes: read again


def test_files_named_unread_are_taken_as_given_without_being_opened(tiny_corpus: Path) -> None:
    from dataclasses import replace

    first = {a.doc_id: a for a in load_corpus(tiny_corpus)}
    storm = first["storm"]
    # The file now says something else; an `unread` entry stands for "same size and times as
    # the last build recorded", so the recorded article is used and the file is not opened.
    Path(storm.path).write_text("Something else entirely happened.", encoding="utf-8")
    remembered = replace(storm, title="As the last build read it")
    again = {a.doc_id: a for a in load_corpus(tiny_corpus, unread={storm.path: remembered})}
    assert again["storm"] == remembered
    assert set(again) == set(first)
    assert all(again[d] == first[d] for d in first if d != "storm")  # the others were read as before
    assert "Something else" in {a.doc_id: a for a in load_corpus(tiny_corpus)}["storm"].text  # without it: read
