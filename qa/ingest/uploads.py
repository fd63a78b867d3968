"""Uploaded articles into the corpus folder: a safe name, size and content checks, atomic write."""

from __future__ import annotations

import os
import re
from pathlib import Path

from qa.errors import CorpusError
from qa.ingest.corpus import BINARY_PROBE_BYTES, SUFFIXES

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def safe_file_name(name: str) -> str:
    """A plain file name from an uploaded one: no folders, no dots in front, only [A-Za-z0-9._-].

    Raises:
        CorpusError: nothing usable is left, or the extension is not .txt or .md.
    """
    base = re.split(r"[\\/]", name)[-1].strip()
    stem, dot, suffix = base.rpartition(".")
    if not dot or f".{suffix.lower()}" not in SUFFIXES:
        raise CorpusError(f"{name!r} is not a .txt or .md file; only plain-text articles can be added")
    stem = _SAFE_NAME.sub("_", stem).strip("._-")[:100]
    if not stem:
        raise CorpusError(f"{name!r} has no usable file name; rename it with letters or digits")
    return f"{stem}.{suffix.lower()}"


def add_article(folder: Path, name: str, data: bytes) -> Path:
    """Store an uploaded article in the corpus folder under a sanitised, unused name.

    Args:
        folder: the corpus folder.
        name: the name the file was uploaded with.
        data: its bytes.

    Returns:
        Where the article was written.

    Raises:
        CorpusError: bad name, too large, binary, or empty.
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise CorpusError(
            f"{name!r} is {len(data) // 1024} KiB; articles up to {MAX_UPLOAD_BYTES // 1024} KiB can be added"
        )
    if b"\x00" in data[:BINARY_PROBE_BYTES]:
        raise CorpusError(f"{name!r} looks binary; add articles as plain text (.txt or .md)")
    if not data.strip():
        raise CorpusError(f"{name!r} is empty")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / safe_file_name(name)
    counter = 1
    while target.exists():
        if target.read_bytes() == data:
            return target  # the same article again: nothing to add
        stem, suffix = safe_file_name(name).rsplit(".", 1)
        target = folder / f"{stem}-{counter}.{suffix}"
        counter += 1
    temporary = folder / f".{target.name}.upload"
    temporary.write_bytes(data)
    os.replace(temporary, target)
    return target
