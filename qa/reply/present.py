"""Pure presentation helpers for the web chat: excerpts, confidence labels, the reply markdown.

The HTML built from them (source cards, the article table) is in `qa.reply.cards`.
Everything that comes from an article or a user is escaped before it becomes HTML or
markdown, so a page shows `<script>` as text and never runs it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from qa.reply.markdown import escape_markdown
from qa.types import Answer

__all__ = [
    "Excerpt", "chat_markdown", "confidence_label", "confidence_level", "escape_markdown", "excerpt", "explanation",
    "paragraph_bounds",
]

MAX_EXCERPT_CHARS = 900
HIGH_CONFIDENCE = 0.75
MEDIUM_CONFIDENCE = 0.5
NOT_FOUND_LABEL = "Not found in these articles"

_INLINE_SPACE = " \t\r\f\v\u00a0"
_SENTENCE_END = ".!?:;\"'”’)]…"


@dataclass(frozen=True)
class Excerpt:
    """The paragraph around a cited sentence, split so the sentence can be highlighted.

    `before + quote + after == article_text[start:end]`; `clipped_*` say whether the
    paragraph was cut short on that side to keep the excerpt readable.
    """

    start: int
    end: int
    before: str
    quote: str
    after: str
    clipped_before: bool = False
    clipped_after: bool = False


def paragraph_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """Offsets of the paragraph holding `text[start:end]`, without its outer whitespace.

    A paragraph ends at a blank line, or at a line break after sentence-final
    punctuation; any other line break is a soft wrap inside the paragraph (articles
    come both hard-wrapped and with one paragraph per line).

    Raises:
        ValueError: the offsets do not lie inside `text`.
    """
    if not 0 <= start <= end <= len(text):
        raise ValueError(f"offsets {start}:{end} lie outside a text of {len(text)} characters")
    left = text.rfind("\n", 0, start)
    while left != -1 and not _ends_paragraph(text, left):
        left = text.rfind("\n", 0, left)
    right = text.find("\n", end)
    while right != -1 and not _ends_paragraph(text, right):
        right = text.find("\n", right + 1)
    left, right = left + 1, len(text) if right == -1 else right
    while left < start and text[left].isspace():
        left += 1
    while right > end and text[right - 1].isspace():
        right -= 1
    return left, right


def _ends_paragraph(text: str, newline: int) -> bool:
    """Whether the line break at `newline` closes a paragraph (see `paragraph_bounds`)."""
    before, after = newline - 1, newline + 1
    while before >= 0 and text[before] in _INLINE_SPACE:
        before -= 1
    while after < len(text) and text[after] in _INLINE_SPACE:
        after += 1
    if before < 0 or after >= len(text) or text[before] == "\n" or text[after] == "\n":
        return True  # a blank line, or the start or end of the text
    return text[before] in _SENTENCE_END


def excerpt(text: str, start: int, end: int, max_chars: int = MAX_EXCERPT_CHARS) -> Excerpt:
    """The cited span inside its surrounding paragraph, cut at word boundaries to `max_chars`.

    Args:
        text: the whole article.
        start: where the cited sentence starts.
        end: where it ends.
        max_chars: longest context kept around the quote (the quote itself is never cut).

    Raises:
        ValueError: the offsets do not lie inside `text`, or `max_chars` is negative.
    """
    if max_chars < 0:
        raise ValueError(f"max_chars must be at least 0, not {max_chars}")
    left, right = paragraph_bounds(text, start, end)
    room = max(0, max_chars - (end - start))
    keep_before = min(start - left, room // 2 + max(0, room // 2 - (right - end)))
    keep_after = min(right - end, room - keep_before)
    new_left, new_right = start - keep_before, end + keep_after
    if new_left > left:
        space = text.find(" ", new_left, start)
        new_left = space + 1 if space != -1 else start
    if new_right < right:
        space = text.rfind(" ", end, new_right)
        new_right = space if space != -1 else end
    return Excerpt(
        start=new_left,
        end=new_right,
        before=text[new_left:start],
        quote=text[start:end],
        after=text[end:new_right],
        clipped_before=new_left > left,
        clipped_after=new_right < right,
    )


def confidence_level(confidence: float) -> str:
    """"high", "medium" or "low", by the thresholds `HIGH_CONFIDENCE` and `MEDIUM_CONFIDENCE`."""
    if confidence >= HIGH_CONFIDENCE:
        return "high"
    return "medium" if confidence >= MEDIUM_CONFIDENCE else "low"


def confidence_label(confidence: float, answerable: bool = True) -> str:
    """A plain-words confidence: "High confidence (95%)", or "Not found in these articles"."""
    if not answerable:
        return NOT_FOUND_LABEL
    return f"{confidence_level(confidence).capitalize()} confidence ({_percent(confidence)})"


def chat_markdown(answer: Answer, threshold: float | None = None) -> str:
    """The reply as the chat shows it: the answer text and a confidence line.

    A "not found" reply is set off as a quote block, so it does not read as an answer. With
    the abstention `threshold` in force, a folded "What does this mean?" under it explains
    the confidence, the count of reporting articles and a decline (`explanation`).
    """
    if answer.answerable:
        reply = f"{answer.text}\n\n*{confidence_label(answer.confidence)}*"
    else:
        quoted = "\n".join(f"> {line}" if line.strip() else ">" for line in answer.text.splitlines())
        reply = f"{quoted}\n\n*{NOT_FOUND_LABEL}: the nearest passages are listed as sources.*"
    if threshold is None:
        return reply
    said = "".join(f"<p>{html.escape(line)}</p>" for line in explanation(answer, threshold))
    return f'{reply}\n\n<details class="qa-explain"><summary>What does this mean?</summary>{said}</details>'


def explanation(answer: Answer, threshold: float) -> list[str]:
    """What the answer's confidence, its "reported by N of M articles" and a decline mean, in a few sentences.

    Args:
        answer: what `qa.ask` returned.
        threshold: the confidence under which answers are declined (`qa.abstention_threshold`).
    """
    under = _percent(threshold)
    if not answer.answerable:
        best = f" (the best reached {_percent(answer.confidence)})" if answer.citations else ""
        return [
            f"Declined: no passage states an answer with a confidence of {under} or more{best}, so none is "
            "given rather than a likely wrong one.",
            "The nearest passages are listed as sources, so you can see what was read.",
        ]
    said = [
        f"{_percent(answer.confidence)} is a calibrated probability that the answer is right: of answers given "
        f"at about {_percent(answer.confidence)}, about {round(answer.confidence * 100)} in 100 were right on "
        f"held-out questions. High is "
        f"{_percent(HIGH_CONFIDENCE)} and above, Medium {_percent(MEDIUM_CONFIDENCE)} to {_percent(HIGH_CONFIDENCE)}, "
        f"Low below; under {under} the assistant declines to answer.",
    ]
    reported = [p for p in answer.parts if len(p.supporting_docs) > 1]
    if reported and answer.articles_searched > 1:
        n, m = len(reported[0].supporting_docs), answer.articles_searched
        said.append(
            f"\"Reported by {n} of {m} articles\": {n} articles state the answer in a cited sentence (other names "
            f"for it count), of the {m} it was read from (the corpus, or the articles the filter admits)."
        )
    if any(p.alternatives for p in answer.parts):
        said.append("\"The articles differ\": other articles give another answer to the same question, with their sources.")
    if answer.window:
        said.append(
            f"\"From {answer.window}\": the answer was read from the articles of those days, up to the day asked: "
            "the question's time words (\"this week\", \"recently\" ...) chose them, or, with none, the latest "
            "week's articles alone gave a surer answer than all the articles together."
        )
    return said


def _percent(value: float) -> str:
    return f"{round(max(0.0, min(1.0, value)) * 100)}%"
