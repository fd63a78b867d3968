"""What every reader shares: its records, its interface and the span decoding.

A reader takes a question and a few passages (sentences) and gives, per passage, a
`Reading`: a relevance logit and start/end logits over the passage's tokens, from
which the best spans are decoded and any character span can be scored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Protocol

MAX_ANSWER_TOKENS = 30  # a span longer than this many tokens is never an answer
SPANS_PER_PASSAGE = 3  # best spans kept per passage
_TOP_LOGITS = 20  # start and end tokens considered when decoding spans


@dataclass(frozen=True)
class ReadSpan:
    """A span the reader proposes inside passage `passage` (character offsets in it)."""

    passage: int
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class Reading:
    """What a reader says of one passage: relevance logit, best spans, token logits.

    `offsets` are the character spans of the passage's tokens; `starts` and `ends` their
    start and end logits, so any character span can be scored (see `score_span`).
    `relevance` is 0.0 for readers without a relevance head.
    """

    relevance: float
    spans: tuple[ReadSpan, ...]
    offsets: tuple[tuple[int, int], ...]
    starts: tuple[float, ...]
    ends: tuple[float, ...]

    def score_span(self, start: int, end: int) -> float | None:
        """Start logit of the first token plus end logit of the last token inside [start, end)."""
        inside = [i for i, (a, b) in enumerate(self.offsets) if b > start and a < end]
        if not inside:
            return None
        return self.starts[inside[0]] + self.ends[inside[-1]]


class Reader(Protocol):
    """Question and passages in, one `Reading` per passage out, in passage order."""

    def read(self, question: str, passages: list[str]) -> list[Reading]:
        """Read each passage for `question`."""
        ...


# forward(encoded NumPy inputs) -> (start logits, end logits, relevance logits or None), batch-first arrays
Forward = Callable[[dict[str, Any]], tuple[Any, Any, Any]]


def read_pairs(tokenizer: Any, forward: Forward, question: str, passages: list[str], max_length: int) -> list[Reading]:
    """Encode (question, passage) pairs, run `forward` once, decode a `Reading` per passage.

    Args:
        tokenizer: a fast transformers tokenizer (offsets are needed).
        forward: runs the network on the encoded batch.
        question: the question text.
        passages: the texts to read.
        max_length: longest pair in tokens; passages are truncated to fit.
    """
    if not passages:
        return []
    question = _fit_question(tokenizer, question, max_length // 2)
    encoded = tokenizer(
        [question] * len(passages), passages, truncation="only_second", max_length=max_length,
        padding=True, return_offsets_mapping=True, return_tensors="np",
    )
    offsets = encoded.pop("offset_mapping").tolist()
    starts, ends, relevance = forward(encoded)
    readings = []
    for row in range(len(passages)):
        context = [i for i, sid in enumerate(encoded.sequence_ids(row)) if sid == 1]
        row_starts, row_ends = starts[row].tolist(), ends[row].tolist()
        readings.append(
            Reading(
                relevance=float(relevance[row]) if relevance is not None else 0.0,
                spans=tuple(best_spans(row, context, offsets[row], row_starts, row_ends)),
                offsets=tuple((offsets[row][i][0], offsets[row][i][1]) for i in context),
                starts=tuple(row_starts[i] for i in context),
                ends=tuple(row_ends[i] for i in context),
            )
        )
    return readings


def _fit_question(tokenizer: Any, question: str, budget: int) -> str:
    """The question cut to `budget` tokens, so every passage keeps at least half the pair."""
    offsets = tokenizer(question, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    return question if len(offsets) <= budget else question[: offsets[budget - 1][1]]


def best_spans(
    row: int, context: list[int], offsets: list[list[int]], start_logits: list[float], end_logits: list[float]
) -> list[ReadSpan]:
    """The best-scoring spans (start + end logit) inside the context tokens of one row."""
    if not context:
        return []
    starts = sorted(context, key=lambda i: -start_logits[i])[:_TOP_LOGITS]
    ends = sorted(context, key=lambda i: -end_logits[i])[:_TOP_LOGITS]
    found = []
    for s in starts:
        for e in ends:
            if s <= e < s + MAX_ANSWER_TOKENS:
                score = start_logits[s] + end_logits[e]
                if math.isfinite(score):
                    found.append(ReadSpan(row, offsets[s][0], offsets[e][1], score))
    found.sort(key=lambda span: -span.score)
    return found[:SPANS_PER_PASSAGE]
