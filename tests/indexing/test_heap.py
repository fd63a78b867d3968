"""Freed memory handed back to the system after a build lets its records go."""

from __future__ import annotations

import platform

import pytest

from qa.indexing.heap import trim_heap


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        return int(status.read().split("VmRSS:")[1].split()[0]) / 1024


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc's malloc_trim")
def test_trimming_hands_back_the_pages_of_freed_strings() -> None:
    # 128 MB of 4 KB strings (the C heap's, not Python's small-object arenas), one in 16 kept
    # so that the heap's top stays in use and nothing is handed back without trimming
    strings = [bytes([i % 251]) * 4096 for i in range(32_768)]
    kept = strings[::16] + [strings[-1]]
    del strings
    before = _rss_mb()
    assert trim_heap()
    after = _rss_mb()
    assert before - after > 64, (before, after)
    assert len(kept) == 2049
