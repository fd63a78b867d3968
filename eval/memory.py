"""Peak memory of a process and the worker processes it runs, as they run together.

`getrusage` gives each process's own peak (for children, the largest of them), and adding
a parent's peak to a child's counts twice the pages a forked child shares with its parent,
and counts peaks that never met (the parser workers of a build end before it assembles the
index, its fullest moment). `PeakMemory` samples instead, while the work runs: the process's
RSS plus what its live children hold privately (a forked child's pages shared with it are
counted once), and takes the larger of that and the process's own exact peak RSS since the
measure began (its high-water mark, reset at the start through /proc/self/clear_refs), so a
spike between samples in the process itself is not missed. (A sum of proportional set sizes
was used before: it splits pages shared with processes outside the tree, such as libraries
another Python maps, so it could come out under the process's own RSS and hide a child.)
"""

from __future__ import annotations

import os
import resource
import threading
from pathlib import Path

SAMPLE_SECONDS = 0.5


class PeakMemory:
    """`with PeakMemory() as peak: ...`, then `peak.mb`: the peak described above (Linux;
    elsewhere the process's own peak RSS alone)."""

    def __init__(self) -> None:
        self._peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="peak-memory", daemon=True)
        self._own_peak = False
        self.samples = 0  # samples taken so far

    def __enter__(self) -> PeakMemory:  # noqa: PYI034 (typing.Self needs Python 3.11; we support 3.10)
        self._own_peak = _reset_high_water_mark()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def mb(self) -> float:
        if self._own_peak:  # the high-water mark since __enter__
            own_peak_kb = _status_kb("VmHWM:")
        else:  # it could not be reset: the process's lifetime peak, which may be higher than this stretch's
            own_peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return round(max(self._peak_kb, own_peak_kb) / 1024, 1)

    def _sample(self) -> None:
        me = os.getpid()
        while True:
            self._peak_kb = max(self._peak_kb, _status_kb("VmRSS:") + sum(_private_kb(pid) for pid in _children(me)))
            self.samples += 1
            if self._stop.wait(SAMPLE_SECONDS):
                return


def _reset_high_water_mark() -> bool:
    """Start this process's peak RSS (VmHWM) afresh; False where it cannot be."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _status_kb(key: str) -> int:
    return _kb(Path("/proc/self/status"), key)


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            out += [int(child) for child in (task / "children").read_text().split()]
    except OSError:
        pass
    return out


def _private_kb(pid: int) -> int:
    """What a (forked) child holds that no other process does: the pages it shares with
    this process are counted once, in this process's RSS."""
    rollup = Path(f"/proc/{pid}/smaps_rollup")
    return _kb(rollup, "Private_Clean:") + _kb(rollup, "Private_Dirty:")


def _kb(path: Path, key: str) -> int:
    """The kB figure on the line of `path` that starts with `key` (0 if unreadable: a process
    that has just ended, a system without /proc)."""
    try:
        for line in path.read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0
