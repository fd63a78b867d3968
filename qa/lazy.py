"""Heavy objects (models) built once per process, on first use, safely across threads."""

from __future__ import annotations

import threading
from typing import Callable, Generic, Hashable, TypeVar

Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")


class OncePerKey(Generic[Key, Value]):
    """`get(key)` builds `factory(key)` the first time and returns the same object after."""

    def __init__(self, factory: Callable[[Key], Value]) -> None:
        self._factory = factory
        self._values: dict[Key, Value] = {}
        self._lock = threading.Lock()

    def get(self, key: Key) -> Value:
        """The value for `key`, built under a lock on first use (a failed build is retried next time)."""
        with self._lock:
            if key not in self._values:
                self._values[key] = self._factory(key)
            return self._values[key]
