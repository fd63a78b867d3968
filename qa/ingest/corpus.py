"""Load a folder of news articles as text with ids, titles and metadata.

Inputs: every file of a registered input format (`qa.ingest.formats`: text and Markdown
with YAML front matter, saved web pages, JSON-lines dumps, web archives, news feeds).
This module reads a file safely (inside the folder, within its format's size limit, text
decoded), lets its format turn it into articles, and gives each its id, title and hash.
Whatever the input, citation offsets point into the text stored for the article.

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
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator, Mapping

from qa.errors import CorpusError
from qa.ingest.files import (  # noqa: F401 - FileState, scan and corpus_files are used from here
    KINDS, SUFFIXES, FileState, corpus_files, list_files, scan,
)
from qa.ingest.formats import format_of, stem_of
from qa.ingest.formats.base import MAX_ARTICLE_BYTES
from qa.ingest.titles import fallback_title, tell_title
from qa.types import Article

BINARY_PROBE_BYTES = 8192
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


class CorpusWarning(UserWarning):
    """A file of the corpus was skipped or decoded with replacement characters."""


_quiet = threading.local()  # set while listing: the build that reads the files warns once, not every listing


def _warn(message: str) -> None:
    if not getattr(_quiet, "on", False):
        warnings.warn(message, CorpusWarning, stacklevel=3)


def load_corpus(
    folder: Path, known: Iterable[Article] = (), unread: Mapping[str, Article] | None = None
) -> list[Article]:
    """Read every article under `folder`.

    Args:
        folder: the corpus folder; searched recursively for article files (`SUFFIXES`).
        known: articles read earlier by this very code (the last build's): a file whose
            path and bytes (SHA-256) are unchanged gives its article back without its text
            being read for headline and metadata again. Dumps are always read.
        unread: path -> article of the files whose size and change times are those the
            last build recorded (the same test that decides whether anything changed):
            their article is taken as it is, without the file being opened at all.

    Returns:
        The articles in file-name order (a dump's in line order). Unreadable, binary, empty
        and over-large files, unusable rows of a dump, links leading out of the folder, and
        articles whose text repeats an earlier one's (each article counts once as a source)
        are skipped with a `CorpusWarning` naming them.

    Raises:
        CorpusError: the folder is missing or holds no readable article.
    """
    return list(each_article(folder, known, unread))


def each_article(
    folder: Path, known: Iterable[Article] = (), unread: Mapping[str, Article] | None = None
) -> Iterator[Article]:
    """`load_corpus`'s articles one at a time, as they are read (a dump's rows too), so that
    whoever keeps them need not hold them all as records (`qa.indexing.article_table`).

    Raises:
        CorpusError: once the files are read, if none held a readable article.
    """
    folder = Path(folder)
    walk = list_files(folder)
    for reason in walk.skipped:
        _warn(reason)
    earlier = {(a.path, a.sha256): a for a in known}
    unread = unread or {}
    distinct = Distinct(folder)
    for path in walk.files:
        read = [unread[str(path)]] if str(path) in unread else each_article_of(path, folder, earlier)
        for article in read:
            doc_id = distinct.admit(path, article.doc_id, _remembered_text_key(article))
            if doc_id is not None:
                yield article if doc_id == article.doc_id else replace(article, doc_id=doc_id)
    if not distinct.kept:
        found = f"{len(walk.files)} file(s), none readable" if walk.files else "no article files"
        raise CorpusError(f"corpus folder {folder} holds {found}; add news articles as UTF-8 {KINDS} files")


def distinct_articles(found: list[tuple[Path, str, str]], folder: Path) -> list[tuple[int, str]]:
    """Which read articles count, and their doc ids.

    Args:
        found: (path, doc id, `text_key`) of each article read, in file-name order (the
            articles of a dump, archive or feed in their order there, their doc ids
            "<file stem>#<key>").
        folder: the corpus folder.

    Returns:
        (position in `found`, doc id) of each article (see `Distinct`).
    """
    distinct = Distinct(folder)
    admitted = ((position, distinct.admit(path, doc_id, key)) for position, (path, doc_id, key) in enumerate(found))
    return [(position, doc_id) for position, doc_id in admitted if doc_id is not None]


class Distinct:
    """Which articles count, as they are read in file-name order: an article whose text
    repeats an earlier one's is skipped with a `CorpusWarning` (each article counts once);
    x.txt beside x.md are both kept, told apart by their extension."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._ids: set[str] = set()
        self._texts: dict[str, tuple[Path, str]] = {}  # text key -> the file and doc id it was first read as
        self.kept = 0

    def admit(self, path: Path, doc_id: str, key: str) -> str | None:
        """The doc id of the article read from `path` as `doc_id` with text key `key`, or
        None when it is skipped."""
        first = self._texts.get(key)
        if first is not None:
            _warn(f"skipped {_where(path, doc_id)}: it has the same text as {_where(*first)}, and each article counts once")
            return None
        self._texts[key] = (path, doc_id)
        if doc_id in self._ids:
            stem = stem_of(path.relative_to(self._folder))
            doc_id = path.relative_to(self._folder).as_posix() + doc_id[len(stem):]
        self._ids.add(doc_id)
        self.kept += 1
        return doc_id


def _where(path: Path, doc_id: str) -> str:
    """The file of an article, with its key for one of several articles in a file."""
    kind = format_of(path)
    row = doc_id.rpartition("#")[2] if kind is not None and kind.many else ""
    return f"{path} ({row})" if row else str(path)


def text_key(text: str) -> str:
    """What makes two articles the same: their words, whatever the line endings and spacing."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


_TEXT_KEYS: dict[tuple[str, str], str] = {}
_TEXT_KEYS_KEPT = 200_000


def known_text_key(sha256: str, path: str) -> str | None:
    """The `text_key` of the article of this file hash and path if this process has worked it
    out (or been told it), else None."""
    return _TEXT_KEYS.get((sha256, _kind(path)))


def remember_text_keys(sources: Iterable[tuple[str, str]], keys: Iterable[str | None]) -> None:
    """Take the `text_key`s a build stored for its articles (`qa.indexing.store`), each with
    its article's (sha256, path), so that the first update of a process does not hash every
    article's text again (1.8 s at a million sentences); only for a build made by this
    text-processing code (its texts are this code's)."""
    for (sha256, path), key in zip(sources, keys):
        if len(_TEXT_KEYS) >= _TEXT_KEYS_KEPT:
            return
        if key is not None:
            _TEXT_KEYS[(sha256, _kind(path))] = key


def forget_text_keys() -> None:
    """Forget the `text_key`s worked out so far (a build's loader tells them again)."""
    _TEXT_KEYS.clear()


@lru_cache(maxsize=4096)
def _kind(path: str) -> str:
    """A file's ending, lower case (what its text follows from besides its bytes), worked out
    once per file (a dump's million rows share theirs)."""
    return Path(path).suffix.lower()


def _remembered_text_key(article: Article) -> str:
    """`text_key` of an article, remembered by the hash of its source bytes (or dump row) and
    its file kind, from which its text follows: an update does not hash every text again."""
    source = (article.sha256, _kind(article.path))
    key = _TEXT_KEYS.get(source)
    if key is None:
        if len(_TEXT_KEYS) >= _TEXT_KEYS_KEPT:
            _TEXT_KEYS.clear()
        key = _TEXT_KEYS[source] = text_key(article.text)
    return key


def read_article(path: Path, folder: Path) -> Article | None:
    """The (first) article of a file, or None (with a warning) when the file cannot be used."""
    found = read_articles(path, folder)
    return found[0] if found else None


def read_articles(path: Path, folder: Path, known: Mapping[tuple[str, str], Article] | None = None) -> list[Article]:
    """The articles of one file: one for a text file or page, one per usable row, record
    or entry of a dump, archive or feed (see `qa.ingest.formats`).

    A file that cannot be used gives none, with a `CorpusWarning` saying why. `known` maps
    (path, SHA-256 of the bytes) to the article read from those bytes before.
    """
    return list(each_article_of(path, folder, known))


def each_article_of(path: Path, folder: Path, known: Mapping[tuple[str, str], Article] | None = None) -> Iterator[Article]:
    """`read_articles`, one article at a time as the file's format reads them."""
    folder = Path(folder)
    kind = format_of(path)
    if kind is None:
        _warn(f"skipped {path}: it is not a {KINDS} file")
        return
    data = _read_inside(path, folder, kind.max_bytes)
    if data is None:
        return
    sha256 = hashlib.sha256(data).hexdigest()
    if kind.binary:
        content: str | bytes = data
        if not data.strip():
            _warn(f"skipped {path}: the file is empty")
            return
    else:
        if looks_binary(data):
            _warn(f"skipped {path}: it looks binary, not a text article")
            return
        content = decode(data, path)
        if not content.strip():
            _warn(f"skipped {path}: the file is empty")
            return
    del data  # a dump's text is read from its decoded form alone
    doc_id = stem_of(path.relative_to(folder))
    earlier = (known or {}).get((str(path), sha256))
    if earlier is not None and not kind.many:
        yield earlier
        return
    found = kind.read(content, str(path), _warn)
    if kind.many:
        where = str(path)
        for f in found:
            yield _article(f"{doc_id}#{f.key}", f.text, where, f.sha256, f.fields, "")
        return
    for f in found:
        yield _article(doc_id, f.text, str(path), sha256, f.fields, Path(doc_id).name)
        return


def _article(doc_id: str, text: str, path: str, sha256: str, fields: dict[str, str], name: str) -> Article:
    """An article with its metadata; the title from the metadata, else the headline, else a fallback."""
    title = fields.get("title") or tell_title(text) or fallback_title(text, name)
    return Article(
        doc_id=doc_id, title=title, text=text, path=path, sha256=sha256, outlet=fields.get("outlet", ""),
        url=fields.get("url", ""), author=fields.get("author", ""), published=fields.get("published", ""),
    )


def _read_inside(path: Path, folder: Path, limit: int = MAX_ARTICLE_BYTES) -> bytes | None:
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
            data = handle.read(limit + 1)
    except OSError as error:
        reason = error.strerror or str(error)
        _warn(f"skipped {path}: cannot read it ({reason})")
        return None
    if len(data) > limit:
        _warn(f"skipped {path}: it is over {limit // (1024 * 1024)} MiB, too large for a news article")
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
