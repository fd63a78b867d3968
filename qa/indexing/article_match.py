"""Which articles of a new build are those a build before held, compared column by column.

An update asks it twice: which articles are the very records the last build held (their
vector and article segments are linked, `qa.indexing.folder`), and which keep their text
(their acronyms are taken over, `qa.indexing.reuse.article_aliases`). Both used to make
`Article` records of both builds to compare them, two records and a decoded text per article,
which a dump of one-row articles pays a million times. The columns are compared instead, in
runs of rows that lie end to end in both tables (most of an update is one run).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from qa.indexing.article_table import REPEATED_FIELDS, TEXT_FIELDS, ArticleTable, RepeatedColumn, TextColumn, field
from qa.types import Article


def rows_before(before: Sequence[Article], after: Sequence[Article]) -> np.ndarray:
    """Each article of `after`'s row in `before` with the same doc_id, else -1."""
    if isinstance(before, ArticleTable):
        code = before.code
        return np.fromiter((-1 if (r := code(d)) is None else r for d in field(after, "doc_id")), np.int64, len(after))
    lookup = {d: i for i, d in enumerate(field(before, "doc_id"))}
    return np.fromiter((lookup.get(d, -1) for d in field(after, "doc_id")), np.int64, len(after))


def same_records(before: Sequence[Article], rows: np.ndarray, after: Sequence[Article]) -> np.ndarray:
    """Whether each article of `after` equals, field for field, the article of `before` at
    its row of `rows` (-1: none, so not)."""
    rows = np.asarray(rows, dtype=np.int64)
    if not len(before):
        return np.zeros(len(rows), dtype=bool)
    if not (isinstance(before, ArticleTable) and isinstance(after, ArticleTable)):
        return np.fromiter((r >= 0 and before[r] == a for r, a in zip(rows.tolist(), after)), bool, len(rows))
    found = rows >= 0
    at = np.where(found, rows, 0)
    ids = before.doc_ids
    found &= np.fromiter((ids[r] == d for r, d in zip(at.tolist(), after.doc_ids)), bool, len(at))
    for name in TEXT_FIELDS:
        found &= same_strings(before.text_column(name), at, after.text_column(name))
    for name in REPEATED_FIELDS:
        found &= _same_values(before.repeated_column(name), at, after.repeated_column(name))
    return found


def same_texts(before: Sequence[Article], rows: np.ndarray, after: Sequence[Article]) -> np.ndarray:
    """Whether each article of `after` has the text of the article of `before` at its row of
    `rows` (-1: none, so not)."""
    rows = np.asarray(rows, dtype=np.int64)
    if not len(before):
        return np.zeros(len(rows), dtype=bool)
    if not (isinstance(before, ArticleTable) and isinstance(after, ArticleTable)):
        texts = field(before, "text")
        return np.fromiter((r >= 0 and texts[r] == t for r, t in zip(rows.tolist(), field(after, "text"))), bool, len(rows))
    at = np.where(rows >= 0, rows, 0)
    return (rows >= 0) & same_strings(before.text_column("text"), at, after.text_column("text"))


def same_strings(before: TextColumn, at: np.ndarray, after: TextColumn) -> np.ndarray:
    """Whether string i of `after` is string `at[i]` of `before`, for each i. Rows that lie
    end to end in both columns make a run, compared as one block of bytes where its strings
    are each as long as their pair (then each is equal to it exactly when the blocks are);
    a run that differs is compared string by string."""
    b_start, b_end = before.bounds()
    b_start, b_end = b_start[at], b_end[at]
    a_start, a_end = after.bounds()
    same = (b_end - b_start) == (a_end - a_start)
    if not len(at):
        return same
    joined = (b_start[1:] == b_end[:-1]) & (a_start[1:] == a_end[:-1])
    firsts = np.concatenate(([0], np.flatnonzero(~joined) + 1)).tolist()
    lasts = [*firsts[1:], len(at)]
    old, new = memoryview(before.data), memoryview(after.data)
    old_bytes, new_bytes = np.frombuffer(old, dtype=np.uint8), np.frombuffer(new, dtype=np.uint8)
    b_start, b_end, a_start, a_end = b_start.tolist(), b_end.tolist(), a_start.tolist(), a_end.tolist()
    for first, last in zip(firsts, lasts):
        if same[first:last].all() and _same_bytes(
            old_bytes[b_start[first] : b_end[last - 1]], new_bytes[a_start[first] : a_end[last - 1]]
        ):
            continue
        for i in range(first, last):
            same[i] = same[i] and old[b_start[i] : b_end[i]] == new[a_start[i] : a_end[i]]
    return same


BYTES_AT_ONCE = 1 << 20  # bytes of a run compared at a time


def _same_bytes(old: np.ndarray, new: np.ndarray) -> bool:
    """Whether two byte arrays are equal, compared a block at a time: a memoryview's `==` took
    0.15 s for the year of news's 70 MB of text, and comparing the whole arrays at once 0.3-0.5 s
    (the 70 MB of truths it makes are fresh pages each time); an update compares it twice."""
    if len(old) != len(new):
        return False
    return all(
        np.array_equal(old[at : at + BYTES_AT_ONCE], new[at : at + BYTES_AT_ONCE]) for at in range(0, len(old), BYTES_AT_ONCE)
    )


def _same_values(before: RepeatedColumn, at: np.ndarray, after: RepeatedColumn) -> np.ndarray:
    """Whether value i of `after` is value `at[i]` of `before` (each distinct value looked up once)."""
    code = {value: i for i, value in enumerate(before.values)}
    translated = np.fromiter((code.get(value, -1) for value in after.values), np.int64, len(after.values))
    return translated[after.codes] == before.codes[at]
