"""Load a folder of news articles (.txt, .md) as untouched text with ids and titles."""

from __future__ import annotations

import hashlib
import os
import re
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

from qa.debris import debris_spans, overlaps_debris
from qa.errors import CorpusError
from qa.types import Article

SUFFIXES = (".txt", ".md")
MAX_TITLE_CHARS = 150
_BINARY_PROBE_BYTES = 8192
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
    if b"\x00" in data[:_BINARY_PROBE_BYTES]:
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


MAX_UPLOAD_BYTES = 2 * 1024 * 1024
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def safe_file_name(name: str) -> str:
    """A plain file name from an uploaded one: no folders, no dots in front, only [A-Za-z0-9._-].

    Raises:
        CorpusError: nothing usable is left, or the extension is not .txt or .md.
    """
    base = re.split(r"[\\/]", name)[-1].strip()
    stem, dot, suffix = base.rpartition(".")
    if not dot or f".{suffix.lower()}" not in SUFFIXES:
        raise CorpusError(f"{name!r} is not a .txt or .md file; only plain-text articles can be added")
    stem = _SAFE_NAME.sub("_", stem).strip("._-")[:100]
    if not stem:
        raise CorpusError(f"{name!r} has no usable file name; rename it with letters or digits")
    return f"{stem}.{suffix.lower()}"


def add_article(folder: Path, name: str, data: bytes) -> Path:
    """Store an uploaded article in the corpus folder under a sanitised, unused name.

    Args:
        folder: the corpus folder.
        name: the name the file was uploaded with.
        data: its bytes.

    Returns:
        Where the article was written.

    Raises:
        CorpusError: bad name, too large, binary, or empty.
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise CorpusError(
            f"{name!r} is {len(data) // 1024} KiB; articles up to {MAX_UPLOAD_BYTES // 1024} KiB can be added"
        )
    if b"\x00" in data[:_BINARY_PROBE_BYTES]:
        raise CorpusError(f"{name!r} looks binary; add articles as plain text (.txt or .md)")
    if not data.strip():
        raise CorpusError(f"{name!r} is empty")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / safe_file_name(name)
    counter = 1
    while target.exists():
        if target.read_bytes() == data:
            return target  # the same article again: nothing to add
        stem, suffix = safe_file_name(name).rsplit(".", 1)
        target = folder / f"{stem}-{counter}.{suffix}"
        counter += 1
    temporary = folder / f".{target.name}.upload"
    temporary.write_bytes(data)
    os.replace(temporary, target)
    return target


def list_articles(folder: Path) -> list[Article]:
    """The readable articles of a folder, without warnings (for listings)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorpusWarning)
        try:
            return load_corpus(folder)
        except CorpusError:
            return []
