"""The corpus as its user sees it: its articles, managing them, what it covers, what to ask it.

    qa.articles("my/articles", grep="ferry")  # the articles, as read for the index (filters optional)
    qa.article("harbour", "my/articles")      # one article: its text and metadata
    qa.add_articles(["story.txt"], "my/articles")        # checked and stored; the next ask indexes them
    qa.replace_article("harbour", "new.txt", "my/articles")  # the file in its place, the same doc id
    qa.delete_article("harbour", "my/articles")          # its file removed from the folder
    qa.corpus_summary("my/articles")          # how many, the date range, the outlets, headlines
    qa.example_questions("my/articles")       # questions its own articles answer

The index follows the folder: the next `ask` (or the chat's background build) reads what
was added, replaced or deleted, as it does for files changed by hand.
"""

from __future__ import annotations

import os
import threading
import warnings
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Iterable, Union

from qa.api import article_filter, ask, resolve_corpus
from qa.config import Settings
from qa.errors import CorpusError, QAError
from qa.ingest.corpus import SUFFIXES, corpus_files, list_articles, read_article, scan, text_key
from qa.ingest.formats import format_of, holds_many
from qa.ingest.uploads import MAX_UPLOAD_BYTES, add_article, check_size, remove_article_file, replace_article_file
from qa.reply.examples import questions_from_headlines
from qa.types import Article

__all__ = [
    "MAX_UPLOAD_BYTES", "AddedArticles", "CorpusSummary", "add_articles", "article", "article_suffixes", "articles",
    "corpus_summary", "delete_article", "example_questions", "replace_article",
]

# A file given as its path, or as the name it was uploaded under and its bytes.
ArticleFile = Union[str, "os.PathLike[str]", tuple[str, bytes]]
EXAMPLE_CANDIDATES = 4  # headlines turned into questions per example wanted (some give none, some are not answered)


@dataclass(frozen=True)
class CorpusSummary:
    """What a corpus covers: the chat's example questions and filter hints come from it.

    `first_published` and `last_published` are ISO days ("" when no article has a date);
    `outlets` are sorted without regard to case; `headlines` are the newest articles'
    titles, newest first (articles without a date after the dated ones).
    """

    folder: Path
    articles: int
    first_published: str
    last_published: str
    outlets: tuple[str, ...]
    headlines: tuple[str, ...]


@dataclass(frozen=True)
class AddedArticles:
    """What `add_articles` did: the files now in the corpus (their names there), and for each
    refused file, the file as given and why it was refused."""

    added: tuple[str, ...]
    refused: tuple[tuple[str, str], ...]
    already: tuple[tuple[str, str], ...] = ()  # (the file as given, the corpus file that holds its text)


_listings: dict[Path, tuple[tuple, tuple[Article, ...]]] = {}
_listings_lock = threading.Lock()


def articles(
    corpus: str | os.PathLike[str] | None = None,
    *,
    outlets: Iterable[str] | str | None = None,
    published_from: date | str | None = None,
    published_to: date | str | None = None,
    grep: str | None = None,
) -> list[Article]:
    """The readable articles of the corpus folder, in file-name order, read as the index reads them.

    Read again only when a file was added, changed or removed since the last call (the
    listing is kept per folder); unreadable files are left out without warnings (building
    the index warns about them).

    Args:
        corpus: folder of articles (default as in `ask`).
        outlets: only articles of these outlets (case does not matter), as in `ask`.
        published_from: only articles published on or after this day, as in `ask`.
        published_to: ... on or before this day.
        grep: only articles whose title or text holds this text (case and spacing do not matter).

    Raises:
        CorpusError: the folder does not exist.
        ValueError: a filter is malformed (the message says how).
    """
    scope = article_filter(published_from, published_to, outlets)
    folder = resolve_corpus(corpus)
    if not folder.is_dir():
        raise CorpusError(f"corpus folder {folder} does not exist; give a folder of news articles")
    try:
        state = tuple(scan(folder))
    except QAError:
        state = ()
    with _listings_lock:
        cached = _listings.get(folder)
    if cached is not None and cached[0] == state:
        found = list(cached[1])
    else:
        found = list_articles(folder)
        with _listings_lock:
            _listings[folder] = (state, tuple(found))
    if scope.active:
        found = [a for a in found if scope.admits(a)]
    if grep is not None and " ".join(grep.split()):
        needle = " ".join(grep.split()).casefold()
        found = [a for a in found if needle in a.title.casefold() or needle in " ".join(a.text.split()).casefold()]
    return found


