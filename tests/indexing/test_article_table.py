"""Articles as columns: a loaded build's articles read back as the records they were."""

from __future__ import annotations

import numpy as np
import pytest

from qa.indexing.article_rows import joined_tables, table_arrays, table_of_arrays
from qa.indexing import article_table
from qa.indexing.article_table import ArticleColumns, ArticleTable, field, filled_rows, text_lengths
from qa.indexing.articles_by_id import ArticlesById
from qa.types import Article

ARTICLES = (
    Article("dump#1", "Ferry sinks", "A ferry sank near Port Ellis on Friday. Ten were rescued.", "/c/dump.jsonl", "a" * 64,
            outlet="BBC", published="2023-01-06"),
    Article("dump#2", "Gale", "A gale shut the port — “nobody sailed”.", "/c/dump.jsonl", "b" * 64, url="https://x.test/2",
            published="2023-01-09"),
    Article("notes", "Notes", "Mayor Anna Lind cut the ribbon.", "/c/notes.txt", "c" * 64, author="Ann Reporter"),
)


def test_a_table_reads_back_every_article_as_it_was_added() -> None:
    table = ArticleTable.of(ARTICLES)
    assert len(table) == 3 and table == ARTICLES and list(table) == list(ARTICLES)
    assert table[-1] == ARTICLES[2] and table[0:2] == ARTICLES[0:2]
    assert table.code("dump#2") == 1 and table.code("elsewhere") is None
    assert list(table.column("path")) == [a.path for a in ARTICLES]
    assert list(field(table, "text")) == list(field(ARTICLES, "text")) == [a.text for a in ARTICLES]
    assert text_lengths(table).tolist() == text_lengths(ARTICLES).tolist() == [len(a.text) for a in ARTICLES]
    with pytest.raises(IndexError):
        table[3]


def test_repeated_fields_are_stored_once_and_days_read_from_them() -> None:
    table = ArticleTable.of(ARTICLES)
    assert table._repeated["path"].values == ["/c/dump.jsonl", "/c/notes.txt"]
    assert table.days().tolist() == [738526, 738529, -1]
    assert [a.published_date for a in table] == [a.published_date for a in ARTICLES]


def test_extra_strings_ride_along_and_taking_rows_keeps_them() -> None:
    columns = ArticleColumns(extra=("text_key",))
    for article, key in zip(ARTICLES, ("k" * 64, None, "m" * 64)):
        columns.add(article, text_key=key)
    table = columns.table()
    assert list(table.extra("text_key")) == ["k" * 64, None, "m" * 64]
    taken = table.take(np.array([2, 0]))  # rows sharing the table's bytes
    assert list(taken) == [ARTICLES[2], ARTICLES[0]] and list(taken.extra("text_key")) == ["m" * 64, "k" * 64]
    assert taken._texts["text"].data is table._texts["text"].data
    again = taken.take(np.array([1, 0, 1]))  # rows of such a table, taken again
    assert list(again) == [ARTICLES[0], ARTICLES[2], ARTICLES[0]] and list(again.extra("text_key")) == ["k" * 64, "m" * 64, "k" * 64]
    assert list(table.take(np.array([1]))) == [ARTICLES[1]] and len(table.take(np.zeros(0, np.int64))) == 0
    # the rows holding a string, found from the column's offsets: end to end, taken, and as a plain list
    assert filled_rows(table.extra("text_key")).tolist() == [0, 2] == filled_rows(["k", None, "m"]).tolist()
    assert filled_rows(taken.extra("text_key")).tolist() == [0, 1] and filled_rows(table.take(np.array([1])).extra("text_key")).tolist() == []
    assert filled_rows(again.extra("text_key")).tolist() == [0, 1, 2] and filled_rows([]).tolist() == []


@pytest.mark.parametrize("block", [1, 2, 1 << 16])
def test_a_column_walked_a_block_at_a_time_reads_each_row_as_indexing_does(monkeypatch, block: int) -> None:
    monkeypatch.setattr(article_table, "ITER_BLOCK", block)
    articles = (*ARTICLES, Article("café", "Café reopens", "The café in Åsby reopened.", "/c/cafe.md", "d" * 64))
    columns = ArticleColumns(extra=("text_key",))
    for article, key in zip(articles, ("k" * 64, None, "", "ü" * 3)):
        columns.add(article, text_key=key)
    table = columns.table()
    for view in (table, table.take(np.array([3, 0, 2, 3])), table.take(np.zeros(0, np.int64))):
        for name in ("doc_id", "title", "text", "sha256", "path", "outlet", "author", "published"):
            column = field(view, name)
            assert list(column) == [column[i] for i in range(len(column))] == [getattr(a, name) for a in view]
        keys = view.extra("text_key")
        assert list(keys) == [keys[i] for i in range(len(keys))]


