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
    for directory, folders, names in os.walk(folder, followlinks=False):
        here = Path(directory)
        kept = []
        for name in folders:
            if name.startswith("."):
                continue
            if (here / name).is_symlink():
                skipped.append(f"skipped {here / name}: it links to a folder and links are not followed")
            else:
                kept.append(name)
        folders[:] = kept  # os.walk descends only into these
        for name in names:
            path = here / name
            if name.startswith(".") or format_of(name) is None:
                continue
            if path.is_symlink():
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
            elif not path.is_file():
                continue  # a pipe or device named like an article
            files.append(path)
    return Listing(sorted(files), sorted(skipped))


def _is_loop(error: BaseException) -> bool:
    # Python 3.11-3.12 raise RuntimeError("Symlink loop ..."); 3.13 an OSError with ELOOP
    return isinstance(error, RuntimeError) or getattr(error, "errno", None) == errno.ELOOP


def scan(folder: Path) -> list[FileState]:
    """Size and change times of every article file, without reading them."""
    states = []
    for path in corpus_files(folder):
        try:
            info = path.stat()
        except OSError:
            continue  # removed meanwhile: it is simply not there
        states.append(
            FileState(
                path.relative_to(folder).as_posix(), info.st_size, info.st_mtime_ns, ctime_ns=info.st_ctime_ns
            )
        )
    return states
