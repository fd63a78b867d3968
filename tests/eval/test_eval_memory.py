"""The scale benchmark's peak memory counts worker processes while they run, and only then."""

from __future__ import annotations

import multiprocessing
import sys
import time

import pytest

from eval.memory import PeakMemory

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="samples /proc")


def _hold(megabytes: int, seconds: float) -> None:
    held = bytearray(megabytes * 2**20)
    held[:: 4096] = b"x" * len(held[:: 4096])  # touch every page, so it is resident
    time.sleep(seconds)


def _hold_until(megabytes: int, ready, release) -> None:  # noqa: ANN001
    held = bytearray(megabytes * 2**20)
    held[:: 4096] = b"x" * len(held[:: 4096])  # touch every page, so it is resident
    ready.set()
    release.wait(120)


def test_a_worker_holding_memory_is_counted_while_it_runs() -> None:
    with PeakMemory() as alone:
        time.sleep(1.2)
    context = multiprocessing.get_context("fork")
    ready, release = context.Event(), context.Event()
    with PeakMemory() as with_worker:
        worker = context.Process(target=_hold_until, args=(300, ready, release))
        worker.start()
        assert ready.wait(120)
        # held until a whole sample has begun and ended since its memory was resident,
        # however slowly a busy machine runs either process (a fixed sleep failed at random)
        seen = with_worker.samples
        while with_worker.samples < seen + 2:
            time.sleep(0.05)
        release.set()
        worker.join()
    assert with_worker.mb >= alone.mb + 250  # the worker's 300 MB, while it lived


def test_peaks_that_never_meet_are_not_added() -> None:
    with PeakMemory() as peak:
        for _ in range(2):  # two workers one after the other: never more than one at once
            worker = multiprocessing.get_context("fork").Process(target=_hold, args=(300, 1.2))
            worker.start()
            worker.join()
    with PeakMemory() as alone:
        time.sleep(1.2)
    assert peak.mb < alone.mb + 450
