"""Stacked rows read exactly like the one array they stand for, without copying it together."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.indexing import rows as rows_module
from qa.indexing.rows import StackedRows, joined_rows, taken_rows


def _table(count: int, width: int = 3, offset: float = 0.0) -> np.ndarray:
    return np.arange(count * width, dtype=np.float32).reshape(count, width) + offset


def test_stacked_rows_read_like_one_array() -> None:
    parts = [_table(n, 2, 10 * i) for i, n in enumerate((3, 1, 2))]
    whole = np.concatenate(parts)
    rows = StackedRows(parts)
    assert len(rows) == 6 and rows.shape == (6, 2)
    assert np.array_equal(rows[[5, 0, 3, 3]], whole[[5, 0, 3, 3]])
    assert all(np.array_equal(rows[i], whole[i]) for i in range(-6, 6))
    assert np.array_equal(rows[np.int64(4)] @ np.ones(2), whole[4] @ np.ones(2))
    assert np.array_equal(np.asarray(rows[2:5]), whole[2:5]) and np.array_equal(np.asarray(rows), whole)
    assert np.array_equal(rows[whole[:, 0] > 10], whole[whole[:, 0] > 10])
    assert np.array_equal(np.stack(list(rows)), whole)
    with pytest.raises(IndexError):
        rows[6]


def test_cut_and_joined_again_the_rows_of_one_array_are_one_piece_of_it() -> None:
    source = _table(10)
    stacked = StackedRows([source])
    again = StackedRows([stacked[0:4], stacked[4:7], stacked[7:10]])
    assert len(again.pieces) == 1 and again.pieces[0][0] is source and again.pieces[0][1:] == (0, 10)
    assert joined_rows([stacked[0:4], stacked[4:10]], 3) is source  # the source itself, not a copy
    assert np.shares_memory(joined_rows([stacked[1:4], stacked[4:10]], 3), source)  # a view of part of it


@settings(max_examples=300, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 5), min_size=1, max_size=8),
    cuts=st.lists(st.tuples(st.integers(-12, 30), st.integers(-12, 30)), min_size=1, max_size=3),
)
def test_a_slice_of_a_slice_reads_the_rows_numpy_would(sizes: list[int], cuts: list[tuple[int, int]]) -> None:
    parts = [_table(n, 2, 100 * i) for i, n in enumerate(sizes)]
    whole, rows = np.concatenate(parts), StackedRows(parts, 2)
    for first, last in cuts:  # each cut taken from the one before, as an update cuts a cut table
        whole, rows = whole[first:last], rows[first:last]
        assert rows.shape == whole.shape and len(rows) == len(whole)
        assert np.array_equal(np.asarray(rows), whole)
        assert all(np.array_equal(rows[i], whole[i]) for i in range(len(whole)))
        assert all(stop > start for _, start, stop in rows.pieces)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(st.just(-1), st.integers(0, 49)), max_size=60),
    st.integers(0, 20),
    st.integers(0, 40),
    st.lists(st.integers(1, 20), min_size=1, max_size=5),
)
def test_taken_rows_read_each_row_from_where_it_was_taken(rows: list[int], run_start: int, run_length: int, cuts: list[int]) -> None:
    whole = _table(50)
    bounds = np.minimum(np.cumsum([0, *cuts]), 50).tolist() + [50]
    source = StackedRows([whole[a:b] for a, b in zip(bounds, bounds[1:]) if b > a])  # a table of several pieces
    rows = rows + list(range(run_start, min(50, run_start + run_length)))  # a long in-order run, as updates have
    taken = np.asarray(rows, dtype=np.int64)
    new = _table(int((taken < 0).sum()), offset=1000)
    out = np.asarray(taken_rows(source, taken, new))
    expected = np.zeros((len(taken), 3), dtype=np.float32)
    expected[taken >= 0] = whole[taken[taken >= 0]]
    expected[taken < 0] = new
    assert np.array_equal(out, expected)


def test_an_update_reads_kept_rows_in_place_and_only_new_rows_are_new_memory() -> None:
    previous = _table(1000)
    kept = np.concatenate([np.arange(0, 400), np.full(5, -1), np.arange(500, 1000)])  # 100 rows gone, 5 new
    new = _table(5, offset=-1)
    table = taken_rows(previous, kept, new)
    assert isinstance(table, StackedRows) and len(table) == 905
    assert all(array is previous or np.shares_memory(array, new) for array, _, _ in table.pieces)
    assert np.array_equal(table[400:405], new) and np.array_equal(table[405], previous[500])


def test_too_many_pieces_or_too_much_held_memory_is_copied_into_one_array(monkeypatch) -> None:
    previous = _table(100)
    monkeypatch.setattr(rows_module, "MAX_PIECES", 4)
    scattered = taken_rows(previous, np.arange(0, 100, 2), _table(0))  # 50 pieces of one row each
    assert isinstance(scattered, np.ndarray) and np.array_equal(scattered, previous[::2])
    few = taken_rows(previous, np.arange(0, 10), _table(0))  # one piece: a view
    assert np.shares_memory(few, previous)
    mostly_gone = taken_rows(previous, np.concatenate([np.arange(0, 5), [-1], np.arange(90, 95)]), _table(1))
    assert isinstance(mostly_gone, np.ndarray)  # 11 rows read out of 100 held: copied, so the 100 can go


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 39), max_size=60),
    st.lists(st.tuples(st.integers(0, 39), st.integers(0, 40)), min_size=1, max_size=4),
)
def test_rows_read_from_a_segment_file_are_the_rows_read_through_its_mapping(tmp_path_factory, wanted: list[int], runs) -> None:
    from qa.indexing.rows import read_rows
    from qa.indexing.segments import read_table

    folder = tmp_path_factory.mktemp("segments")
    table = np.random.default_rng(len(wanted)).standard_normal((40, 5)).astype(np.float32)
    np.save(folder / "sentences-000000000001.npy", table)
    runs = [["sentences-000000000001.npy", min(a, b), max(a, b)] for a, b in runs]
    stored = read_table(folder, {"files": {"sentences-000000000001.npy": 40}, "sentences": runs}, "sentences", 5)
    whole = np.concatenate([table[a:b] for _, a, b in runs])
    rows = np.asarray([r % len(whole) for r in wanted] if len(whole) else [], dtype=np.int64)  # any order, repeats
    assert np.array_equal(read_rows(stored, rows), whole[rows])
    if len(whole):
        assert np.array_equal(read_rows(stored, np.array([-1])), whole[[-1]])
        with pytest.raises(IndexError):
            read_rows(stored, np.array([len(whole)]))


@pytest.mark.skipif(
    not (hasattr(os, "preadv") and Path("/proc/self/smaps").exists()), reason="reads with preadv, counts pages in Linux's /proc/self/smaps"
)
def test_scattered_rows_are_read_without_mapping_a_page(tmp_path) -> None:
    from qa.indexing.rows import read_rows
    from qa.indexing.segments import read_table
    from tests.indexing.test_ivf import resident_kb

    table = np.random.default_rng(0).standard_normal((20_000, 64)).astype(np.float32)
    np.save(tmp_path / "sentences-000000000002.npy", table)
    stored = read_table(tmp_path, {"files": {"sentences-000000000002.npy": 20_000}, "sentences": [["sentences-000000000002.npy", 0, 20_000]]}, "sentences", 64)
    rows = np.arange(0, 20_000, 97)
    assert np.array_equal(read_rows(stored, rows), table[rows])
    assert resident_kb(tmp_path, "sentences-") == 0  # read through the mapping, each row mapped 64 KB around it
    assert np.array_equal(stored[rows], table[rows]) and resident_kb(tmp_path, "sentences-") > 0
