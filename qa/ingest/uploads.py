"""Uploaded articles into the corpus folder: a safe name, size and content checks, atomic write."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

from qa.errors import CorpusError
from qa.ingest.corpus import KINDS, bom_encoding, corpus_files, looks_binary
from qa.ingest.formats import format_of, stem_of

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def safe_file_name(name: str) -> str:
    """A plain file name from an uploaded one: no folders, no dots in front, only [A-Za-z0-9._-].

    Raises:
        CorpusError: nothing usable is left, or the name does not end as a registered
            input format's do (`qa.ingest.formats.SUFFIXES`).
    """
    base = re.split(r"[\\/]", name)[-1].strip()
    if format_of(base) is None:
        raise CorpusError(f"{name!r} is not a {KINDS} file; only articles of those kinds can be added")
    stem = stem_of(base)
    suffix = base[len(stem):].lower()
    stem = _SAFE_NAME.sub("_", stem).strip("._-")[:100]
    if not stem:
        raise CorpusError(f"{name!r} has no usable file name; rename it with letters or digits")
    return f"{stem}{suffix}"


def add_article(folder: Path, name: str, data: bytes) -> Path:
    """Store an uploaded article in the corpus folder under a sanitised, unused name.

    Args:
        folder: the corpus folder.
        name: the name the file was uploaded with.
        data: its bytes.

    Returns:
        Where the article was written; an article whose bytes are already in the corpus
        is not stored twice, and the file holding it is returned.

    Raises:
        CorpusError: bad name, too large, binary, or empty.
    """
    check_upload(name, data)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    same = _same_bytes(folder, data)
    if same is not None:
        return same  # the same article again: nothing to add
    base = safe_file_name(name)
    target = folder / base
    counter = 1
    stem = stem_of(base)
    while target.exists() or target.is_symlink():
        target = folder / f"{stem}-{counter}{base[len(stem):]}"
        counter += 1
    _write(target, data)
    return target


def replace_article_file(folder: Path, path: Path, name: str, data: bytes) -> Path:
    """Put an uploaded article in place of the article file `path`, keeping its name (and so its doc id).

    The new file keeps the old one's stem and takes its own kind's ending ("story.txt"
    replaced by "new.md" is "story.md"); the old file goes once the new one is written.

    Args:
        folder: the corpus folder.
        path: the file to replace, inside `folder`.
        name: the name the new file was uploaded with (its ending says its kind).
        data: its bytes.

    Returns:
        Where the new article was written.

    Raises:
        CorpusError: the new file is no article (as in `check_upload`), holds several
            articles, its bytes are already another file of the corpus, or its new name is taken.
    """
    check_upload(name, data)
    base = safe_file_name(name)
    kind = format_of(base)
    if kind is not None and kind.many:
        raise CorpusError(f"{name!r} is a {kind.name}, which holds several articles; replace an article with one article")
    old = _inside(folder, path)
    target = old.with_name(stem_of(old.name) + base[len(stem_of(base)):])
    if target != old and (target.exists() or target.is_symlink()):
        raise CorpusError(f"{target.name} is already in the corpus; delete it first or upload the article under another kind")
    same = _same_bytes(folder, data)
    if same is not None and same.resolve() != old.resolve():
        raise CorpusError(f"{name!r} is already in the corpus as {same.relative_to(folder)}")
    _write(target, data)
    if target != old:
        old.unlink()
    return target


def remove_article_file(folder: Path, path: Path) -> None:
    """Delete the article file `path` from the corpus folder (a link there: the link, never what it leads to).

    Raises:
        CorpusError: `path` is not a file inside `folder`.
    """
    _inside(folder, path).unlink()


def _inside(folder: Path, path: Path) -> Path:
    """`path` as a file of the corpus folder, checked to be one.

    Raises:
        CorpusError: it lies outside the folder, or is not a file.
    """
    folder, path = Path(folder).resolve(), Path(path)
    if not path.parent.resolve().is_relative_to(folder) or not (path.is_file() or path.is_symlink()):
        raise CorpusError(f"{path} is not a file of the corpus folder {folder}")
    return path.parent.resolve() / path.name


def _write(target: Path, data: bytes) -> None:
    """Write `data` to `target` atomically: to a hidden temporary name beside it, then renamed."""
    temporary = target.parent / f".{target.name}.{uuid.uuid4().hex[:8]}.upload"
    try:
        temporary.write_bytes(data)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def check_upload(name: str, data: bytes) -> None:
    """Refuse what cannot be an article, before anything is written.

    Raises:
        CorpusError: bad name, too large, binary, or empty; the message says which.
    """
    kind = format_of(safe_file_name(name))
    check_size(name, len(data))
    if kind is not None and kind.binary:  # an archive or a feed: its format reads (and judges) the bytes
        if not data.strip():
            raise CorpusError(f"{name!r} is empty")
        return
    if looks_binary(data):
        raise CorpusError(f"{name!r} looks binary; add articles as text ({KINDS})")
    if not data.decode(bom_encoding(data) or "utf-8", errors="replace").strip():
        raise CorpusError(f"{name!r} is empty")


def check_size(name: str, size: int) -> None:
    """Refuse a file of `size` bytes over `MAX_UPLOAD_BYTES` (callers check it before reading a file).

    Raises:
        CorpusError: too large; the message gives the limit.
    """
    if size > MAX_UPLOAD_BYTES:
        raise CorpusError(f"{name!r} is {size // 1024} KiB; articles up to {MAX_UPLOAD_BYTES // 1024} KiB can be added")


def _same_bytes(folder: Path, data: bytes) -> Path | None:
    """An article file of the corpus with exactly these bytes (only files of the same size are read)."""
    for path in corpus_files(folder):
        try:
            if path.stat().st_size == len(data) and path.read_bytes() == data:
                return path
        except OSError:
            continue
    return None
