"""A conversation as a Markdown document a reader can keep: questions, answers and every citation.

Each citation is written out with its quote, article title, outlet, publication date, doc
id and character offsets (`quote == article_text[start:end]`), so the document can be
checked against the articles without the app.
"""

from __future__ import annotations

import re
from typing import Sequence

from qa.answer.dates import format_day
from qa.reply.markdown import escape_markdown
from qa.reply.present import confidence_label
from qa.types import Answer, Citation

TITLE = "Questions to the news articles"
_WEB = re.compile(r"https?://[^\s<>]+$", re.IGNORECASE)


def conversation_markdown(turns: Sequence[tuple[str, Answer]], *, title: str = TITLE, note: str = "") -> str:
    """The conversation as Markdown, one section per question, its sources listed under it.

    Args:
        turns: (question as asked, its answer), oldest first.
        title: the document's heading.
        note: a line under the heading (such as when and from which folder), as plain text.

    Returns:
        The Markdown text; article and user text are escaped, so they show as written.

    Raises:
        ValueError: a turn is not a (question, Answer) pair.
    """
    lines = [f"# {escape_markdown(title)}", ""]
    if note:
        lines += [escape_markdown(note), ""]
    if not turns:
        lines.append("*No questions asked yet.*")
    for number, turn in enumerate(turns, start=1):
        if not (isinstance(turn, (tuple, list)) and len(turn) == 2 and isinstance(turn[1], Answer)):
            raise ValueError(f"turn {number} is not a (question, Answer) pair")
        question, answer = turn
        lines += [f"## {number}. {escape_markdown(str(question))}", "", _reply(answer), ""]
        if answer.answerable:
            lines += [f"*{confidence_label(answer.confidence)}*", ""]
        if answer.citations:
            lines += ["Sources:" if answer.answerable else "Nearest passages:", ""]
            lines += [_citation(n, c) for n, c in enumerate(answer.citations, start=1)]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _reply(answer: Answer) -> str:
    """The reply without its source lines (they are written out in full below it)."""
    head, _, _ = answer.text.partition("\n\n[1] ")
    return head.strip()


def _citation(number: int, citation: Citation) -> str:
    about = [f"*{escape_markdown(citation.title)}*"]
    about += [escape_markdown(x) for x in (citation.outlet, format_day(citation.published) if citation.published else "") if x]
    where = f"{escape_markdown(citation.doc_id)}, characters {citation.start}–{citation.end}"
    line = f"{number}. “{escape_markdown(citation.quote)}” — {', '.join(about)} ({where})"
    if citation.url:
        line += f" {_link(citation.url)}"
    for source in citation.also_in:
        line += (
            f"\n   - also in *{escape_markdown(source.title)}* "
            f"({escape_markdown(source.doc_id)}, characters {source.start}–{source.end})"
        )
    return line


def _link(url: str) -> str:
    """A web address as an autolink, only for http(s); anything else (javascript:, data:) as plain text.

    An autolink ends at a space, a `<` or a `>`, so those are percent-encoded: the link
    cannot carry markup out with it.
    """
    flat = re.sub(r"\s", "%20", url.strip())
    if _WEB.match(flat):
        return "<" + flat.replace("<", "%3C").replace(">", "%3E") + ">"
    return escape_markdown(url)
