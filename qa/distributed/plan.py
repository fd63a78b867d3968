"""Planning a sharded build: which articles each shard holds, and which neighbours share its batches.

Pure functions over sentence counts per article (corpus order), so they are tested
without Ray.
"""

from __future__ import annotations

import bisect
import itertools

from qa.indexing.sentence_vectors import EMBED_BATCH


def balanced_runs(sentence_counts: list[int], parts: int) -> list[tuple[int, int]]:
    """[first, last) of at most `parts` consecutive runs of articles with near-equal sentence totals.

    Shards hold consecutive articles so that their rows, end to end, are the rows of one
    index over the whole corpus; balanced by sentences, so no worker waits long for another.
    """
    parts = min(parts, len(sentence_counts))
    cumulative = list(itertools.accumulate(sentence_counts))
    total = cumulative[-1] if cumulative else 0
    cuts = [0]
    for k in range(1, parts):
        cut = bisect.bisect_left(cumulative, k * total / parts) + 1
        cuts.append(min(max(cut, cuts[-1] + 1), len(sentence_counts) - (parts - k)))
    cuts.append(len(sentence_counts))
    return [(cuts[i], cuts[i + 1]) for i in range(parts)]


def neighbours(sentence_counts: list[int], first: int, last: int) -> tuple[int, int]:
    """How many sentences before article `first` and after article `last - 1` share their batches.

    Args:
        sentence_counts: sentences per article of the whole corpus, in order.
        first, last: the shard's articles are `first` to `last - 1`.
    """
    start = sum(sentence_counts[:first])
    end = start + sum(sentence_counts[first:last])
    if end == start:
        return 0, 0
    return start % EMBED_BATCH, min(sum(sentence_counts), -(-end // EMBED_BATCH) * EMBED_BATCH) - end


def covering(sentence_counts: list[int], first: int, last: int, before: int, after: int) -> tuple[range, range]:
    """The articles holding the `before` sentences before article `first` and the `after` sentences from `last` on."""
    low = first
    while before > 0 and low > 0:
        low -= 1
        before -= sentence_counts[low]
    high = last
    while after > 0 and high < len(sentence_counts):
        after -= sentence_counts[high]
        high += 1
    return range(low, first), range(last, high)
