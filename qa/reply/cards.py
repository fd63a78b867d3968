"""The chat's HTML: source cards with the answer marked, the whole article, the article table.

Everything that comes from an article or a user is escaped here (`html.escape`) before it
becomes HTML: a page shows `<script>` as text and never runs it. Clicking a card's
citation opens the whole article (a `<details>` the browser unfolds on a fragment link)
scrolled to the cited sentence; no script is involved.
"""

from __future__ import annotations

import html
import re
from typing import Mapping, Sequence

from qa.answer.dates import format_day
from qa.reply.present import NOT_FOUND_LABEL, confidence_label, confidence_level, excerpt
from qa.types import Answer, Article, Citation

__all__ = ["answer_spans", "article_html", "article_page", "articles_html", "evidence_html", "source_card"]

MAX_ARTICLE_VIEW_CHARS = 40_000  # of a longer article, this much around the passage is shown
_WHOLE_SENTENCE_SHARE = 0.8  # an "answer" this much of the quote is the sentence itself: nothing to mark
_DISPLAY_DAY = re.compile(r"\s*\(\d{1,2} [A-Z][a-z]+ \d{4}\)$")  # "Thursday (12 March 2015)" -> "Thursday"


def answer_spans(quote: str, answers: Sequence[str]) -> list[tuple[int, int]]:
    """Where each short answer first stands in `quote` as whole words, in order, never overlapping."""
    spans: list[tuple[int, int]] = []
    for raw in answers:
        answer = _DISPLAY_DAY.sub("", raw).strip()
        if not answer or len(answer) >= _WHOLE_SENTENCE_SHARE * len(quote):
            continue
        found = re.search(rf"(?<!\w){tolerant_pattern(answer)}(?!\w)", quote, re.IGNORECASE)
        if found and all(found.end() <= s or found.start() >= e for s, e in spans):
            spans.append(found.span())
    return sorted(spans)


_SPACES = "[\\s\u00a0\u2007\u202f]+"
_DASHES = "[-\u2010\u2011\u2012\u2013\u2014\u00ad]"
_LIKE = {"'": "['’‘ʼ]", "’": "['’‘ʼ]", "‘": "['’‘ʼ]", '"': '["“”]', "“": '["“”]', "”": '["“”]'}


def tolerant_pattern(answer: str) -> str:
    """A regular expression finding `answer` as a reader sees it: any run of spaces (a
    non-breaking one too) for a space, any dash for a hyphen, curly or straight quotes, and
    soft hyphens or zero-width characters anywhere between letters."""
    parts = []
    for char in answer:
        if char.isspace():
            part = _SPACES
        elif char in "-\u2010\u2011\u2012\u2013\u2014":
            part = _DASHES
        else:
            part = _LIKE.get(char, re.escape(char))
        parts.append(part)
    return "[\u00ad\u200b\u200c\u200d\u2060]*".join(parts)


def _marked_quote(quote: str, answers: Sequence[str]) -> str:
    """The escaped quote with each short answer in it marked."""
    out, cursor = [], 0
    for start, end in answer_spans(quote, answers):
        out += [html.escape(quote[cursor:start]), f'<strong class="qa-answer">{html.escape(quote[start:end])}</strong>']
        cursor = end
    out.append(html.escape(quote[cursor:]))
    return "".join(out)


def _byline(outlet: str, published: str) -> str:
    parts = [html.escape(outlet)] if outlet else []
    if published:
        parts.append(f'<time datetime="{html.escape(published)}">{html.escape(format_day(published))}</time>')
    return f'<span class="qa-byline">{" · ".join(parts)}</span>' if parts else ""


