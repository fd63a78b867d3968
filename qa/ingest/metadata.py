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
from functools import lru_cache
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
MAX_FRONT_MATTER_CHARS = 16_384  # front matter is a few fields; a bigger block is not read as metadata
MAX_YAML_DEPTH = 8  # `authors: [a, b]` nests twice; 600 nested lists once raised RecursionError
_MAX_LIST_ITEMS = 20  # authors joined from a list
_FRONT_MATTER_OPEN = re.compile(r"---[ \t]*\r?\n")
_FRONT_MATTER_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.MULTILINE)
_FIELD_LINE = re.compile(r"\s*(?:#[^\n]*\n\s*)*[A-Za-z_][\w-]{0,40}:(?:\s|$)")  # the first field of front matter
_DAY_FORMATS = ("%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%b %d %Y", "%Y/%m/%d", "%d.%m.%Y")
_NUMERIC_DAY_FORMATS = tuple(f for f in _DAY_FORMATS if "%B" not in f and "%b" not in f)


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
    if len(block) > MAX_FRONT_MATTER_CHARS:
        warn(f"{where}: the front matter is over {MAX_FRONT_MATTER_CHARS:,} characters; its metadata is ignored")
        return {}, closing.end()
    try:
        loaded = load_front_matter(block) if block.strip() else {}
    except ValueError as error:
        warn(f"{where}: the front matter is not valid YAML ({_first_line(error)}); its metadata is ignored")
        return {}, closing.end()
    if not isinstance(loaded, dict):
        warn(f"{where}: the front matter is not a table of `key: value` fields; its metadata is ignored")
        return {}, closing.end()
    return metadata_of(loaded, where, warn), closing.end()


def load_front_matter(block: str) -> Any:
    """The YAML of a front matter block, read safely and within bounds.

    Safe loading builds no objects, but YAML can still be a bomb: aliases (`*a`) repeat a
    node without copying it, so 481 bytes of nested aliases expand into gigabytes once
    turned into text, and deep nesting exhausts the stack. Front matter needs neither, so an
    alias is refused and so is nesting deeper than MAX_YAML_DEPTH.

    Raises:
        ValueError: the block is not YAML, holds an alias, or nests too deeply.
    """
    import yaml  # only files with front matter pay for the import

    loader = None
    try:
        loader = _bounded_loader()(block)  # its reader refuses control characters here already
        return loader.get_single_data()
    except yaml.YAMLError as error:
        raise ValueError(_first_line(error)) from None
    except RecursionError:  # a parser deeper than any depth check (never seen, but bounded anyway)
        raise ValueError("nested too deeply") from None
    finally:
        if loader is not None:
            loader.dispose()


@lru_cache(maxsize=1)
def _bounded_loader() -> type:
    """The loader class, made on first use (yaml is imported lazily)."""
    import yaml

    class BoundedLoader(yaml.SafeLoader):
        """yaml.SafeLoader without aliases, and with nodes nested at most MAX_YAML_DEPTH deep."""

        depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                mark = self.peek_event().start_mark
                raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed in front matter", mark)
            self.depth += 1
            try:
                if self.depth > MAX_YAML_DEPTH:
                    mark = self.peek_event().start_mark
                    raise yaml.composer.ComposerError(None, None, f"nested more than {MAX_YAML_DEPTH} deep", mark)
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    return BoundedLoader


def metadata_of(fields: Mapping[str, Any], where: str, warn: Warn) -> dict[str, str]:
    """The known metadata fields of a mapping, as text, under their canonical names.

    Keys compare without regard to case; unknown keys are ignored; a list of authors is
    joined with commas.
    """
    lowered = {str(k).strip().lower(): v for k, v in fields.items()}
    out: dict[str, str] = {}
    for name, keys in _ALIASES.items():
        value = None
        for key in keys:  # a loop, not a generator: a dump's million rows come through here
            found = lowered.get(key)
            if found is not None and found != "":
                value = found
                break
        if value is None:
            continue
        if name == "published":
            day = parse_date(value)
            if day is None:
                warn(f"{where}: cannot read the date {str(value)[:60]!r}; write it as 2015-03-12")
            else:
                out[name] = day.isoformat()
            continue
        text = _field_text(value, joined=name == "author")
        if text is None:
            warn(f"{where}: the {name} is not text; it is ignored")
        elif text:
            out[name] = text
    return out


def _field_text(value: object, joined: bool) -> str | None:
    """A field as text of at most MAX_FIELD_CHARS, cut before anything long is formatted; a list
    of short values (authors) joined with commas when `joined`; None for anything else."""
    if isinstance(value, (list, tuple)) and joined:
        parts = [_field_text(v, joined=False) for v in value[:_MAX_LIST_ITEMS]]
        return _field_text(", ".join(p for p in parts if p), joined=False)
    if isinstance(value, str):
        return " ".join(value[: MAX_FIELD_CHARS * 4].split())[:MAX_FIELD_CHARS]
    if isinstance(value, (int, float, date)) and not isinstance(value, bool):
        return str(value)[:MAX_FIELD_CHARS]
    return None


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
    # the formats naming the month need a letter: a date of digits alone ("2023/01/05") tries the
    # others only (strptime's failures cost 20 us each, six a row of a dump of such dates)
    for pattern in _DAY_FORMATS if any(c.isalpha() for c in text) else _NUMERIC_DAY_FORMATS:
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
