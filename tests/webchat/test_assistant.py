"""The chat server's state without a server: the folders a page may choose, and refused changes to one."""

from __future__ import annotations

import gc
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from webchat.assistant import CHOOSE_ARTICLE, CHOOSE_REPLACEMENT, SHARDED_UPLOADS, Assistant, Library

DATA = Path(__file__).resolve().parents[1] / "data"
REPO = Path(__file__).resolve().parents[2]


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


def test_exported_conversations_go_with_their_assistant(tmp_path: Path) -> None:
    corpus = tmp_path / "news"
    corpus.mkdir()
    assistant = Assistant(corpus)
    first, second = assistant.export([]), assistant.export([])
    assert first.read_text(encoding="utf-8").startswith("# ") and first.parent != second.parent
    folder = first.parent.parent
    assert folder.name.startswith("newsqa-export-") and second.parent.parent == folder
    del assistant
    gc.collect()
    assert not folder.exists()  # the user's questions are not left in the temporary folder


def test_an_assistant_that_never_exports_makes_no_temporary_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    Assistant(tmp_path)
    assert list(temp.iterdir()) == []


def test_exported_conversations_go_when_the_process_exits(tmp_path: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from webchat.assistant import Assistant\n"
        "kept = Assistant(Path(sys.argv[1]))\n"  # still held when the interpreter exits
        "print(kept.export([]).parent.parent)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], cwd=REPO, capture_output=True, text=True, timeout=120, check=True
    )
    folder = Path(done.stdout.strip().splitlines()[-1])
    assert folder.name.startswith("newsqa-export-") and not folder.exists()
