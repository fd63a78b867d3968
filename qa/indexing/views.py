"""What the filtered views of one index share from one question to the next.

Every question is asked as of a day, and makes its views of the index from that day: the
articles published up to it, the latest week's, a time window's. Questions asked on the same
day (all of a chat's, and the quiz's of one week) make the same views again, and each view
worked out which rows of every table its articles hold (a pass over the table), and a view
of a few thousand rows, searched exactly among them, read their vectors from the file again:
at the year of news (624,724 sentences), 0.95 s of the 5.4 s that 30 warm questions spent
outside the reader (profiled, two cores shared with a parser).

`RecentViews` keeps the last few views' row masks, by the articles they keep, and the vectors
read for them, by the mask they were read for. A mask it hands out is read-only and is the
same object for the same articles, so a block of vectors is found by the mask's identity and
holds exactly the rows that mask keeps: what a search reads from it is what it would read from
the file, and every score is the same float.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

import numpy as np

VIEWS = 16  # the row masks of this many recent (table, articles) views are kept (about 1 MB each at a million rows)
VECTOR_BYTES = 64 << 20  # at most this much of the vectors read for them (a week of the year: 28 MB)


@dataclass
class _View:
    keep: np.ndarray  # which rows of the table the view holds (read-only)
    rows: np.ndarray | None = None  # those rows' numbers, once vectors were read for them
    vectors: np.ndarray | None = None  # their vectors, in row order


class RecentViews:
    """The row masks of an index's recent views and the vectors read for them; safe to share
    between threads (every view of one index shares one)."""

    def __init__(self, views: int = VIEWS, vector_bytes: int = VECTOR_BYTES) -> None:
        self._views: OrderedDict[tuple[str, bytes], _View] = OrderedDict()
        self._by_mask: dict[int, _View] = {}  # id(view.keep) -> view, while the view is kept
        self._most_views, self._most_bytes = views, vector_bytes
        self._lock = threading.Lock()

    def rows_kept(self, table: str, articles: np.ndarray, make: Callable[[], np.ndarray]) -> np.ndarray:
        """The rows of `table` that a view keeping `articles` (a bool per article of the build)
        holds: the mask made for the same articles before, else `make()`, kept read-only."""
        key = (table, np.asarray(articles, dtype=bool).tobytes())
        with self._lock:
            view = self._views.get(key)
            if view is not None:
                self._views.move_to_end(key)
                return view.keep
        keep = make()
        keep.flags.writeable = False
        with self._lock:
            view = self._views.get(key)
            if view is None:  # (another thread may have made it meanwhile: one mask per key)
                view = self._views[key] = _View(keep)
                self._by_mask[id(keep)] = view
                while len(self._views) > self._most_views:
                    _, gone = self._views.popitem(last=False)
                    del self._by_mask[id(gone.keep)]
            return view.keep

    def vectors_kept(self, keep: np.ndarray, read: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(rows, their vectors) of the rows `keep` marks: read once with `read(rows)` for a mask
        this object handed out, kept while it fits; read every time for any other mask."""
        with self._lock:
            view = self._by_mask.get(id(keep))
            if view is not None and view.keep is keep and view.vectors is not None:
                return view.rows, view.vectors  # type: ignore[return-value]
        rows = np.flatnonzero(keep)
        vectors = read(rows)
        if view is None or view.keep is not keep or vectors.nbytes > self._most_bytes:
            return rows, vectors
        vectors.flags.writeable = False
        with self._lock:
            if self._by_mask.get(id(keep)) is view:
                view.rows, view.vectors = rows, vectors
                self._within_budget(view)
        return rows, vectors

    def _within_budget(self, newest: _View) -> None:
        """Drop the oldest views' vectors until those kept fit the budget (the lock held)."""
        held = sum(v.vectors.nbytes for v in self._views.values() if v.vectors is not None)
        for view in self._views.values():
            if held <= self._most_bytes:
                break
            if view is not newest and view.vectors is not None:
                held -= view.vectors.nbytes
                view.rows = view.vectors = None
