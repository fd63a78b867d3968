"""A conversation exported as Markdown: every citation with quote, article, outlet, date and offsets."""

from __future__ import annotations

import pytest

from qa.reply.export import conversation_markdown
from qa.types import Answer, AnswerPart, Citation, Source

ARTICLE = "Tormund Harbour Freezes Over\n\nThe harbour of Tormund froze solid on Thursday for the first time."
QUOTE = "The harbour of Tormund froze solid on Thursday for the first time."
START = ARTICLE.index(QUOTE)


def answered() -> Answer:
    citation = Citation(
        "tormund", "Tormund <Harbour>", START, START + len(QUOTE), QUOTE, 0.9,
        also_in=(Source("copy", "A copy", 3, 70),), outlet="The Herald", published="2015-03-13",
        url="https://herald.example/a b",
    )
    text = f"**Thursday (12 March 2015)** [1]\n\n[1] “{QUOTE}” — Tormund (tormund)"
    part = AnswerPart("When?", "date", "Thursday", 0.9, (1,), ("tormund",), resolved_date="2015-03-12")
    return Answer("When did it freeze?", "Thursday", text, (citation,), 0.9, True, (part,))


def test_each_turn_has_its_reply_and_every_citation_written_out() -> None:
    missing = Answer("zz?", "", "**Not in these articles.** None states it; the nearest are:\n\n[1] “x” — y", (), 0.1, False)
    text = conversation_markdown([("When did it <b>freeze</b>?", answered()), ("zz?", missing)], note="Exported today")
    assert text.startswith("# Questions to the news articles\n\nExported today\n")
    assert "## 1. When did it &lt;b&gt;freeze&lt;/b&gt;?" in text  # the user's text, shown as written
    assert "**Thursday (12 March 2015)** [1]\n\n*High confidence (90%)*" in text
    line = next(x for x in text.splitlines() if x.startswith("1. “"))
    assert line == (
        f"1. “{QUOTE}” — *Tormund &lt;Harbour&gt;*, The Herald, 13 March 2015 "
        f"(tormund, characters {START}–{START + len(QUOTE)}) <https://herald.example/a%20b>"
    )
    assert ARTICLE[START : START + len(QUOTE)] == QUOTE
    assert "   - also in *A copy* (copy, characters 3–70)" in text
    assert "## 2. zz?\n\n**Not in these articles.** None states it; the nearest are:\n" in text
    assert text.count("[1] “") == 0  # the reply's own source lines are replaced by the full list


def test_an_empty_conversation_and_a_malformed_turn() -> None:
    assert "No questions asked yet" in conversation_markdown([])
    with pytest.raises(ValueError, match="turn 1 is not a"):
        conversation_markdown([("q", "not an answer")])  # type: ignore[list-item]


def test_no_file_name_or_address_carries_live_markup_into_the_export() -> None:
    """A file name with blank lines and an <img onerror> (it once broke out of a code span and
    ran after a CommonMark render) and a javascript: address from front matter stay text."""
    from dataclasses import replace

    hostile = replace(
        answered().citations[0],
        doc_id="evil\n\n<img src=x onerror=alert(1)>\n\n`x`.txt",
        url="javascript:alert(document.cookie)",
    )
    answer = replace(answered(), citations=(hostile,))
    text = conversation_markdown([("q?", answer)])
    line = next(x for x in text.splitlines() if x.startswith("1. “"))
    assert "<img" not in text and "&lt;img src=x onerror=alert(1)&gt;" in line  # one line, escaped
    assert "<javascript:" not in text and "javascript:alert(document.cookie)" in line  # not a link
    import markdown_it

    html = markdown_it.MarkdownIt("commonmark").render(text)
    assert "<img" not in html and 'href="javascript' not in html
