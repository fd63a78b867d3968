"""What an input format declares: its suffixes, and how a file of it becomes articles."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from qa.ingest.metadata import Warn

MAX_ARTICLE_BYTES = 16 * 1024 * 1024  # far above any news article; keeps a stray log file out of memory
MAX_COLLECTION_BYTES = 256 * 1024 * 1024  # a dump, archive or feed holds many articles
MAX_KEY_CHARS = 80
_SAFE_KEY = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Found:
    """One article as its format read it: the text to store (citation offsets point into
    it) and its metadata fields (`qa.ingest.metadata.FIELDS`).

    A format of several articles per file also gives each its `key`, unique and stable
    within the file (its article id is `<file>#<key>`), and the `sha256` of its own
    source (a row, a record, an entry), so that an article whose source is unchanged is
    known as such when the rest of the file changes.
    """

    text: str
    fields: dict[str, str]
    key: str = ""
    sha256: str = ""


# read(content, where, warn): content is the file's text (decoded, see
# `qa.ingest.corpus.decode`), or its bytes for a binary format; `where` names the file in
# warnings. A file or part of it that cannot be used is left out with one warning.
# A format of many articles may yield them as it reads (a dump of a million rows is never a list).
Reader = Callable[[Any, str, Warn], Iterable[Found]]


@dataclass(frozen=True)
class Format:
    """One kind of input file.

    Args:
        name: what the format is, for messages ("web archive").
        suffixes: the file name endings it reads, lower case, with their dot (".warc.gz").
        read: how the file's content becomes articles (`Reader`).
        many: a file holds several articles, each `Found` with its own key and hash; such
            a file is always read again when it changes (a one-article file whose bytes
            are unchanged gives its earlier article back).
        binary: `read` gets the file's bytes as they are (a compressed archive), not text.
        max_bytes: larger files are skipped with a warning.
    """

    name: str
    suffixes: tuple[str, ...]
    read: Reader
    many: bool = False
    binary: bool = False
    max_bytes: int = MAX_ARTICLE_BYTES


def unique_key(given: object, fallback: str, taken: set[str]) -> str:
    """An article's own id (from its row, record or entry) made file-name safe, or
    `fallback` (its place in the file) when it has none or repeats an earlier one's;
    added to `taken`."""
    key = ""
    if isinstance(given, (str, int)) and not isinstance(given, bool):
        key = _SAFE_KEY.sub("_", str(given)).strip("._-")[:MAX_KEY_CHARS]
    if not key or key in taken:
        key = fallback
    taken.add(key)
    return key
