"""Stems are the same whichever threads ask for them at once.

The chat answers questions in many threads. A Snowball stemmer keeps the word it is
stemming in itself, so one stemmer shared by threads read another thread's word midway
(an IndexError in a chat request, or a wrong stem kept in `stem`'s cache).
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import snowballstemmer

from qa.text import stem, words

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def test_threads_stemming_at_once_get_the_stems_of_one_thread_alone() -> None:
    vocabulary = sorted({w for path in SEEDS.iterdir() for w in words(path.read_text(encoding="utf-8"))})
    # longer words with the endings the stemmer strips step by step, so each takes a while
    vocabulary += [f"{w}{ending}" for w in vocabulary[:400] for ending in ("ationalisations", "fulnesses", "ingly")]
    alone = snowballstemmer.stemmer("english")
    expected = {w: alone.stemWord(w) for w in vocabulary}
    found: list[dict[str, str]] = [{} for _ in range(4)]
    failures: list[BaseException] = []
    start = threading.Barrier(len(found))

    def stem_all(k: int) -> None:
        try:
            start.wait()
            for word in vocabulary[k::2] + vocabulary[::-1]:  # the same words met at different times
                found[k][word] = stem(word)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            failures.append(error)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns as often as they can
    stem.cache_clear()
    try:
        threads = [threading.Thread(target=stem_all, args=(k,)) for k in range(len(found))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
        stem.cache_clear()
    assert not failures, failures[:3]
    for own in found:
        assert own == {w: expected[w] for w in own}
    assert {w: stem(w) for w in vocabulary} == expected
