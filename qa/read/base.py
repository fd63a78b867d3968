"""What every reader shares: its records, its interface and the span decoding.

A reader takes a question and a few passages (sentences) and gives, per passage, a
`Reading`: a relevance logit and start/end logits over the passage's tokens, from
which the best spans are decoded and any character span can be scored.

A passage may come with its context, the words a reader of the article has just read: its
headline and the sentence before it (`reading_context`). Context is read beside the
question ("question [SEP] headline; the sentence before" against the sentence), so "the
company" or "she" in the sentence can be read as the name the context gives, while spans
are only ever taken from the sentence itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Protocol

MAX_ANSWER_TOKENS = 30  # a span longer than this many tokens is never an answer
SPANS_PER_PASSAGE = 3  # best spans kept per passage
_TOP_LOGITS = 20  # start and end tokens considered when decoding spans
CONTEXT_SEPARATOR = " [SEP] "  # between the question and a passage's context, on the question's side
_HEADLINE_CHARS = 120
_BEFORE_CHARS = 200  # the end of the sentence before: what "it" or "the company" most likely points back to


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
    """Question and passages in, one `Reading` per passage out, in passage order.

    `contexts`, when given, holds each passage's `reading_context`; a reader that was not
    trained to read context leaves it aside.
    """

    def read(self, question: str, passages: list[str], contexts: list[str] | None = None) -> list[Reading]:
        """Read each passage for `question`."""
        ...


def reading_context(headline: str, before: str) -> str:
    """What a reader has read just before a sentence: its article's headline and the end of
    the sentence before it, each cut to a bounded length (training and serving both use this)."""
    headline = " ".join(headline.split())[:_HEADLINE_CHARS]
    before = " ".join(before.split())
    if len(before) > _BEFORE_CHARS:
        cut = before[-_BEFORE_CHARS:]
        before = cut[cut.find(" ") + 1 :] if " " in cut else cut
    return f"{headline}; {before}" if headline and before else headline or before


# forward(encoded NumPy inputs) -> (start logits, end logits, relevance logits or None), batch-first arrays
Forward = Callable[[dict[str, Any]], tuple[Any, Any, Any]]


def read_pairs(
    tokenizer: Any,
    forward: Forward,
    question: str,
    passages: list[str],
    max_length: int,
    contexts: list[str] | None = None,
) -> list[Reading]:
    """Encode (question, passage) pairs, run `forward` once, decode a `Reading` per passage.

    Args:
        tokenizer: a fast transformers tokenizer (offsets are needed).
        forward: runs the network on the encoded batch.
        question: the question text.
        passages: the texts to read.
        max_length: longest pair in tokens; passages are truncated to fit.
        contexts: each passage's context (`reading_context`), read beside the question.
    """
    if not passages:
        return []
    encoded = encode_pairs(tokenizer, question, passages, contexts, max_length, "np")
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


def encode_pairs(
    tokenizer: Any, question: str, passages: list[str], contexts: list[str] | None, max_length: int, tensors: str
) -> Any:
    """The padded batch of (question [and context], passage) pairs with offsets, as the reader
    reads it in training and in use: the first text at most half the pair (the question kept
    whole before its context), the passage truncated to fit the rest."""
    firsts = [first_text(tokenizer, question, c, max_length) for c in (contexts or [""] * len(passages))]
    return tokenizer(
        firsts, passages, truncation="only_second", max_length=max_length,
        padding=True, return_offsets_mapping=True, return_tensors=tensors,
    )


def first_text(tokenizer: Any, question: str, context: str, max_length: int) -> str:
    """The first text of a pair: the question (cut to half the pair), then its context (if any)
    in what is left of that half."""
    budget = max_length // 2
    question = _fit(tokenizer, question, budget)
    return _fit(tokenizer, question + CONTEXT_SEPARATOR + context, budget) if context else question


def _fit(tokenizer: Any, text: str, budget: int) -> str:
    """`text` cut to `budget` tokens, so every passage keeps at least half the pair."""
    offsets = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    return text if len(offsets) <= budget else text[: offsets[budget - 1][1]]


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