def article_html(number: int, citation: Citation, article_text: str, answers: Sequence[str] = ()) -> str:
    """The whole article, folded, with the cited sentence marked and anchored as `qa-passage-<number>`."""
    e = html.escape
    left = max(0, citation.start - MAX_ARTICLE_VIEW_CHARS // 2)
    right = min(len(article_text), citation.end + MAX_ARTICLE_VIEW_CHARS // 2)
    body = (
        ("… " if left else "")
        + e(article_text[left : citation.start])
        + f'<mark id="qa-passage-{number}" class="qa-passage">{_marked_quote(citation.quote, answers)}</mark>'
        + e(article_text[citation.end : right])
        + (" …" if right < len(article_text) else "")
    )
    return (
        f'<details class="qa-full" id="qa-article-{number}"><summary>Whole article</summary>'
        f'<div class="qa-article">{body}</div></details>'
    )


def source_card(number: int, citation: Citation, article_text: str | None, answers: Sequence[str] = ()) -> str:
    """HTML of one source: number, title, outlet and date, the cited sentence marked in its paragraph
    with the short answer marked inside it, and the whole article a click away.

    Args:
        number: the citation's [n] marker.
        citation: what was cited.
        article_text: the article it came from; when missing or no longer matching the
            citation's offsets, only the quote is shown.
        answers: the short answers to mark where they stand in the quote.
    """
    e = html.escape
    matches = article_text is not None and article_text[citation.start : citation.end] == citation.quote
    if matches:
        part = excerpt(article_text, citation.start, citation.end)  # type: ignore[arg-type]
        body = (
            ("… " if part.clipped_before else "")
            + e(part.before)
            + f"<mark>{_marked_quote(part.quote, answers)}</mark>"
            + e(part.after)
            + (" …" if part.clipped_after else "")
        )
        number_html = f'<a class="qa-num" href="#qa-passage-{number}" title="Open the article at this passage">[{number}]</a>'
        full = article_html(number, citation, article_text, answers)  # type: ignore[arg-type]
    else:
        body = f"<mark>{_marked_quote(citation.quote, answers)}</mark>"
        number_html, full = f'<span class="qa-num">[{number}]</span>', ""
    title = f'<span class="qa-title">{e(citation.title)}</span>' if citation.title != citation.doc_id else ""
    also = ""
    if citation.also_in:
        names = ", ".join(e(s.title if s.title != s.doc_id else s.doc_id) for s in citation.also_in)
        also = f'<div class="qa-also">Also in: {names}</div>'
    return (
        f'<div class="qa-card" data-number="{number}">'
        f'<div class="qa-card-head">{number_html} {title}{_byline(citation.outlet, citation.published)} '
        f'<code class="qa-doc">{e(citation.doc_id)}</code></div>'
        f'<p class="qa-context">{body}</p>{also}{full}</div>'
    )


def _answers_by_citation(answer: Answer) -> dict[int, list[str]]:
    """The short answers to mark in each citation: its parts' answers, then the rival answers."""
    marked: dict[int, list[str]] = {}
    rivals = [alternative for part in answer.parts for alternative, _ in part.alternatives]
    for number in range(1, len(answer.citations) + 1):
        own = [p.answer for p in answer.parts if p.answer and number in p.citation_numbers]
        marked[number] = own + rivals
    return marked


def evidence_html(answer: Answer, texts: Mapping[str, str]) -> str:
    """The evidence panel for one answer: a confidence banner, then one card per citation.

    Args:
        answer: what `qa.ask` returned.
        texts: article text by doc id (for the surrounding paragraphs and the whole article).
    """
    if answer.answerable:
        level = confidence_level(answer.confidence)
        banner = (
            f'<div class="qa-banner qa-answered qa-{level}">'
            f"<strong>{html.escape(confidence_label(answer.confidence))}</strong></div>"
        )
        heading = "Sources"
    else:
        banner = (
            f'<div class="qa-banner qa-notfound"><strong>{NOT_FOUND_LABEL}.</strong> '
            f"No passage states an answer.</div>"
        )
        heading = "Nearest passages"
    marked = _answers_by_citation(answer) if answer.answerable else {}
    cards = [
        source_card(n, c, texts.get(c.doc_id), marked.get(n, ())) for n, c in enumerate(answer.citations, start=1)
    ]
    listing = "".join(cards) if cards else '<p class="qa-empty">No passages to show.</p>'
    kind = "qa-evidence" if answer.answerable else "qa-evidence qa-nearest"
    return f'<div class="{kind}">{banner}<h3>{heading}</h3>{listing}</div>'


def articles_html(articles: Sequence[Article]) -> str:
    """An escaped table of the corpus: title, outlet, publication date, doc id and length of each article."""
    if not articles:
        return '<p class="qa-empty">The corpus holds no readable article.</p>'
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(a.title)}</td><td>{e(a.outlet)}</td>"
        f"<td>{e(format_day(a.published)) if a.published else ''}</td>"
        f"<td><code>{e(a.doc_id)}</code></td><td class=\"qa-num-cell\">{len(a.text):,}</td></tr>"
        for a in articles
    )
    return (
        f'<table class="qa-articles"><caption>{len(articles)} article(s)</caption>'
        f"<thead><tr><th>Title</th><th>Outlet</th><th>Published</th><th>Doc id</th><th>Characters</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def article_page(article: Article) -> str:
    """An article opened whole, escaped: title, outlet, date and author, its address (a link only
    for http and https), doc id, file and length, then its text as stored."""
    e = html.escape
    author = f'<span class="qa-byline">by {e(article.author)}</span>' if article.author else ""
    url = article.url.strip()
    if _WEB_ADDRESS.match(url):
        address = f'<div class="qa-url"><a href="{e(url)}" target="_blank" rel="noopener noreferrer">{e(url)}</a></div>'
    else:
        address = f'<div class="qa-url">{e(url)}</div>' if url else ""
    name = re.split(r"[\\/]", article.path)[-1]
    return (
        f'<div class="qa-opened" data-doc="{e(article.doc_id)}"><h3 class="qa-title">{e(article.title)}</h3>'
        f"<div>{_byline(article.outlet, article.published)}{author}</div>{address}"
        f'<div class="qa-doc">doc id <code>{e(article.doc_id)}</code> · {e(name)} · {len(article.text):,} characters</div>'
        f'<div class="qa-article">{e(article.text)}</div></div>'
    )


_WEB_ADDRESS = re.compile(r"https?://[^\s]+$", re.IGNORECASE)
