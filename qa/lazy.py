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


class SerialTokenizer:
    """A transformers tokenizer whose calls run one at a time.

    A fast tokenizer call first sets truncation and padding on the shared Rust
    tokenizer, then encodes; two threads interleaving those steps get unpadded, ragged
    batches ("setting an array element with a sequence"). Encoding is cheap next to the
    network, so a lock costs nothing worth measuring.
    """

    def __init__(self, tokenizer: object) -> None:
        self._tokenizer = tokenizer
        self._lock = threading.Lock()

    def __call__(self, *args: object, **kwargs: object) -> object:
        with self._lock:
            return self._tokenizer(*args, **kwargs)  # type: ignore[operator]

    def __getattr__(self, name: str) -> object:
        return getattr(self._tokenizer, name)
