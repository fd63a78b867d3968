"""A dump's rows read as the standard library's `json` reads them, however they are read."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.ingest.formats.jsonl_dump import _holds_float, _parsed

_SCALARS = (
    st.none() | st.booleans() | st.integers() | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text()
)
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(row=st.dictionaries(st.text(max_size=8), _VALUES, max_size=5), ascii_only=st.booleans())
def test_a_row_reads_as_json_reads_it(row: dict, ascii_only: bool) -> None:
    line = json.dumps(row, ensure_ascii=ascii_only)  # NaN, infinities, integers past 64 bits, any text
    assert repr(_parsed(line)) == repr(json.loads(line))


@pytest.mark.parametrize("line", [
    '{"text": "\\ud800 a lone surrogate"}', '{"n": NaN, "text": "x"}', '{"n": 1e400, "text": "x"}',
    '{"id": 123456789012345678901234567890, "text": "x"}', '{"text": "x", "text": "y"}',
])
def test_rows_orjson_refuses_or_reads_otherwise_read_as_json_reads_them(line: str) -> None:
    assert repr(_parsed(line)) == repr(json.loads(line))


def test_a_deeply_nested_row_reads_as_json_reads_it() -> None:
    line = '{"text": "x", "deep": ' + "[" * 500 + "1.5" + "]" * 500 + "}"
    assert repr(_parsed(line)) == repr(json.loads(line))
    deep: list = [2.5]
    for _ in range(5000):  # deeper than Python's recursion limit: the float is found all the same
        deep = [deep]
    assert _holds_float({"deep": deep}) and not _holds_float({"deep": [[["x", 1, None, True]]]})


@pytest.mark.parametrize("line", ['{"text": "x"} trailing', "\ufeff{\"text\": \"x\"}", '{"text": "a\tb"}', "{'text': 'x'}"])
def test_a_row_json_refuses_is_refused_with_its_message(line: str) -> None:
    with pytest.raises(ValueError) as expected:
        json.loads(line)
    with pytest.raises(ValueError) as refused:
        _parsed(line)
    assert str(refused.value) == str(expected.value)
