"""Plain text and Markdown articles (.txt, .md): the text untouched after any YAML front matter."""

from __future__ import annotations

from qa.ingest.formats.base import Format, Found
from qa.ingest.metadata import Warn, split_front_matter


def read(text: str, where: str, warn: Warn) -> list[Found]:
    """The article of a text file, its metadata from the front matter (`qa.ingest.metadata`)."""
    fields, body_start = split_front_matter(text, where, warn)
    body = text[body_start:]
    if not body.strip():
        warn(f"skipped {where}: it holds front matter but no article text")
        return []
    return [Found(body, fields)]


FORMAT = Format("text", (".txt", ".md"), read)