def test_a_table_stored_as_arrays_reads_back_the_same_articles_whole_taken_or_joined() -> None:
    table = ArticleTable.of(ARTICLES)
    arrays = table_arrays(table, {"text_key": ["k" * 64, None, "m" * 64]})
    assert all(a.ndim == 1 and a.dtype.kind in "ui" for a in arrays.values())  # plain numbers: no pickle, no objects
    back = table_of_arrays(arrays, ("text_key",))
    assert back == ARTICLES and list(back.extra("text_key")) == ["k" * 64, None, "m" * 64]
    assert back.doc_ids == ["dump#1", "dump#2", "notes"] and back.lengths.tolist() == [len(a.text) for a in ARTICLES]
    taken = table.take(np.array([2, 0]))  # rows sharing the table's bytes: stored end to end
    back = table_of_arrays(table_arrays(taken, {"text_key": ["m" * 64, ""]}), ("text_key",))
    assert back == (ARTICLES[2], ARTICLES[0]) and list(back.extra("text_key")) == ["m" * 64, None]
    assert table_of_arrays(table_arrays(taken)) == (ARTICLES[2], ARTICLES[0]) and taken.strings("path") == ["/c/notes.txt", "/c/dump.jsonl"]
    with pytest.raises(ValueError, match="1 text_key strings for 2 articles"):
        table_arrays(taken, {"text_key": ["m" * 64]})
    # segments whose repeated fields differ (a file, outlets and dates each has its own) join into one table
    other = ArticleTable.of([Article("late", "Late", "Ein Fährunglück.", "/c/late.txt", "e" * 64, outlet="DW", published="2023-02-01")])
    joined = joined_tables([table_of_arrays(table_arrays(t)) for t in (ArticleTable.of(ARTICLES), other, ArticleTable.of(ARTICLES[:1]))])
    assert joined == (*ARTICLES, other[0], ARTICLES[0]) and joined.code("late") == 3
    assert joined.days().tolist() == [738526, 738529, -1, 738552, 738526]
    assert table_of_arrays(table_arrays(ArticleTable.of([]))) == ()


@pytest.mark.parametrize(
    "damage, match",
    [
        (lambda a: a.pop("title.ends"), "no column title.ends"),
        (lambda a: a.update({"lengths": a["lengths"].astype(np.float64)}), "not int64"),
        (lambda a: a.update({"text.ends": a["text.ends"][:2]}), "2 rows, not 3"),
        (lambda a: a.update({"text.ends": a["text.ends"][::-1].copy()}), "do not fit"),
        (lambda a: a.update({"outlet.codes": a["outlet.codes"] + 5}), "codes that are not"),
        (lambda a: a.update({"doc_id.data": a["doc_id.data"][:-1]}), "do not fit"),
    ],
)
def test_arrays_that_are_not_an_article_table_are_refused(damage, match) -> None:
    arrays = table_arrays(ArticleTable.of(ARTICLES))
    damage(arrays)
    with pytest.raises(ValueError, match=match):
        table_of_arrays(arrays)


@pytest.mark.parametrize("bad", [{"title": 7}, {"outlet": ["BBC"]}, {"text": None}])
def test_a_field_that_is_not_text_is_refused(bad: dict) -> None:
    fields = {"doc_id": "x", "title": "T", "text": "Some text.", "path": "/c/x.txt", "sha256": "d" * 64, **bad}
    with pytest.raises(ValueError, match="not text"):
        ArticleColumns().add_fields(fields)
    with pytest.raises(ValueError, match="has no sha256"):
        ArticleColumns().add_fields({"doc_id": "x", "title": "T", "text": "t", "path": "p"})


@pytest.mark.parametrize("source", [ARTICLES, ArticleTable.of(ARTICLES)], ids=["records", "columns"])
def test_articles_by_id_and_a_view_of_some_of_them(source) -> None:
    by_id = ArticlesById(source)
    assert len(by_id) == 3 and list(by_id) == ["dump#1", "dump#2", "notes"] and by_id["notes"] == ARTICLES[2]
    assert "dump#2" in by_id and "nothing" not in by_id and by_id.code("notes") == 2
    view = by_id.within({"notes", "dump#1", "not held"})
    assert list(view) == ["dump#1", "notes"] and len(view) == 2 and "dump#2" not in view
    assert view.code("dump#2") == 1  # rows are the build's, kept or not
    with pytest.raises(KeyError):
        view["dump#2"]
    assert view.all_days().tolist() == [738526, 738529, -1]  # every article's, by code
    assert view.mask().tolist() == [True, False, True] and by_id.mask().tolist() == [True] * 3
    assert view.mask_of(["dump#2", "notes", "not held"]).tolist() == [False, False, True]
    assert list(view.within({"notes", "dump#2"})) == ["notes"]
    assert list(view.within_mask(np.array([True, True, False]))) == ["dump#1"]
    assert by_id.outlets_mask(["bbc"]).tolist() == [True, False, False] and view.outlets_mask(["x"]).tolist() == [False] * 3
