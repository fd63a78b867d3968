"""Text from articles and users made safe to show inside markdown."""

from __future__ import annotations

import html
import re

_INLINE_MARKUP = re.compile(r"[\\`*_{}\[\]#|~]")
# Only at the start of a line do these begin markup: "1. " or "1) " (a list), "- " or "+ " (a bullet).
_LINE_START_MARKUP = re.compile(r"^(?:(\d+)([.)])|([-+]))")


def escape_markdown(text: str) -> str:
    """`text` on one line, showing as itself in markdown: no markup, no HTML.

    Whitespace runs become one space; `&`, `<` and `>` become HTML entities; markdown's
    inline markup characters are backslash-escaped, and so is a list marker in front.
    """
    flat = " ".join(text.split())
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    flat = _INLINE_MARKUP.sub(lambda m: "\\" + m.group(), flat)
    return _LINE_START_MARKUP.sub(lambda m: f"{m.group(1)}\\{m.group(2)}" if m.group(1) else f"\\{m.group(3)}", flat)


_EMPHASIS = re.compile(r"(?<!\\)\*{1,2}")
_ESCAPED = re.compile(r"\\([\\`*_{}\[\]#|~.)+-])")


def plain_text(markdown: str) -> str:
    """A reply's markdown as plain text, for a file or a pipe: no emphasis marks, escapes undone.

    The inverse of what `escape_markdown` did to article and user text ("1\\.5" reads "1.5",
    "&amp;" reads "&"); the lines stay as they are.
    """
    return html.unescape(_ESCAPED.sub(r"\1", _EMPHASIS.sub("", markdown)))
