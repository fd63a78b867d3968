"""Load a folder of news articles (.txt, .md) as untouched text with ids and titles.

Uploads into the folder are handled apart, in `qa.ingest.uploads`, so that a change to
upload checks never forces indexes to be rebuilt (this module is part of the index
fingerprint, see `qa.indexing.build`).
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import stat
import threading
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

from qa.ingest.debris import debris_spans, overlaps_debris
from qa.errors import CorpusError
from qa.types import Article

SUFFIXES = (".txt", ".md")
MAX_TITLE_CHARS = 150
BINARY_PROBE_BYTES = 8192
MAX_ARTICLE_BYTES = 16 * 1024 * 1024  # far above any news article; keeps a stray log file out of memory
# More control characters than this share of the first bytes: binary, even without a NUL.
MAX_CONTROL_SHARE = 0.02
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F])
_CONTROL_CHARS = re.compile("[\x00-\x08\x0e-\x1f\x7f]")
# Longest first: the UTF-32 LE mark starts with the UTF-16 LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_MD_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")


class CorpusWarning(UserWarning):
    """A file of the corpus was skipped or decoded with replacement characters."""


_quiet = threading.local()  # set while listing: the build that reads the files warns once, not every listing


def _warn(message: str) -> None:
    if not getattr(_quiet, "on", False):
        warnings.warn(message, CorpusWarning, stacklevel=3)


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
class _Walk:
    """The article files of a folder, and what was left out (with why), both sorted."""

    files: list[Path]
    skipped: list[str]


def corpus_files(folder: Path) -> list[Path]:
    """Every article file under `folder`, sorted; hidden files and folders are ignored.

    The folder is a boundary: a linked folder is never entered and a linked file counts
    only if it resolves to a file inside the folder (`load_corpus` warns about the others).

    Raises:
        CorpusError: the folder does not exist or is not a folder.
    """
    return _walk(folder).files


def _walk(folder: Path) -> _Walk:
    folder = Path(folder)
    if not folder.exists():
        raise CorpusError(
            f"corpus folder {folder} does not exist; create it and put news articles "
            f"in it as {' or '.join(SUFFIXES)} files"
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
            if name.startswith(".") or path.suffix.lower() not in SUFFIXES:
                continue
            if path.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(root):
                    skipped.append(f"skipped {path}: it links to {target}, outside the corpus folder {folder}")
                    continue
                if not target.is_file():
                    skipped.append(f"skipped {path}: it links to {target}, which is not a file")
                    continue
            elif not path.is_file():
                continue  # a pipe or device named like an article
            files.append(path)
    return _Walk(sorted(files), sorted(skipped))


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


def load_corpus(folder: Path) -> list[Article]:
    """Read every article under `folder`.

    Args:
        folder: the corpus folder; searched recursively for .txt and .md files.

    Returns:
        The articles in file-name order. Unreadable, binary, empty and over-large files,
        links leading out of the folder, and files whose text repeats an earlier file's
        (each article counts once as a source) are skipped with a `CorpusWarning` naming them.

    Raises:
        CorpusError: the folder is missing or holds no readable article.
    """
    folder = Path(folder)
    walk = _walk(folder)
    for reason in walk.skipped:
        _warn(reason)
    found = [(path, article) for path in walk.files if (article := read_article(path, folder)) is not None]
    kept = distinct_articles([(path, a.doc_id, text_key(a.text)) for path, a in found], folder)
    articles = [replace(found[position][1], doc_id=doc_id) for position, doc_id in kept]
    if not articles:
        found = f"{len(walk.files)} file(s), none readable" if walk.files else "no .txt or .md files"
        raise CorpusError(
            f"corpus folder {folder} holds {found}; add news articles as UTF-8 "
            f"{' or '.join(SUFFIXES)} files"
        )
    return articles


def distinct_articles(found: list[tuple[Path, str, str]], folder: Path) -> list[tuple[int, str]]:
    """Which readable files count as articles, and their doc ids.

    Args:
        found: (path, doc id, `text_key`) of each readable file, in file-name order.
        folder: the corpus folder.

    Returns:
        (position in `found`, doc id) of each article. A file whose text repeats an
        earlier file's is skipped with a `CorpusWarning` (each article counts once); x.txt
        beside x.md are both kept, told apart by their extension.
    """
    kept: list[tuple[int, str]] = []
    seen_ids: set[str] = set()
    seen_texts: dict[str, Path] = {}
    for position, (path, doc_id, key) in enumerate(found):
        if key in seen_texts:
            _warn(f"skipped {path}: it has the same text as {seen_texts[key]}, and each article counts once")
            continue
        seen_texts[key] = path
        if doc_id in seen_ids:
            doc_id = path.relative_to(folder).as_posix()
        seen_ids.add(doc_id)
        kept.append((position, doc_id))
    return kept


def text_key(text: str) -> str:
    """What makes two articles the same: their words, whatever the line endings and spacing."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


