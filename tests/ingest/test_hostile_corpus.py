"""The corpus folder is a boundary: links, duplicates, odd encodings and disguised binaries."""

from __future__ import annotations

import codecs
import os
import random
import warnings
from pathlib import Path

import pytest

from qa.errors import CorpusError
from qa.ingest.corpus import MAX_ARTICLE_BYTES, CorpusWarning, corpus_files, load_corpus, looks_binary, read_article, scan
from qa.ingest.uploads import add_article

SECRET = "The launch code is 0000 and nobody may know it."


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    return secret


def texts(folder: Path) -> list[str]:
    return [a.text for a in load_corpus(folder)]


def test_a_link_to_a_file_outside_the_corpus_is_skipped_and_named(tiny_corpus: Path, outside: Path) -> None:
    (tiny_corpus / "planted.txt").symlink_to(outside)
    with pytest.warns(CorpusWarning, match=r"planted\.txt: it links to .*secret\.txt, outside the corpus"):
        articles = load_corpus(tiny_corpus)
    assert {a.doc_id for a in articles} == {"harbour", "festival", "storm"}
    assert not any(SECRET in a.text for a in articles)
    assert "planted.txt" not in {s.relpath for s in scan(tiny_corpus)}


def test_a_linked_folder_is_never_entered(tiny_corpus: Path, outside: Path) -> None:
    (tiny_corpus / "elsewhere").symlink_to(outside.parent, target_is_directory=True)
    with pytest.warns(CorpusWarning, match="elsewhere: it links to a folder"):
        articles = load_corpus(tiny_corpus)
    assert not any(SECRET in a.text for a in articles)
    assert all("elsewhere" not in str(p) for p in corpus_files(tiny_corpus))


def test_a_file_swapped_for_a_link_after_listing_is_not_read(tiny_corpus: Path, outside: Path) -> None:
    path = tiny_corpus / "storm.txt"
    listed = corpus_files(tiny_corpus)
    assert path in listed
    path.unlink()
    path.symlink_to(outside)  # swapped between listing and reading
    with pytest.warns(CorpusWarning, match="leads outside the corpus"):
        assert read_article(path, tiny_corpus) is None


def test_a_link_inside_the_corpus_counts_once(tiny_corpus: Path) -> None:
    (tiny_corpus / "again.txt").symlink_to(tiny_corpus / "storm.txt")
    with pytest.warns(CorpusWarning, match="storm.txt: it has the same text as .*again.txt"):
        ids = [a.doc_id for a in load_corpus(tiny_corpus)]
    assert sorted(ids) == ["again", "festival", "harbour"]  # the first by path is kept


def test_exact_and_reformatted_duplicates_count_once(tiny_corpus: Path) -> None:
    original = (tiny_corpus / "harbour.txt").read_text(encoding="utf-8")
    (tiny_corpus / "harbour-copy.txt").write_text(original, encoding="utf-8")
    (tiny_corpus / "harbour-crlf.txt").write_bytes(original.replace("\n", "\r\n").encode("utf-8"))
    with pytest.warns(CorpusWarning) as caught:
        ids = sorted(a.doc_id for a in load_corpus(tiny_corpus))
    assert ids == ["festival", "harbour", "storm"] or ids == ["festival", "harbour-copy", "storm"]
    messages = " ".join(str(w.message) for w in caught)
    assert messages.count("same text as") == 2 and "each article counts once" in messages


@pytest.mark.parametrize(
    ("encoding", "mark"),
    [
        ("utf-16-le", codecs.BOM_UTF16_LE),
        ("utf-16-be", codecs.BOM_UTF16_BE),
        ("utf-32-le", codecs.BOM_UTF32_LE),
        ("utf-32-be", codecs.BOM_UTF32_BE),
    ],
)
def test_utf16_and_utf32_with_a_byte_order_mark_are_decoded(tmp_path: Path, encoding: str, mark: bytes) -> None:
    text = "Caf\u00e9 owners met on Monday in Z\u00fcrich \u2014 \U0001F4F0."
    (tmp_path / "wide.txt").write_bytes(mark + text.encode(encoding))
    (article,) = load_corpus(tmp_path)
    assert article.text == text


