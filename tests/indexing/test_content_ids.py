"""Sentence and chunk ids held as numbers read back as the strings they were."""

from __future__ import annotations

import pickle

import numpy as np
import orjson

from qa.indexing.columns import columns_json
from qa.indexing.content_ids import HexIds, compact_ids, joined_ids
from qa.ingest.chunker import content_id

IDS = [content_id("doc", k, k + 5, f"text {k}") for k in range(50)] + ["00000000000000ff", "ffffffffffffffff"]


def test_content_ids_read_back_as_their_digits_every_way_a_table_reads_them() -> None:
    ids = compact_ids(IDS)
    assert isinstance(ids, HexIds) and ids.numbers.nbytes == 8 * len(IDS)
    assert list(ids) == IDS and ids == IDS and IDS == ids and ids.tolist() == IDS
    assert ids[0] == IDS[0] and ids[-1] == IDS[-1] and ids[np.int64(3)] == IDS[3]
    assert ids[10:20] == IDS[10:20] and isinstance(ids[10:20], HexIds)
    assert [ids[r] for r in (5, 1, 5)] == [IDS[5], IDS[1], IDS[5]]
    assert pickle.loads(pickle.dumps(ids)) == IDS  # what a sharded build sends between processes
    assert orjson.loads(columns_json({"id": ids, "n": np.arange(2)})) == {"id": IDS, "n": [0, 1]}
    assert compact_ids(ids) is ids and compact_ids([]) == []


def test_ids_of_any_other_form_stay_strings() -> None:
    for other in (["s1", "s2"], [IDS[0].upper()], [IDS[0][:15] + " "], [IDS[0][:2] + " " + IDS[0][3:]], [IDS[0][:15] + "é"]):
        kept = compact_ids(other)
        assert kept == other and not isinstance(kept, HexIds)


def test_joined_ids_are_numbers_only_when_every_part_is() -> None:
    a, b = compact_ids(IDS[:30]), compact_ids(IDS[30:])
    joined = joined_ids([a, b[5:], b[:5]])
    assert isinstance(joined, HexIds) and joined == IDS[:30] + IDS[35:] + IDS[30:35]
    mixed = joined_ids([a, ["s1"]])
    assert mixed == IDS[:30] + ["s1"] and not isinstance(mixed, HexIds)
    assert isinstance(joined_ids([a, IDS[30:]]), HexIds)  # strings of content ids are made numbers
