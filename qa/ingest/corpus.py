"""Load a folder of news articles (.txt, .md) as untouched text with ids and titles.

Uploads into the folder are handled apart, in `qa.ingest.uploads`, so that a change to
upload checks never forces indexes to be rebuilt (this module is part of the index
fingerprint, see `qa.indexing.build`).
"""

from __future__ import annotations

import hashlib
import re
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

from qa.ingest.debris import debris_spans, overlaps_debris
from qa.errors import CorpusError
from qa.types import Article

SUFFIXES = (".txt", ".md")
MAX_TITLE_CHARS = 150
BINARY_PROBE_BYTES = 8192
_MD_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")


class CorpusWarning(UserWarning):
    """A file of the corpus was skipped or decoded with replacement characters."""


@dataclass(frozen=True)
class FileState:
    """What the index remembers of a source file to notice changes."""

    relpath: str
    size: int
    mtime_ns: int
    sha256: str | None = None


def corpus_files(folder: Path) -> list[Path]:
    """Every article file under `folder`, sorted; hidden files and folders are ignored.

    Raises:
        CorpusError: the folder does not exist or is not a folder.
    """
    folder = Path(folder)
    if not folder.exists():
        raise CorpusError(
            f"corpus folder {folder} does not exist; create it and put news articles "
            f"in it as {' or '.join(SUFFIXES)} files"
        )
    if not folder.is_dir():
        raise CorpusError(f"corpus {folder} is not a folder; pass the folder holding the articles")
    files = []
    for path in folder.rglob("*"):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.suffix.lower() in SUFFIXES and path.is_file():
            files.append(path)
    return sorted(files)


def scan(folder: Path) -> list[FileState]:
    """Size and modification time of every article file, without reading them."""
    states = []
    for path in corpus_files(folder):
        stat = path.stat()
        states.append(FileState(path.relative_to(folder).as_posix(), stat.st_size, stat.st_mtime_ns))
    return states


def load_corpus(folder: Path) -> list[Article]:
    """Read every article under `folder`.

    Args:
        folder: the corpus folder; searched recursively for .txt and .md files.

    Returns:
        The articles in file-name order; unreadable, binary and empty files are skipped
        with a `CorpusWarning` naming them.

    Raises:
        CorpusError: the folder is missing or holds no readable article.
    """
    folder = Path(folder)
    files = corpus_files(folder)
    articles: list[Article] = []
    seen_ids: set[str] = set()
    for path in files:
        article = read_article(path, folder)
        if article is None:
            continue
        if article.doc_id in seen_ids:
            # x.txt and x.md side by side: keep both, told apart by their extension.
            article = replace(article, doc_id=path.relative_to(folder).as_posix())
        seen_ids.add(article.doc_id)
        articles.append(article)
    if not articles:
        found = f"{len(files)} file(s), none readable" if files else "no .txt or .md files"
        raise CorpusError(
            f"corpus folder {folder} holds {found}; add news articles as UTF-8 "
            f"{' or '.join(SUFFIXES)} files"
        )
    return articles


def read_article(path: Path, folder: Path) -> Article | None:
    """One article, or None (with a warning) when the file cannot be used."""
    try:
        data = path.read_bytes()
    except OSError as error:
        warnings.warn(f"skipped {path}: cannot read it ({error.strerror})", CorpusWarning, stacklevel=2)
        return None
    if b"\x00" in data[:BINARY_PROBE_BYTES]:
        warnings.warn(f"skipped {path}: it looks binary, not a text article", CorpusWarning, stacklevel=2)
        return None
    text = decode(data, path)
    if not text.strip():
        warnings.warn(f"skipped {path}: the file is empty", CorpusWarning, stacklevel=2)
        return None
    relative = path.relative_to(folder)
    doc_id = relative.with_suffix("").as_posix()
    return Article(
        doc_id=doc_id,
        title=tell_title(text) or doc_id,
        text=text,
        path=str(path),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def decode(data: bytes, path: Path) -> str:
    """UTF-8 (with or without BOM); else Windows-1252; else UTF-8 with replacement, warned."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
        warnings.warn(f"{path} is not UTF-8; read it as Windows-1252", CorpusWarning, stacklevel=3)
        return text
    except UnicodeDecodeError:
        warnings.warn(
            f"{path} is not valid UTF-8; undecodable bytes were replaced with U+FFFD",
            CorpusWarning,
            stacklevel=3,
        )
        return data.decode("utf-8", errors="replace")


def tell_title(text: str) -> str | None:
    """The headline: a Markdown heading, or a short first line without a full stop."""
    debris = debris_spans(text)
    cursor = 0
    for raw in text.split("\n"):
        start = cursor + len(raw) - len(raw.lstrip())
        cursor += len(raw) + 1
        line = raw.strip()
        if not line or overlaps_debris(start, start + len(line), debris):
            continue
        heading = _MD_HEADING.match(line)
        if heading:
            return heading.group(1)
        if len(line) <= MAX_TITLE_CHARS and line[-1] not in ".!?\"”:;,":
            return line
        return None
    return None


def list_articles(folder: Path) -> list[Article]:
    """The readable articles of a folder, without warnings (for listings)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorpusWarning)
        try:
            return load_corpus(folder)
        except CorpusError:
            return []
