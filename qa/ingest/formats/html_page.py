"""Saved news pages (.html): the main text, without the site's boilerplate, and the <meta> fields.

The text is what trafilatura (a maintained extractor of the main content of web pages)
keeps of the page: menus, share buttons, related links and footers are dropped. That
extracted text is what the index stores, so citation offsets point into it exactly.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import TypeVar

from qa.ingest.formats.base import Format, Found
from qa.ingest.metadata import Warn, metadata_of

# <meta> names and properties per field, best first (Open Graph, article:, Dublin Core, schema.org).
_META = {
    "title": ("og:title", "twitter:title", "dc.title"),
    "outlet": ("og:site_name", "application-name", "publisher", "dc.publisher"),
    "url": ("og:url",),
    "author": ("author", "article:author", "dc.creator", "byl"),
    "published": (
        "article:published_time", "datepublished", "og:published_time", "date", "pubdate",
        "publish-date", "dc.date", "dc.date.issued", "parsely-pub-date", "sailthru.date",
    ),
}


HTMLParserT = TypeVar("HTMLParserT", bound=HTMLParser)


class _MetaReader(HTMLParser):
    """Collects <meta> content by name/property/itemprop, <link rel=canonical> and <title>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.canonical = ""
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): (v or "") for k, v in attrs}
        if tag == "meta":
            key = (values.get("property") or values.get("name") or values.get("itemprop") or "").strip().lower()
            if key and values.get("content", "").strip():
                self.meta.setdefault(key, values["content"].strip())
        elif tag == "link" and "canonical" in values.get("rel", "").lower().split():
            self.canonical = self.canonical or values.get("href", "").strip()
        elif tag == "time" and values.get("datetime") and "pubdate" in values:
            self.meta.setdefault("pubdate", values["datetime"].strip())
        elif tag == "title":
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def fed(reader: HTMLParserT, markup: str) -> HTMLParserT:
    """`reader` after reading `markup`; of broken markup, what it read before the break."""
    try:
        reader.feed(markup)
        reader.close()
    except (AssertionError, ValueError):  # html.parser on broken markup
        pass
    return reader


def page_fields(page: str) -> dict[str, str]:
    """The raw metadata of a page by field name (see `qa.ingest.metadata` for their reading)."""
    reader = fed(_MetaReader(), page)
    fields = {}
    for name, keys in _META.items():
        found = next((reader.meta[k] for k in keys if k in reader.meta), "")
        if found:
            fields[name] = found
    if "url" not in fields and reader.canonical:
        fields["url"] = reader.canonical
    if "title" not in fields and reader.title.strip():
        fields["title"] = reader.title
    return fields


def main_text(page: str) -> str:
    """The main text of a news page as plain text, paragraphs apart; "" when none was found."""
    import trafilatura  # heavy (lxml and friends): only corpora with web pages load it

    text = trafilatura.extract(
        page, output_format="txt", include_comments=False, include_tables=False, include_images=False,
        include_links=False, deduplicate=False, with_metadata=False, fast=True,
    )
    if not text:
        return ""
    # One blank line between paragraphs: the sentence splitter and the evidence panel read
    # a blank line as a paragraph break.
    paragraphs = [" ".join(line.split()) for line in text.splitlines()]
    return "\n\n".join(p for p in paragraphs if p) + "\n"


def read(page: str, where: str, warn: Warn) -> list[Found]:
    """The article of a saved page: its main text, its metadata from the `<meta>` fields."""
    body = main_text(page)
    if not body.strip():
        warn(f"skipped {where}: no article text found in the page")
        return []
    return [Found(body, metadata_of(page_fields(page), where, warn))]


FORMAT = Format("saved web page", (".html", ".htm"), read)
