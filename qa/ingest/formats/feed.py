"""News feeds saved as files (.rss, .atom, .xml): one article per entry of an RSS or Atom feed.

An entry's text is its full content when the feed carries it, else its summary, with the
HTML stripped to paragraphs; its title, link, author and date are the entry's, and its
outlet the entry's source (RSS `<source>`) or else the feed's own title. Read with
feedparser, which reads every RSS and Atom version and tolerates the malformed XML
feeds are often served as (it is given the bytes, never a URL, so nothing is fetched).

An article's id is `<file>#<entry id>` (the entry's `guid` or Atom `id`, else its link,
else its place in the feed), so it stays the same when the feed is saved again with new
entries. A file that is no feed is skipped with one warning.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from datetime import date
from html.parser import HTMLParser
from typing import Any

from qa.ingest.formats.base import MAX_COLLECTION_BYTES, Format, Found, unique_key
from qa.ingest.formats.html_page import fed
from qa.ingest.metadata import Warn, metadata_of, parse_date

_BLOCKS = {
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "tr", "table",
    "figure", "section", "article",
}
_HIDDEN = {"script", "style", "figcaption", "noscript"}
_EMAIL_AND_NAME = re.compile(r"\s*[^\s()@]+@[^\s()]+\s*\(([^()]+)\)\s*")


def read(data: bytes, where: str, warn: Warn) -> list[Found]:
    """The articles of a feed: one per entry with text."""
    import feedparser  # only corpora with feeds load it

    parsed = feedparser.parse(io.BytesIO(data))  # a stream: feedparser never fetches or opens a path then
    entries = parsed.get("entries") or []
    if not entries:
        problem = parsed.get("bozo_exception")
        reason = f"not an RSS or Atom feed ({str(problem)[:200]})" if parsed.get("bozo") else "the feed has no entries"
        warn(f"skipped {where}: {reason}")
        return []
    outlet = (parsed.get("feed") or {}).get("title", "")
    found: list[Found] = []
    taken: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        text = plain_text(_body(entry))
        if not text.strip():
            continue
        raw = {
            "title": entry.get("title", ""),
            "url": entry.get("link", ""),
            "author": _author(entry.get("author", "")),
            "outlet": (entry.get("source") or {}).get("title", "") or outlet,
            "published": _day(entry),
        }
        key = unique_key(entry.get("id") or entry.get("link"), f"entry-{number}", taken)
        fields = metadata_of(raw, f"{where} ({key})", warn)
        digest = hashlib.sha256(json.dumps([key, raw, text], sort_keys=True, default=str).encode("utf-8")).hexdigest()
        found.append(Found(text, fields, key, digest))
    if not found:
        warn(f"skipped {where}: none of its {len(entries)} entries has any text")
    elif len(found) < len(entries):
        warn(f"{where}: {len(entries) - len(found)} of its {len(entries)} entries have no text and were left out")
    return found


def _body(entry: Any) -> str:
    """The entry's full content if the feed has it (the longest part), else its summary."""
    contents = [part.get("value", "") for part in entry.get("content") or []]
    best = max(contents, key=len, default="")
    return best if best.strip() else entry.get("summary", "")


def _author(given: str) -> str:
    """An entry's author; RSS writes it "email (Name)", of which the name is kept."""
    named = _EMAIL_AND_NAME.fullmatch(given)
    return named.group(1).strip() if named else given


def _day(entry: Any) -> str:
    """The entry's publication (else last update) date as written, read as every other date
    is (`qa.ingest.metadata.parse_date`: the day where it was written); else the day
    feedparser read in it (in UTC); "" when it has none."""
    for name in ("published", "updated"):
        given, parsed = entry.get(name), entry.get(f"{name}_parsed")
        if given and parse_date(given) is not None:
            return str(given)
        if parsed:
            return date(*parsed[:3]).isoformat()
        if given:
            return str(given)  # unreadable: `metadata_of` warns, naming the entry
    return ""


class _Text(HTMLParser):
    """The text of an HTML fragment, a paragraph per block element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[list[str]] = [[]]
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag in _BLOCKS:
            self.paragraphs.append([])

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCKS:
            self.paragraphs.append([])

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.paragraphs[-1].append(data)


def plain_text(fragment: str) -> str:
    """An entry's HTML (or plain text) as plain text, paragraphs a blank line apart; "" when it has none.

    The layout is the one `qa.ingest.formats.html_page.main_text` gives a page, so the
    sentence splitter reads both alike.
    """
    paragraphs = (" ".join("".join(parts).split()) for parts in fed(_Text(), fragment).paragraphs)
    text = "\n\n".join(p for p in paragraphs if p)
    return text + "\n" if text else ""


FORMAT = Format("news feed", (".rss", ".atom", ".xml"), read, many=True, binary=True, max_bytes=MAX_COLLECTION_BYTES)
