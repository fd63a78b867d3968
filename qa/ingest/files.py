"""The article files of a corpus folder, listed without reading them; the folder is a boundary."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

from qa.errors import CorpusError
from qa.ingest.formats import KINDS, SUFFIXES, format_of  # noqa: F401 - KINDS and SUFFIXES are used from here


@dataclass(frozen=True)
class FileState:
    """What the index remembers of a source file to notice changes.

    `ctime_ns` is the inode change time: unlike the modification time, no program can
    put it back, so an edit of the same size with its mtime restored is still noticed.
    """

    relpath: str
    size: int
    mtime_ns: int
    sha256: str | None = None
    ctime_ns: int | None = None


@dataclass(frozen=True)
class Listing:
    """The article files of a folder, and what was left out (with why), both sorted."""

    files: list[Path]
    skipped: list[str]


def corpus_files(folder: Path) -> list[Path]:
    """Every article file under `folder` (of a registered input format), sorted; hidden files and folders are ignored.

    The folder is a boundary: a linked folder is never entered and a linked file counts
    only if it resolves to a file inside the folder (`load_corpus` warns about the others).

    Raises:
        CorpusError: the folder does not exist or is not a folder.
    """
    return list_files(folder).files


def list_files(folder: Path) -> Listing:
    folder = Path(folder)
    if not folder.exists():
        raise CorpusError(
            f"corpus folder {folder} does not exist; create it and put news articles "
            f"in it as {KINDS} files"
        )
    if not folder.is_dir():
        raise CorpusError(f"corpus {folder} is not a folder; pass the folder holding the articles")
    root = folder.resolve()
    files: list[Path] = []
    skipped: list[str] = []
    # os.scandir's entries know links, folders and files from the listing itself (no stat of
    # each file): an update at a million sentences lists its 4,769 files twice
    pending = [folder]
    while pending:
        here = pending.pop()
        try:
            with os.scandir(here) as listing:
                entries = list(listing)
        except OSError:
            continue  # unreadable: left out, as os.walk leaves it
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue  # hidden files and folders
            path = here / name
            if _is_dir(entry):
                if entry.is_symlink():
                    skipped.append(f"skipped {path}: it links to a folder and links are not followed")
                else:
                    pending.append(path)
                continue
            if format_of(name) is None:
                continue
            if entry.is_symlink():
                try:
                    target = path.resolve(strict=True)
                except (OSError, RuntimeError) as error:  # a loop ("ln -s a a"), or a link to nothing
                    why = "a link that loops back on itself" if _is_loop(error) else "a link to nothing"
                    skipped.append(f"skipped {path}: it is {why}; remove the link or point it at an article")
                    continue
                if not target.is_relative_to(root):
                    skipped.append(f"skipped {path}: it links to {target}, outside the corpus folder {folder}")
                    continue
                if not target.is_file():
                    skipped.append(f"skipped {path}: it links to {target}, which is not a file")
                    continue
            elif not entry.is_file():
                continue  # a pipe or device named like an article
            files.append(path)
    return Listing(sorted(files, key=lambda path: path.parts), sorted(skipped))  # Path order, compared in C


def _is_dir(entry: os.DirEntry) -> bool:
    """Whether an entry is a folder or a link to one (what os.walk lists as a folder)."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def _is_loop(error: BaseException) -> bool:
    # Python 3.11-3.12 raise RuntimeError("Symlink loop ..."); 3.13 an OSError with ELOOP
    return isinstance(error, RuntimeError) or getattr(error, "errno", None) == errno.ELOOP


def scan(folder: Path) -> list[FileState]:
    """Size and change times of every article file, without reading them."""
    states = []
    prefix = f"{Path(folder)}{os.sep}"  # the listed paths are made under the folder as given
    for path in corpus_files(folder):
        try:
            info = path.stat()
        except OSError:
            continue  # removed meanwhile: it is simply not there
        text = str(path)
        relpath = text[len(prefix):] if text.startswith(prefix) and os.sep == "/" else path.relative_to(folder).as_posix()
        states.append(FileState(relpath, info.st_size, info.st_mtime_ns, ctime_ns=info.st_ctime_ns))
    return states
