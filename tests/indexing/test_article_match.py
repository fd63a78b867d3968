"""Articles of a new build matched to the last build's, column by column, as records would match."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

from qa.indexing.article_match import rows_before, same_records, same_texts
from qa.indexing.article_table import ArticleTable
from qa.types import Article

WORDS = st.sampled_from(["", "a", "ferry", "Ferry", "é", "port ", "“gale”"])
TEXTS = st.lists(WORDS, min_size=0, max_size=3).map("".join)


@st.composite
def articles(draw: st.DrawFn) -> list[Article]:
    count = draw(st.integers(0, 8))
    return [
        Article(
            f"dump#{i}", draw(TEXTS), draw(TEXTS) or "x", draw(st.sampled_from(["/c/dump.jsonl", "/c/a.txt"])),
            draw(st.sampled_from(["a" * 64, "b" * 64])), outlet=draw(st.sampled_from(["", "BBC", "AP"])),
            url=draw(TEXTS), author=draw(st.sampled_from(["", "Ann"])), published=draw(st.sampled_from(["", "2023-01-06"])),
        )
        for i in range(count)
    ]


@st.composite
def updates(draw: st.DrawFn) -> tuple[list[Article], list[Article]]:
    """A build's articles, and the next build's: some kept as they were, some changed in one
    field, some new, in any order (a table's rows may be a taken, reordered table's)."""
    before = draw(articles())
    after = []
    for article in before:
        change = draw(st.sampled_from(["keep", "keep", "drop", "edit"]))
        if change == "keep":
            after.append(article)
        elif change == "edit":
            name = draw(st.sampled_from(["title", "text", "path", "sha256", "outlet", "url", "author", "published"]))
            after.append(Article(**{**article.__dict__, name: getattr(article, name) + "!"}))
    after += [Article(f"new#{i}", "New", f"fresh {i}", "/c/new.txt", "c" * 64) for i in range(draw(st.integers(0, 2)))]
    return before, draw(st.permutations(after)) if draw(st.booleans()) else after


def _table(articles: list[Article], shuffled: bool) -> ArticleTable:
    """A table of `articles`, as read (end to end) or as rows taken out of order from a larger one."""
    if not shuffled:
        return ArticleTable.of(articles)
    order = np.arange(len(articles))[::-1]
    wider = ArticleTable.of([articles[i] for i in order] + [Article("other", "O", "other text", "/c/o.txt", "d" * 64)])
    return wider.take(np.argsort(order)) if len(articles) else ArticleTable.of([])


@settings(max_examples=200, deadline=None)
@given(updates(), st.booleans(), st.booleans())
def test_columns_match_as_the_records_do(update: tuple[list[Article], list[Article]], before_shuffled: bool, after_shuffled: bool) -> None:
    before, after = update
    rows = rows_before(before, after)
    assert rows.tolist() == [next((i for i, b in enumerate(before) if b.doc_id == a.doc_id), -1) for a in after]
    records = [r >= 0 and before[r] == a for r, a in zip(rows.tolist(), after)]
    texts = [r >= 0 and before[r].text == a.text for r, a in zip(rows.tolist(), after)]
    old, new = _table(before, before_shuffled), _table(after, after_shuffled)
    assert rows_before(old, new).tolist() == rows.tolist()
    assert same_records(old, rows, new).tolist() == same_records(before, rows, after).tolist() == records
    assert same_texts(old, rows, new).tolist() == same_texts(before, rows, after).tolist() == texts


def test_a_run_of_equal_lengths_with_one_string_changed_is_found_row_by_row() -> None:
    """Rows end to end in both tables are compared as one block: a change inside it that keeps
    every length (a letter for a letter) is still found, and only there."""
    before = [Article(f"d#{i}", "T", f"text {i}", "/c/d.jsonl", "a" * 64) for i in range(5)]
    after = list(before)
    after[3] = Article("d#3", "T", "text X", "/c/d.jsonl", "a" * 64)
    old, new = ArticleTable.of(before), ArticleTable.of(after)
    rows = rows_before(old, new)
    assert same_records(old, rows, new).tolist() == [True, True, True, False, True]
    assert same_texts(old, rows, new).tolist() == [True, True, True, False, True]
