"""The chat server's state without a server: the folders a page may choose, and refused changes to one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from webchat.assistant import CHOOSE_ARTICLE, CHOOSE_REPLACEMENT, SHARDED_UPLOADS, Assistant, Library

DATA = Path(__file__).resolve().parents[1] / "data"


def nothing(stage: str, done: int, total: int) -> None:
    raise AssertionError("nothing is indexed when a change is refused")


def test_a_page_chooses_only_among_the_folders_the_server_was_started_with(tmp_path: Path) -> None:
    folders = [tmp_path / "a" / "news", tmp_path / "b" / "news", tmp_path / "archive"]
    for folder in folders:
        folder.mkdir(parents=True)
    library = Library([Assistant(folder) for folder in folders])
    labels = [label for label, _ in library.choices()]
    assert labels == [str(folders[0]), str(folders[1]), "archive"]  # a name given twice is told by its path
    assert library.get(library.first).corpus == folders[0] and len(library) == 3
    for forged in ("3", "../etc", str(tmp_path), None, 0):
        with pytest.raises(ValueError, match="corpus folders this chat was started with"):
            library.get(forged)


def test_refused_changes_say_why_and_change_nothing(tmp_path: Path) -> None:
    corpus = tmp_path / "news"
    corpus.mkdir()
    shutil.copy(DATA / "kelvale-courier.rss", corpus)
    shutil.copy(DATA / "tormund-herald.html", corpus)
    assistant = Assistant(corpus)
    choices = dict((doc_id, label) for label, doc_id in assistant.article_choices())
    assert choices["tormund-herald"] == "Tormund Harbour Freezes Over · tormund-herald"
    assert assistant.delete("", nothing) == CHOOSE_ARTICLE
    assert assistant.replace("tormund-herald", None, nothing) == CHOOSE_REPLACEMENT
    refused = assistant.delete("kelvale-courier#courier-1042", nothing)
    assert refused.startswith("Not changed:") and "edit that file" in refused
    assert "Not changed:" in assistant.replace("tormund-herald", ("x.exe", b"text"), nothing)
    assert sorted(p.name for p in corpus.iterdir()) == ["kelvale-courier.rss", "tormund-herald.html"]
    assert assistant.article("tormund-herald").outlet == "The Tormund Herald"
    sharded = Assistant(corpus, index=object())  # served as built: the folder is not changed from the chat
    assert sharded.delete("tormund-herald", nothing) == SHARDED_UPLOADS and (corpus / "tormund-herald.html").exists()