def test_broken_utf16_is_decoded_with_replacement_and_a_warning(tmp_path: Path) -> None:
    (tmp_path / "broken.txt").write_bytes(codecs.BOM_UTF16_LE + "Storm news.".encode("utf-16-le") + b"\x00\xd8")
    with pytest.warns(CorpusWarning, match="not valid UTF-16"):
        (article,) = load_corpus(tmp_path)
    assert article.text.startswith("Storm news.") and "\ufffd" in article.text


def test_binary_without_nul_bytes_is_refused(tmp_path: Path) -> None:
    noise = bytes(b for b in random.Random(7).randbytes(4096) if b != 0)
    (tmp_path / "noise.txt").write_bytes(noise)
    (tmp_path / "real.txt").write_text("A real sentence about the harbour.", encoding="utf-8")
    with pytest.warns(CorpusWarning, match="noise.txt: it looks binary"):
        assert [a.doc_id for a in load_corpus(tmp_path)] == ["real"]
    with pytest.raises(CorpusError, match="binary"):
        add_article(tmp_path, "noise2.txt", noise)


def test_text_with_a_stray_control_character_is_still_text() -> None:
    text = ("The council met on Monday. " * 20 + "\x1a").encode("utf-8")
    assert not looks_binary(text)
    assert not looks_binary("Wide text.".encode("utf-16"))
    assert looks_binary(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")


def test_an_over_large_file_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "real.txt").write_text("A real sentence about the harbour.", encoding="utf-8")
    with open(tmp_path / "huge.txt", "wb") as handle:
        handle.truncate(MAX_ARTICLE_BYTES + 1)  # sparse: costs no disk
    with pytest.warns(CorpusWarning, match="huge.txt: it is over 16 MiB"):
        assert [a.doc_id for a in load_corpus(tmp_path)] == ["real"]


def test_a_pipe_named_like_an_article_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "real.txt").write_text("A real sentence.", encoding="utf-8")
    os.mkfifo(tmp_path / "pipe.txt")
    assert [p.name for p in corpus_files(tmp_path)] == ["real.txt"]


def test_upload_of_utf16_text_is_accepted_and_read(tmp_path: Path) -> None:
    path = add_article(tmp_path, "wide.txt", "Lighthouse keeper retires.".encode("utf-16"))
    (article,) = load_corpus(tmp_path)
    assert path.name == "wide.txt" and article.text == "Lighthouse keeper retires."


def test_upload_of_bytes_already_in_the_corpus_returns_that_file(tmp_path: Path) -> None:
    first = add_article(tmp_path, "story.txt", b"One story.")
    assert add_article(tmp_path, "other-name.txt", b"One story.") == first
    assert [p.name for p in tmp_path.iterdir()] == ["story.txt"]


def test_upload_beside_a_folder_of_the_same_name_takes_a_free_name(tmp_path: Path) -> None:
    (tmp_path / "story.txt").mkdir()
    stored = add_article(tmp_path, "story.txt", b"A story.")
    assert stored.name == "story-1.txt" and stored.read_bytes() == b"A story."
    assert sorted(p.name for p in tmp_path.iterdir()) == ["story-1.txt", "story.txt"]  # no temporary left


def test_empty_utf16_upload_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="empty"):
        add_article(tmp_path, "blank.txt", " \n".encode("utf-16"))


def test_listing_is_quiet_without_touching_the_process_wide_warning_filters(tiny_corpus: Path) -> None:
    from qa.ingest.corpus import list_articles

    (tiny_corpus / "image.txt").write_bytes(b"\x89PNG\x00\x00\x01")
    filters = list(warnings.filters)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        listed = sorted(a.doc_id for a in list_articles(tiny_corpus))
        assert caught == []
        loaded = load_corpus(tiny_corpus)  # reading for a build still warns
        assert any("image.txt" in str(w.message) for w in caught)
    assert listed == sorted(a.doc_id for a in loaded) == ["festival", "harbour", "storm"]
    assert list(warnings.filters) == filters
