"""A chat restarted over changed articles answers at once, from the last index, while it is updated."""

from __future__ import annotations

from pathlib import Path

import pytest

import qa
from qa.indexing.catalog import forget_cached, wait_for_build

pytestmark = pytest.mark.slow

FERRY = """Council buys a second ferry

The Harbour Council bought a second ferry, the Kestrel, for 4.2 million pounds on Tuesday.
"""


def test_warm_up_serves_the_last_index_while_the_changed_articles_are_indexed(seeds_copy: Path, seeds_index_dir: Path) -> None:
    settings = qa.Settings(index_dir=seeds_index_dir)
    before = qa.index_info(qa.warm_up(seeds_copy, settings)).articles
    (seeds_copy / "ferry.txt").write_text(FERRY, encoding="utf-8")
    forget_cached()  # as a new process: the index is read from disk
    served = qa.warm_up(seeds_copy, settings)
    assert qa.index_info(served).articles == before  # the last index, not the one being built
    assert wait_for_build(seeds_copy, settings, timeout=600)
    assert not qa.updating(seeds_copy, settings=settings)
    answer = qa.ask("How much did the council pay for the Kestrel?", corpus=seeds_copy, settings=settings)
    assert answer.answerable and "4.2 million pounds" in answer.answer
    assert qa.index_info(qa.warm_up(seeds_copy, settings)).articles == before + 1
