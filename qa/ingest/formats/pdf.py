"""PDF articles (.pdf): the text of each page, one article per file.

A newspaper's PDF edition or a saved article page: pypdf (a small, pure-Python reader)
extracts each page's text, and the pages are joined with a blank line between them (a
paragraph break). Title, author and date come from the document's metadata (`/Title`,
`/Author`, `/CreationDate`), where it has them; else the title is the text's first line,
as for a text file. A scanned PDF has no text to extract: it is skipped with a warning
saying so (run it through OCR first), and so is a damaged or encrypted one.
"""

from __future__ import annotations

import io
import re

from qa.ingest.formats.base import Format, Found
from qa.ingest.metadata import Warn, metadata_of

MAX_PDF_BYTES = 64 * 1024 * 1024
_PDF_DATE = re.compile(r"^D:(\d{4})(\d{2})(\d{2})")


def read(data: bytes, where: str, warn: Warn) -> list[Found]:
    """The PDF's text as one article, with the metadata the document carries."""
    from pypdf import PdfReader  # only corpora with PDFs load it
    from pypdf.errors import PdfReadError

    try:
        document = PdfReader(io.BytesIO(data))
        if document.is_encrypted:
            warn(f"skipped {where}: the PDF is encrypted; save it unlocked")
            return []
        pages = [page.extract_text() or "" for page in document.pages]
        info = document.metadata or {}
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError) as error:
        warn(f"skipped {where}: not a readable PDF ({type(error).__name__}: {str(error)[:120]})")
        return []
    text = "\n\n".join(page.strip() for page in pages if page.strip())
    if not text:
        warn(f"skipped {where}: the PDF holds no text (a scanned document? run it through OCR first)")
        return []
    fields: dict[str, object] = {"title": info.get("/Title"), "author": info.get("/Author")}
    created = _PDF_DATE.match(str(info.get("/CreationDate") or ""))
    if created:
        fields["published"] = "-".join(created.groups())
    return [Found(text + "\n", metadata_of({k: str(v) for k, v in fields.items() if v}, where, warn))]


FORMAT = Format("PDF document", (".pdf",), read, binary=True, max_bytes=MAX_PDF_BYTES)
