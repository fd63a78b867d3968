"""News dumps as JSON lines: one article per line, its `text` beside its metadata fields.

    {"id": "bbc-1", "title": "...", "outlet": "BBC", "published": "2015-03-12", "text": "..."}

A row that is not a JSON object with a non-empty `text` string is skipped with a warning
naming its line; the other rows are read.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from qa.ingest.metadata import Warn, metadata_of

MAX_ID_CHARS = 80
_SAFE_ID = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Row:
    """One article of a dump: its key in the file (its id, else its line number), text and metadata."""

    key: str
    line: int
    text: str
    fields: dict[str, str]
    sha256: str


def dump_rows(text: str, where: str, warn: Warn) -> list[Row]:
    """The usable rows of a JSON-lines dump, in file order; keys are unique within the file."""
    rows: list[Row] = []
    keys: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        here = f"{where} line {number}"
        try:
            record = json.loads(line)
        except ValueError as error:
            warn(f"skipped {here}: not JSON ({error.args[0] if error.args else error})")
            continue
        except RecursionError:  # thousands of nested brackets
            warn(f"skipped {here}: it nests too deeply to be an article row")
            continue
        if not isinstance(record, dict):
            warn(f"skipped {here}: a row must be a JSON object with a \"text\" field")
            continue
        body = record.get("text")
        if not isinstance(body, str) or not body.strip():
            warn(f"skipped {here}: it has no \"text\" string to read")
            continue
        key = _key(record.get("id"), number, keys)
        keys.add(key)
        rows.append(
            Row(key, number, body, metadata_of(record, here, warn), hashlib.sha256(line.encode("utf-8")).hexdigest())
        )
    return rows


def _key(given: object, number: int, taken: set[str]) -> str:
    """The row's own id made file-name safe, or its line number when it has none (or a repeated one)."""
    if isinstance(given, (str, int)) and not isinstance(given, bool):
        key = _SAFE_ID.sub("_", str(given)).strip("._-")[:MAX_ID_CHARS]
        if key and key not in taken:
            return key
    return f"line-{number}"
