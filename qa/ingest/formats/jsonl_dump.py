"""News dumps as JSON lines: one article per line, its `text` beside its metadata fields.

    {"id": "bbc-1", "title": "...", "outlet": "BBC", "published": "2015-03-12", "text": "..."}

A row that is not a JSON object with a non-empty `text` string is skipped with a warning
naming its line; the other rows are read.
"""

from __future__ import annotations

import hashlib
import json
from typing import Iterator

import orjson

from qa.ingest.formats.base import MAX_COLLECTION_BYTES, Format, Found, unique_key
from qa.ingest.metadata import Warn, metadata_of


def read(text: str, where: str, warn: Warn) -> Iterator[Found]:
    """The usable rows of a dump, in file order, keyed by their own id (else their line
    number), unique within the file; yielded as they are read."""
    keys: set[str] = set()
    rows = 0
    for number, line in enumerate(_lines(text), start=1):
        if not line.strip():
            continue
        here = f"{where} line {number}"
        try:
            record = _parsed(line)
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
        key = unique_key(record.get("id"), f"line-{number}", keys)
        rows += 1
        yield Found(body, metadata_of(record, here, warn), key, hashlib.sha256(line.encode("utf-8")).hexdigest())
    if not rows:
        warn(f"skipped {where}: no line holds an article (a JSON object with a \"text\" field)")


def _parsed(line: str) -> object:
    """One row's JSON, as the standard library reads it: by orjson (a third of the time a
    dump's row took), else by `json` where orjson refuses the row (NaN, lone surrogates: the
    standard library reads them, or refuses the row with its own message) or may have read it
    otherwise: a row holding a float, as orjson makes an integer past 64 bits one. (Looking
    for a run of 19 digits in the line instead took 1.2 s of the year of news's 72 MB dump,
    which is read again at every update, against 0.36 s for orjson's whole parse.)"""
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line)
    return json.loads(line) if _holds_float(value) else value


def _holds_float(value: object) -> bool:
    """Whether a float is anywhere in the parsed `value` (walked without recursion: orjson
    reads rows nested a thousand deep)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, float):
            return True
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


LINES_AT_ONCE = 1 << 20  # characters split into lines at a time


def _lines(text: str) -> Iterator[str]:
    """`text.splitlines()`, a block of about `LINES_AT_ONCE` characters at a time: each block
    ends just after a newline, always a line's end, so the lines are the same."""
    start = 0
    while start < len(text):
        cut = text.find("\n", start + LINES_AT_ONCE)
        end = len(text) if cut < 0 else cut + 1
        yield from text[start:end].splitlines()
        start = end


FORMAT = Format("JSON-lines dump", (".jsonl",), read, many=True, max_bytes=MAX_COLLECTION_BYTES)