def article(doc_id: str, corpus: str | os.PathLike[str] | None = None) -> Article:
    """The article `doc_id` of the corpus: its text as stored (citation offsets point into it) and its metadata.

    Raises:
        CorpusError: the folder does not exist, or holds no article of that id (the message
            says how to list them).
    """
    found = next((a for a in articles(corpus) if a.doc_id == doc_id), None)
    if found is None:
        raise CorpusError(
            f"no article {doc_id!r} in {resolve_corpus(corpus)}; `qa articles` (or qa.articles()) lists their doc ids"
        )
    return found


def delete_article(doc_id: str, corpus: str | os.PathLike[str] | None = None) -> Path:
    """Delete the article `doc_id`: its file is removed from the corpus folder; the next `ask` leaves it out.

    Returns:
        The file that was removed.

    Raises:
        CorpusError: no such article, or it is one of several articles of one file (a dump
            row, a web archive record, a feed entry): the message says to edit that file.
    """
    found = _own_file(doc_id, corpus, "deleted")
    remove_article_file(resolve_corpus(corpus), Path(found.path))
    return Path(found.path)


def replace_article(
    doc_id: str, file: ArticleFile, corpus: str | os.PathLike[str] | None = None
) -> Path:
    """Put another file in place of the article `doc_id`, under its name; the next `ask` reads it.

    The new file is checked as `add_articles` checks one (kind, size, not binary, not
    empty). It keeps the old file's name (so the doc id stays) with its own kind's ending.

    Args:
        doc_id: the article to replace.
        file: the new article: a path, or the (name, bytes) of an uploaded file.
        corpus: folder of articles (default as in `ask`).

    Returns:
        Where the new file was written.

    Raises:
        CorpusError: no such article; it is one of several articles of one file (the message
            says to edit that file); or the new file is refused (the message says why).
        OSError: the new file cannot be read.
    """
    found = _own_file(doc_id, corpus, "replaced")
    name, data = file if isinstance(file, tuple) else _read(Path(file))
    return replace_article_file(resolve_corpus(corpus), Path(found.path), name, data)


def _own_file(doc_id: str, corpus: str | os.PathLike[str] | None, done: str) -> Article:
    """The article `doc_id`, refused when it shares its file with other articles.

    Raises:
        CorpusError: no such article, or its file holds several.
    """
    found = article(doc_id, corpus)
    kind = format_of(found.path)
    if kind is not None and kind.many:
        raise CorpusError(
            f"{doc_id!r} is one of the articles of {Path(found.path).name} (a {kind.name}) and cannot be {done} on its own: "
            f"edit that file (or remove it whole) in the corpus folder"
        )
    return found


def corpus_summary(corpus: str | os.PathLike[str] | None = None, *, headlines: int = 5) -> CorpusSummary:
    """How many articles the corpus holds, their date range and outlets, and the newest headlines.

    Args:
        corpus: folder of articles (default as in `ask`).
        headlines: how many headlines to give.

    Raises:
        CorpusError: the folder does not exist.
    """
    listed = articles(corpus)
    days = sorted(a.published for a in listed if a.published)
    return CorpusSummary(
        folder=resolve_corpus(corpus),
        articles=len(listed),
        first_published=days[0] if days else "",
        last_published=days[-1] if days else "",
        outlets=tuple(sorted({a.outlet for a in listed if a.outlet}, key=str.casefold)),
        headlines=tuple(a.title for a in _newest_first(listed)[:headlines]),
    )


