"""Presentation helpers: paragraphs around citations, highlighting, escaping, labels."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from qa.reply.cards import answer_spans, article_page, articles_html, evidence_html, source_card
from qa.reply.present import (
    NOT_FOUND_LABEL,
    chat_markdown,
    confidence_label,
    escape_markdown,
    excerpt,
    explanation,
    paragraph_bounds,
)
from qa.types import Answer, AnswerPart, Article, Citation, Source

SEEDS = Path(__file__).resolve().parents[2] / "seeds"

ARTICLE = (
    "Harbour Reopens\n"
    "\n"
    "The old harbour reopened on Monday. Fishing boats returned at dawn.\n"
    "\n"
    "The mayor said the works cost 2 million euros.\n"
    "Critics said the money was wasted.\n"
    "\n"
    "A hard-wrapped paragraph starts here and\n"
    "goes on over a soft line break. It ends here.\n"
)


def span_of(text: str, quote: str) -> tuple[int, int]:
    start = text.index(quote)
    return start, start + len(quote)


def cite(text: str, quote: str, doc_id: str = "harbour", title: str = "Harbour Reopens", **kw) -> Citation:
    start, end = span_of(text, quote)
    return Citation(doc_id, title, start, end, quote, 0.9, **kw)


def answer(citations: tuple[Citation, ...], answerable: bool = True, confidence: float = 0.9) -> Answer:
    return Answer("q?", "a" if answerable else "", "**a** [1]", citations, confidence, answerable)


# --- paragraphs -----------------------------------------------------------------------------


def test_paragraph_ends_at_blank_lines() -> None:
    start, end = span_of(ARTICLE, "Fishing boats returned at dawn.")
    left, right = paragraph_bounds(ARTICLE, start, end)
    assert ARTICLE[left:right] == "The old harbour reopened on Monday. Fishing boats returned at dawn."


def test_paragraph_ends_at_a_line_break_after_a_full_stop() -> None:
    start, end = span_of(ARTICLE, "The mayor said the works cost 2 million euros.")
    assert ARTICLE[slice(*paragraph_bounds(ARTICLE, start, end))] == "The mayor said the works cost 2 million euros."
    start, end = span_of(ARTICLE, "Critics said")
    assert ARTICLE[slice(*paragraph_bounds(ARTICLE, start, end))] == "Critics said the money was wasted."


def test_soft_wrapped_lines_stay_one_paragraph() -> None:
    start, end = span_of(ARTICLE, "It ends here.")
    left, right = paragraph_bounds(ARTICLE, start, end)
    assert ARTICLE[left:right] == "A hard-wrapped paragraph starts here and\ngoes on over a soft line break. It ends here."


def test_paragraph_at_the_edges_of_the_text() -> None:
    text = "  Only one line, no newline at all.  "
    assert paragraph_bounds(text, 2, 10) == (2, len(text) - 2)
    assert paragraph_bounds("", 0, 0) == (0, 0)


@pytest.mark.parametrize("start,end", [(-1, 3), (5, 4), (0, len(ARTICLE) + 1)])
def test_paragraph_rejects_offsets_outside_the_text(start: int, end: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        paragraph_bounds(ARTICLE, start, end)


def test_paragraphs_of_a_real_article_with_one_paragraph_per_line() -> None:
    text = (SEEDS / "003_ad3456abf3c96007.txt").read_text(encoding="utf-8")
    first_line = text.split("\n", 1)[0]
    quote = "the Islamic terror group known as ISIS has accepted Boko Haram's pledge of allegiance on Thursday."
    start, end = span_of(text, quote)
    assert text[slice(*paragraph_bounds(text, start, end))] == first_line


# --- excerpts -------------------------------------------------------------------------------


def test_excerpt_splits_the_paragraph_around_the_quote() -> None:
    start, end = span_of(ARTICLE, "Fishing boats returned at dawn.")
    part = excerpt(ARTICLE, start, end)
    assert (part.before, part.quote, part.after) == ("The old harbour reopened on Monday. ", ARTICLE[start:end], "")
    assert part.before + part.quote + part.after == ARTICLE[part.start : part.end]
    assert not part.clipped_before and not part.clipped_after


def test_long_paragraph_is_clipped_at_word_boundaries_keeping_the_quote_whole() -> None:
    words = " ".join(f"word{i}" for i in range(300))
    text = f"{words} THE QUOTE IS HERE. {words}"
    start, end = span_of(text, "THE QUOTE IS HERE.")
    part = excerpt(text, start, end, max_chars=100)
    assert part.quote == "THE QUOTE IS HERE."
    assert part.clipped_before and part.clipped_after
    assert len(part.before) + len(part.quote) + len(part.after) <= 100
    assert part.before.startswith("word") and part.before.endswith(" ")
    assert re.fullmatch(r"( word\d+)+", part.after)
    assert part.before + part.quote + part.after == text[part.start : part.end]


def test_unused_room_on_one_side_goes_to_the_other() -> None:
    text = "Short start. " + " ".join(f"w{i}" for i in range(200))
    start, end = span_of(text, "Short start.")
    part = excerpt(text, start, end, max_chars=80)
    assert part.before == "" and not part.clipped_before
    assert 60 <= len(part.after) <= 80 - len(part.quote)


def test_a_quote_longer_than_the_limit_is_shown_alone_and_whole() -> None:
    start, end = span_of(ARTICLE, "The old harbour reopened on Monday.")
    part = excerpt(ARTICLE, start, end, max_chars=5)
    assert (part.before, part.quote, part.after) == ("", "The old harbour reopened on Monday.", "")
    assert part.clipped_after
    with pytest.raises(ValueError, match="max_chars"):
        excerpt(ARTICLE, start, end, max_chars=-1)


# --- labels and escaping --------------------------------------------------------------------


@pytest.mark.parametrize(
    "confidence,label",
    [(0.95, "High confidence (95%)"), (0.75, "High confidence (75%)"), (0.6, "Medium confidence (60%)"),
     (0.2, "Low confidence (20%)"), (1.7, "High confidence (100%)")],
)
def test_confidence_label(confidence: float, label: str) -> None:
    assert confidence_label(confidence) == label


def test_not_answerable_is_labelled_as_not_found_whatever_the_score() -> None:
    assert confidence_label(0.99, answerable=False) == NOT_FOUND_LABEL


def test_escape_markdown_leaves_no_markup() -> None:
    shown = escape_markdown('<script>alert(1)</script> **bold** [x](javascript:alert(1)) `code`\n# h')
    assert "<" not in shown and ">" not in shown.replace("&gt;", "")
    assert "&lt;script&gt;" in shown
    # an escaped bracket can open no link, so the parentheses after it stay as they are
    assert "\\*\\*bold\\*\\*" in shown and "\\[x\\](javascript:alert(1))" in shown
    assert "\n" not in shown and "\\#" in shown


@pytest.mark.parametrize(("text", "shown"), [("1. first", "1\\. first"), ("- item", "\\- item"), ("+1 vote", "\\+1 vote"),
                                             ("20) x", "20\\) x"), ("in 2015. Then", "in 2015. Then")])
def test_escape_markdown_defuses_list_markers_only_in_front(text: str, shown: str) -> None:
    assert escape_markdown(text) == shown


# --- HTML -----------------------------------------------------------------------------------

HOSTILE = (
    "Evil <b>Headline</b>\n\n"
    'Before <img src=x onerror="window.__pwned=1"> the cited <script>window.__pwned=1</script> sentence. '
    'After it <a href="javascript:alert(1)">x</a> & more.\n'
)


def test_source_card_marks_exactly_the_quote_and_escapes_everything() -> None:
    quote = "the cited <script>window.__pwned=1</script> sentence."
    card = source_card(2, cite(HOSTILE, quote, title="Evil <b>Headline</b>"), HOSTILE)
    assert f"<mark>{html.escape(quote)}</mark>" in card
    assert card.count("<mark>") == 1
    assert "<script" not in card and "<img" not in card and '<a href="javascript' not in card and "<b>" not in card
    assert re.findall(r"<a [^>]*>", card) == ['<a class="qa-num" href="#qa-passage-2" title="Open the article at this passage">']
    assert "&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;" in card
    assert "&lt;a href=&quot;javascript:alert(1)&quot;&gt;x&lt;/a&gt; &amp; more." in card
    assert "Evil &lt;b&gt;Headline&lt;/b&gt;" in card and "[2]" in card and "harbour" in card
    # what the card shows, tags stripped and entities decoded, is the paragraph itself
    shown = html.unescape(re.sub(r"<[^>]+>", "", card.split('<p class="qa-context">')[1].split("</p>")[0]))
    left, right = paragraph_bounds(HOSTILE, *span_of(HOSTILE, quote))
    assert shown == HOSTILE[left:right]


def test_source_card_falls_back_to_the_quote_when_the_article_changed() -> None:
    citation = cite(ARTICLE, "Critics said the money was wasted.")
    for text in (None, ARTICLE.replace("Critics", "Experts")):
        card = source_card(1, citation, text)
        assert '<p class="qa-context"><mark>Critics said the money was wasted.</mark></p>' in card


def test_source_card_names_the_title_once_and_other_articles_with_the_quote() -> None:
    untitled = source_card(1, cite(ARTICLE, "Critics said", doc_id="x1", title="x1"), ARTICLE)
    assert "qa-title" not in untitled and untitled.count("x1") == 1
    also = (Source("x2", "Other <i>paper</i>", 0, 3),)
    card = source_card(1, cite(ARTICLE, "Critics said", also_in=also), ARTICLE)
    assert "Also in: Other &lt;i&gt;paper&lt;/i&gt;" in card


def test_evidence_of_an_answer_and_of_a_not_found_look_different() -> None:
    citations = (cite(ARTICLE, "Critics said the money was wasted."),)
    found = evidence_html(answer(citations, confidence=0.8), {"harbour": ARTICLE})
    missing = evidence_html(answer(citations, answerable=False, confidence=0.2), {"harbour": ARTICLE})
    assert "qa-answered qa-high" in found and "High confidence (80%)" in found and "Sources" in found
    unsure = evidence_html(answer(citations, confidence=0.4), {"harbour": ARTICLE})
    assert "qa-answered qa-low" in unsure and "Low confidence (40%)" in unsure
    assert "qa-notfound" in missing and NOT_FOUND_LABEL in missing and "Nearest passages" in missing
    assert "qa-answered" not in missing and "<mark>" in missing and "qa-nearest" in missing
    assert "No passages" in evidence_html(answer((), answerable=False), {})


def test_chat_markdown_quotes_a_not_found_reply() -> None:
    assert chat_markdown(answer(())) == "**a** [1]\n\n*High confidence (90%)*"
    text = "**Not in these articles.** Nearest:\n\n[1] “x” — d"
    reply = chat_markdown(Answer("q?", "", text, (), 0.1, False))
    assert reply.startswith("> **Not in these articles.** Nearest:\n>\n> [1] “x” — d")
    assert NOT_FOUND_LABEL in reply


def test_an_answer_explains_its_confidence_its_count_of_articles_and_a_decline() -> None:
    part = AnswerPart("Who?", "person", "IS", 0.82, (1, 2), ("a", "b", "c"), (("Boko Haram", ("d",)),))
    found = Answer("Who?", "IS", "**IS** [1][2] — reported by 3 of 4 articles", (), 0.82, True, (part,), articles_searched=4)
    said = " ".join(explanation(found, 0.25))
    assert "82% is a calibrated probability that the answer is right" in said and "under 25%" in said
    assert '"Reported by 3 of 4 articles": 3 articles state the answer in a cited sentence' in said
    assert "of the 4 it was read from (the corpus, or the articles the filter admits)" in said
    assert '"The articles differ"' in said and "From " not in said
    windowed = Answer("Who?", "IS", "**IS** [1]", (), 0.82, True, (part,), window="articles of 2–8 Jan 2023")
    said = " ".join(explanation(windowed, 0.25))
    assert '"From articles of 2–8 Jan 2023": the answer was read from the articles of those days' in said
    assert "the latest week's articles alone gave a surer answer" in said
    declined = Answer("Why?", "", "**Not in these articles.**", (cite(ARTICLE, "Critics said"),), 0.12, False)
    said = " ".join(explanation(declined, 0.25))
    assert "confidence of 25% or more (the best reached 12%)" in said and "nearest passages are listed" in said
    folded = chat_markdown(found, threshold=0.25)
    assert folded.startswith("**IS** [1][2]") and '<details class="qa-explain"><summary>What does this mean?</summary>' in folded
    assert "<script" not in chat_markdown(Answer("<script>?", "", "x", (), 0.1, False), threshold=0.25)


def test_articles_table_escapes_titles_and_shows_outlet_and_date() -> None:
    table = articles_html([Article("d<1>", "<script>x</script>", "abc", "p", "h", outlet="<i>Post</i>", published="2015-03-12")])
    assert "&lt;script&gt;x&lt;/script&gt;" in table and "d&lt;1&gt;" in table and "<script" not in table
    assert "&lt;i&gt;Post&lt;/i&gt;" in table and "<td>12 March 2015</td>" in table
    assert "1 article(s)" in table
    assert "no readable article" in articles_html([])


def test_the_short_answer_is_marked_inside_the_cited_sentence() -> None:
    quote = "Critics said the money was wasted."
    card = source_card(1, cite(ARTICLE, quote, outlet="The <b>Post</b>", published="2015-03-12"), ARTICLE, ["critics"])
    assert '<mark><strong class="qa-answer">Critics</strong> said the money was wasted.</mark>' in card
    assert "The &lt;b&gt;Post&lt;/b&gt; · <time datetime=\"2015-03-12\">12 March 2015</time>" in card
    assert answer_spans("On Thursday, Thursdays.", ["Thursday (12 March 2015)"]) == [(3, 11)]
    assert answer_spans("It said so.", ["It said so."]) == []  # the whole sentence: nothing to mark inside


def test_a_citation_opens_the_whole_article_at_the_passage() -> None:
    quote = "the cited <script>window.__pwned=1</script> sentence."
    card = source_card(3, cite(HOSTILE, quote), HOSTILE, ["cited"])
    assert 'href="#qa-passage-3"' in card
    full = card.split('<details class="qa-full" id="qa-article-3">')[1]
    shown = html.unescape(re.sub(r"<[^>]+>", "", full.split('<div class="qa-article">')[1].split("</div>")[0]))
    assert shown == HOSTILE  # the whole article, as text
    assert '<mark id="qa-passage-3" class="qa-passage">the <strong class="qa-answer">cited</strong> &lt;script&gt;' in full
    assert "<script" not in card


def test_an_opened_article_is_escaped_and_links_only_to_the_web() -> None:
    hostile = Article("d<1>", "<script>x</script>", "Text <b>bold</b>\n\nMore.", "/c/d.txt", "h", outlet="<i>Post</i>",
                      url="javascript:alert(1)", author="A <b>", published="2015-03-12")
    page = article_page(hostile)
    assert "<script" not in page and "<b>" not in page and "<i>" not in page and 'href="javascript' not in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "Text &lt;b&gt;bold&lt;/b&gt;\n\nMore." in page
    assert "12 March 2015" in page and "by A &lt;b&gt;" in page and "d.txt" in page and "23 characters" in page
    linked = article_page(Article("d", "T", "x", "d.txt", "h", url="https://news.example/a?b=1&c=2"))
    assert '<a href="https://news.example/a?b=1&amp;c=2" target="_blank" rel="noopener noreferrer">' in linked
