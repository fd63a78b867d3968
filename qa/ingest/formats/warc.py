"""Web archives (.warc, .warc.gz): each saved HTML page read as a saved .html page is.

A crawler or `wget --warc-file` keeps every response it fetched in one archive. Each
response record holding an HTML page goes through the page extraction of
`qa.ingest.formats.html_page` (trafilatura's main text, the page's `<meta>` fields); its
URL is the record's `WARC-Target-URI`, and its date the page's own publication date, else
the day it was captured (`WARC-Date`). Other records (requests, images, scripts,
metadata) are not articles. Read with warcio, the Internet Archive's reader of the format.

An article's id is `<file>#<record id>` (the record's `WARC-Record-ID`, a UUID the
archive keeps), so it stays the same when the archive is rebuilt around it. An archive
that cannot be read is skipped with one warning; one damaged part way keeps the pages
before the damage, with one warning.
"""

from __future__ import annotations

import codecs
import hashlib
import io
from typing import Any, Iterator

from qa.ingest.formats import html_page
from qa.ingest.formats.base import MAX_COLLECTION_BYTES, Format, Found, unique_key
from qa.ingest.metadata import Warn, metadata_of

_PAGE_TYPES = ("text/html", "application/xhtml+xml")


def read(data: bytes, where: str, warn: Warn) -> list[Found]:
    """The articles of a web archive: one per HTML response with article text."""
    found: list[Found] = []
    taken: set[str] = set()
    pages = 0
    archive = _html_responses(data)
    while True:
        try:
            page = next(archive, None)
        except Exception as error:  # noqa: BLE001 - a damaged archive raises from deep in warcio, gzip or zlib
            reason = (f"{type(error).__name__}: {error}" if str(error) else type(error).__name__)[:200]
            if found:
                warn(f"{where}: the archive is damaged after its first {pages} page(s) ({reason}); those were read")
            else:
                warn(f"skipped {where}: not a readable web archive (WARC) ({reason})")
            return found
        if page is None:
            break
        pages += 1
        headers, payload, content_type = page
        page_where = f"{where} ({headers.get_header('WARC-Target-URI') or 'record ' + str(pages)})"
        article = _article(payload, content_type, headers, page_where, warn)
        if article is not None:
            key = unique_key(_record_id(headers), f"record-{pages}", taken)
            found.append(Found(article.text, article.fields, key, hashlib.sha256(payload).hexdigest()))
    if not found:
        what = f"none of its {pages} HTML page(s) holds article text" if pages else "it holds no HTML page"
        warn(f"skipped {where}: {what}")
    elif len(found) < pages:
        warn(f"{where}: {pages - len(found)} of its {pages} HTML pages hold no article text and were left out")
    return found


def _html_responses(data: bytes) -> Iterator[tuple[Any, bytes, str]]:
    """(WARC headers, payload, content type) of each HTML response record, read as it is reached."""
    from warcio.archiveiterator import ArchiveIterator  # only corpora with archives load it

    for record in ArchiveIterator(io.BytesIO(data)):
        if record.rec_type != "response" or record.http_headers is None:
            continue
        content_type = record.http_headers.get_header("Content-Type") or ""
        if content_type.split(";")[0].strip().lower() in _PAGE_TYPES:
            yield record.rec_headers, record.content_stream().read(), content_type


def _article(payload: bytes, content_type: str, headers: Any, where: str, warn: Warn) -> Found | None:
    """One saved page's article, as a saved .html page gives it, with the record's URL and date."""
    page = _decoded(payload, content_type)
    body = html_page.main_text(page)
    if not body.strip():
        return None
    raw = html_page.page_fields(page)
    raw["url"] = headers.get_header("WARC-Target-URI") or raw.get("url", "")
    raw.setdefault("published", headers.get_header("WARC-Date") or "")
    return Found(body, metadata_of(raw, where, warn))


def _decoded(payload: bytes, content_type: str) -> str:
    """The page's text in the charset its HTTP header names, else as trafilatura guesses it."""
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            try:
                return payload.decode(codecs.lookup(value.strip().strip("\"'")).name, errors="replace")
            except LookupError:
                break
    from trafilatura.utils import decode_file

    return str(decode_file(payload))


def _record_id(headers: Any) -> str:
    """The record's UUID (`<urn:uuid:...>`), without its wrapping."""
    given = headers.get_header("WARC-Record-ID") or ""
    return given.strip().strip("<>").removeprefix("urn:uuid:")


FORMAT = Format("web archive", (".warc", ".warc.gz"), read, many=True, binary=True, max_bytes=MAX_COLLECTION_BYTES)