def example_questions(
    corpus: str | os.PathLike[str] | None = None,
    *,
    count: int = 4,
    index: object | None = None,
    settings: Settings | None = None,
) -> list[str]:
    """Questions made from the newest articles' headlines that the corpus answers.

    Each headline becomes a who- or when-question about it (`qa.reply.examples`); only
    questions `ask` answers (rather than declining) are kept, so every example shows
    an answer with its sources.

    Args:
        corpus: folder of articles (default as in `ask`).
        count: at most this many questions.
        index: an index already loaded to answer from, as in `ask`.
        settings: as in `ask`.

    Raises:
        CorpusError: the folder does not exist.
    """
    if count < 1:
        raise ValueError(f"count must be at least 1, not {count}")
    newest = _newest_first(articles(corpus))[: count * EXAMPLE_CANDIDATES]
    kept: list[str] = []
    for question in questions_from_headlines(newest):
        answer = ask(question, corpus=corpus, settings=settings, wait=False, index=index)  # type: ignore[arg-type]
        if answer.answerable:
            kept.append(question)
            if len(kept) == count:
                break
    return kept


def add_articles(files: Iterable[ArticleFile], corpus: str | os.PathLike[str] | None = None) -> AddedArticles:
    """Check article files and store the good ones in the corpus folder; the next `ask` indexes them.

    Each file is refused, with a message saying why, when its name has no article suffix
    (`article_suffixes()`), it is over `MAX_UPLOAD_BYTES` (checked before it is read), binary,
    empty, or unreadable. Names are made safe ([A-Za-z0-9._-]) and never overwrite a file;
    a file whose bytes are already in the corpus is not stored twice.

    Args:
        files: paths, or (name, bytes) pairs of uploaded files.
        corpus: folder of articles (default as in `ask`); made if missing.
    """
    folder = resolve_corpus(corpus)
    added: list[str] = []
    refused: list[tuple[str, str]] = []
    already: list[tuple[str, str]] = []
    present = {p.resolve() for p in corpus_files(folder)} if folder.is_dir() else set()
    texts: dict[str, str] = {}  # text key -> the file holding it (single-article files)
    if present:
        texts = {text_key(a.text): Path(a.path).name for a in articles(folder) if "#" not in a.doc_id}
    for item in files:
        given = item[0] if isinstance(item, tuple) else os.fspath(item)
        try:
            name, data = item if isinstance(item, tuple) else _read(Path(item))
            stored = add_article(folder, name, data)
        except (QAError, OSError) as error:
            refused.append((given, str(error)))
            continue
        if stored.resolve() in present:  # the same bytes are in the corpus already
            already.append((given, stored.name))
            continue
        key, same, unreadable = _text_of(stored, folder, texts)
        if unreadable:  # a file the index could not use: refused now rather than warned about later
            stored.unlink(missing_ok=True)
            refused.append((given, unreadable))
            continue
        if same is not None:  # the same words in other bytes (line endings, spacing): stored once
            stored.unlink(missing_ok=True)
            already.append((given, same))
            continue
        present.add(stored.resolve())
        if key:
            texts[key] = stored.name
        added.append(stored.name)
    return AddedArticles(tuple(added), tuple(refused), tuple(already))


def _text_of(stored: Path, folder: Path, texts: dict[str, str]) -> tuple[str, str | None, str]:
    """The text key of the article just stored, the corpus file that already holds its words
    (None if none), and why the file holds no usable article ("" when it does). A file of
    several articles is not read here: "" and None and ""."""
    if holds_many(stored.name):
        return "", None, ""
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        article = read_article(stored, folder)
    if article is None:
        why = next((str(w.message) for w in said), f"{stored.name} holds no article text")
        return "", None, why.replace(str(stored), stored.name)
    key = text_key(article.text)
    return key, texts.get(key), ""


def article_suffixes() -> tuple[str, ...]:
    """The file suffixes read as articles (".txt", ".md", ".html", ...)."""
    return tuple(SUFFIXES)


def _read(path: Path) -> tuple[str, bytes]:
    check_size(path.name, path.stat().st_size)  # before it is read into memory
    return path.name, path.read_bytes()


def _newest_first(listed: list[Article]) -> list[Article]:
    """Dated articles newest first, then the undated ones in file order."""
    return sorted(listed, key=lambda a: a.published or "", reverse=True) if any(a.published for a in listed) else listed
