"""Article metadata: YAML front matter, the fields news dumps carry, publication dates.

The same five fields come from every input: `title`, `outlet` (also read from `source`,
`site_name`, `publisher`), `url` (also `link`), `author` (also `byline`, `authors`) and
`published` (also `date`, `published_at`, `publish_date`). A date is kept as an ISO day
("2015-03-12"); one that cannot be read is dropped with a warning naming the file.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Mapping

Warn = Callable[[str], None]

FIELDS = ("title", "outlet", "url", "author", "published")
_ALIASES = {
    "title": ("title", "headline"),
    "outlet": ("outlet", "source", "site_name", "publisher"),
    "url": ("url", "link"),
    "author": ("author", "byline", "authors"),
    "published": ("published", "date", "published_at", "publish_date", "pubdate"),
}
MAX_FIELD_CHARS = 300  # a title or outlet longer than this is not one
_FRONT_MATTER_OPEN = re.compile(r"---[ \t]*\r?\n")
_FRONT_MATTER_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.MULTILINE)
_FIELD_LINE = re.compile(r"\s*(?:#[^\n]*\n\s*)*[A-Za-z_][\w-]{0,40}:(?:\s|$)")  # the first field of front matter
_DAY_FORMATS = ("%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%b %d %Y", "%Y/%m/%d", "%d.%m.%Y")


def split_front_matter(text: str, where: str, warn: Warn) -> tuple[dict[str, str], int]:
    """The metadata of a YAML front matter block (`---` ... `---` at the very top) and where the body starts.

    Text without front matter gives ({}, 0), and so does a block of prose between two rules
    (an article may open with a rule). A block of `key: value` lines that is not valid YAML
    is still cut off (it was meant as front matter), with a warning.
    """
    opening = _FRONT_MATTER_OPEN.match(text)
    if not opening:
        return {}, 0
    closing = _FRONT_MATTER_CLOSE.search(text, opening.end())
    if not closing:
        return {}, 0  # a lone rule at the top of an article, not front matter
    block = text[opening.end() : closing.start()]
    if block.strip() and not _FIELD_LINE.match(block):
        return {}, 0  # prose between two rules
    import yaml  # only files with front matter pay for the import

    try:
        loaded = yaml.safe_load(block) if block.strip() else {}
    except yaml.YAMLError as error:
        warn(f"{where}: the front matter is not valid YAML ({_first_line(error)}); its metadata is ignored")
        return {}, closing.end()
    if not isinstance(loaded, dict):
        warn(f"{where}: the front matter is not a table of `key: value` fields; its metadata is ignored")
        return {}, closing.end()
    return metadata_of(loaded, where, warn), closing.end()


def metadata_of(fields: Mapping[str, Any], where: str, warn: Warn) -> dict[str, str]:
    """The known metadata fields of a mapping, as text, under their canonical names.

    Keys compare without regard to case; unknown keys are ignored; a list of authors is
    joined with commas.
    """
    lowered = {str(k).strip().lower(): v for k, v in fields.items()}
    out: dict[str, str] = {}
    for name, keys in _ALIASES.items():
        value = next((lowered[k] for k in keys if lowered.get(k) not in (None, "")), None)
        if value is None:
            continue
        if name == "published":
            day = parse_date(value)
            if day is None:
                warn(f"{where}: cannot read the date {str(value)[:60]!r}; write it as 2015-03-12")
            else:
                out[name] = day.isoformat()
            continue
        if isinstance(value, (list, tuple)) and name == "author":
            value = ", ".join(str(v) for v in value)
        text = " ".join(str(value).split())[:MAX_FIELD_CHARS]
        if text:
            out[name] = text
    return out


def parse_date(value: object) -> date | None:
    """A day from an ISO date or time, an RFC 2822 date, or "12 March 2015" / "March 12, 2015"; else None."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        pass
    for pattern in _DAY_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    try:
        return parsedate_to_datetime(text).date()
    except (TypeError, ValueError, IndexError):
        return None


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
