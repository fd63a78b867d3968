"""Input formats: which files of a corpus folder are articles, and how each kind is read.

One module per format declares a `FORMAT` (`base.Format`): its file name endings and a
function that turns a file's text (or bytes, for an archive) into articles (`base.Found`):
`text_file` (.txt, .md: the text after any YAML front matter), `html_page` (.html, .htm:
the main text of a saved page), `jsonl_dump` (.jsonl: one article per line), `warc` (.warc,
.warc.gz: each HTML page of a web archive), `feed` (.rss, .atom, .xml: each entry of a
news feed) and `pdf` (.pdf: the text of its pages). `FORMATS` below is the registry: a new format is one module here and its line
there. Nothing outside `qa.ingest` looks at a file name ending: it asks this registry
(`format_of`, `SUFFIXES`, `KINDS`). Every module of this folder is part of the index
fingerprint (`qa.indexing.build.pipeline_fingerprint`), so a change to how a format reads
its files makes indexes read their articles again.
"""

from __future__ import annotations

from pathlib import Path

from qa.ingest.formats import feed, html_page, jsonl_dump, pdf, text_file, warc
from qa.ingest.formats.base import Format, Found

__all__ = ["FORMATS", "KINDS", "SUFFIXES", "Format", "Found", "format_of", "holds_many", "stem_of"]

FORMATS: tuple[Format, ...] = (
    text_file.FORMAT,
    html_page.FORMAT,
    jsonl_dump.FORMAT,
    warc.FORMAT,
    feed.FORMAT,
    pdf.FORMAT,
)

SUFFIXES: tuple[str, ...] = tuple(suffix for f in FORMATS for suffix in f.suffixes)
KINDS = ", ".join(SUFFIXES[:-1]) + f" or {SUFFIXES[-1]}"  # for messages and help texts

# Longest first, so "x.warc.gz" is a web archive and not some ".gz" format.
_BY_SUFFIX = sorted(((s, f) for f in FORMATS for s in f.suffixes), key=lambda pair: -len(pair[0]))


def format_of(name: str | Path) -> Format | None:
    """The format of a file by its name's ending (any case), or None when it is no article file."""
    lowered = Path(name).name.lower()
    return next((f for suffix, f in _BY_SUFFIX if lowered.endswith(suffix) and len(lowered) > len(suffix)), None)


def stem_of(relpath: str | Path) -> str:
    """A file's path without its format's ending ("2015/bbc.warc.gz" -> "2015/bbc"): its articles' id."""
    text = Path(relpath).as_posix()
    lowered = text.lower()
    suffix = next((s for s, _ in _BY_SUFFIX if lowered.endswith(s) and len(lowered) > len(s)), "")
    return text[: len(text) - len(suffix)]


def holds_many(name: str | Path) -> bool:
    """Whether a file holds several articles (a dump, an archive, a feed), each with its own id and hash."""
    found = format_of(name)
    return found is not None and found.many