def read_article(path: Path, folder: Path) -> Article | None:
    """One article, or None (with a warning) when the file cannot be used."""
    data = _read_inside(path, Path(folder))
    if data is None:
        return None
    if looks_binary(data):
        _warn(f"skipped {path}: it looks binary, not a text article")
        return None
    text = decode(data, path)
    if not text.strip():
        _warn(f"skipped {path}: the file is empty")
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


def _read_inside(path: Path, folder: Path) -> bytes | None:
    """The bytes of a file that is (or links to) a regular file inside `folder`, else None, warned.

    The path is resolved and checked again here, right before reading, and the resolved
    file is opened without following links, so a file swapped for a link after the folder
    was listed cannot leak text from elsewhere.
    """
    try:
        real = path.resolve(strict=True)
        if not real.is_relative_to(folder.resolve()):
            _warn(f"skipped {path}: it leads outside the corpus folder {folder}")
            return None
        fd = os.open(real, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                _warn(f"skipped {path}: it is not a regular file")
                return None
            data = handle.read(MAX_ARTICLE_BYTES + 1)
    except OSError as error:
        reason = error.strerror or str(error)
        _warn(f"skipped {path}: cannot read it ({reason})")
        return None
    if len(data) > MAX_ARTICLE_BYTES:
        _warn(f"skipped {path}: it is over {MAX_ARTICLE_BYTES // (1024 * 1024)} MiB, too large for a news article")
        return None
    return data


def bom_encoding(data: bytes) -> str | None:
    """The codec a byte-order mark at the start of `data` announces (UTF-8, -16 or -32), if any."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    return None


def looks_binary(data: bytes) -> bool:
    """Whether `data` is not text: a NUL, or many control characters, near its start.

    UTF-16 and UTF-32 text (with a byte-order mark) is full of NUL bytes, so it is judged
    on its decoded characters instead.
    """
    probe = data[:BINARY_PROBE_BYTES]
    encoding = bom_encoding(probe)
    if encoding in ("utf-16", "utf-32"):
        text = probe.decode(encoding, errors="replace")
        controls = len(_CONTROL_CHARS.findall(text))
        return "\x00" in text or controls > MAX_CONTROL_SHARE * max(len(text), 1)
    controls = len(probe) - len(probe.translate(None, _CONTROL_BYTES))
    return b"\x00" in probe or controls > MAX_CONTROL_SHARE * max(len(probe), 1)


def decode(data: bytes, path: Path | str) -> str:
    """UTF-8 (with or without BOM), UTF-16 or UTF-32 with a BOM; else Windows-1252; else
    UTF-8 with replacement, warned."""
    encoding = bom_encoding(data)
    if encoding in ("utf-16", "utf-32"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            _warn(f"{path} is not valid {encoding.upper()}; undecodable bytes were replaced with U+FFFD")
            return data.decode(encoding, errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
        _warn(f"{path} is not UTF-8; read it as Windows-1252")
        return text
    except UnicodeDecodeError:
        _warn(f"{path} is not valid UTF-8; undecodable bytes were replaced with U+FFFD")
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
    """The readable articles of a folder, without warnings (for listings).

    Silenced per thread: `warnings.catch_warnings` would change process-wide state under
    the feet of the threads answering questions.
    """
    _quiet.on = True
    try:
        return load_corpus(folder)
    except CorpusError:
        return []
    finally:
        _quiet.on = False
