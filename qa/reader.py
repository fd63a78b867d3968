"""Optional neural reader: a local transformers extractive-QA model picks the answer span.

Off by default. Point `Settings.reader_model` (env `QA_READER_MODEL`) at a folder holding
a model saved for `AutoModelForQuestionAnswering` (a SQuAD 2.0 model, say); the answerer
then takes spans from it instead of the span rules. Nothing is downloaded.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from qa.errors import ModelError
from qa.lazy import OncePerKey

if TYPE_CHECKING:
    from qa.search import SearchIndex
    from qa.span_features import SpanOption

MAX_ANSWER_TOKENS = 30
MAX_LENGTH = 384
_TOP = 20


@dataclass(frozen=True)
class ReadSpan:
    """A span the reader proposes inside passage `passage` (character offsets in it)."""

    passage: int
    start: int
    end: int
    score: float


class Reader:
    """A transformers question-answering model on the CPU."""

    def __init__(self, path: str) -> None:
        folder = Path(path).expanduser()
        if not folder.is_dir():
            raise ModelError(
                f"reader model folder {path!r} does not exist; set QA_READER_MODEL to a folder "
                f"with a model saved by save_pretrained(), or unset it to use the built-in span rules"
            )
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from transformers import AutoModelForQuestionAnswering, AutoTokenizer

        try:
            self._tokenizer = AutoTokenizer.from_pretrained(str(folder))
            self._model = AutoModelForQuestionAnswering.from_pretrained(str(folder))
        except (OSError, ValueError) as error:
            raise ModelError(f"cannot load the reader model in {folder}: {error}") from error
        self._model.eval()
        self._torch = torch
        self.path = str(folder)

    def read(self, question: str, passages: list[str]) -> list[ReadSpan]:
        """The best spans of each passage for `question`, highest score first.

        Args:
            question: the question text.
            passages: texts to read (sentences or short windows).

        Returns:
            Up to a few spans per passage, scored by start + end logit.
        """
        if not passages:
            return []
        encoded = self._tokenizer(
            [question] * len(passages),
            passages,
            truncation="only_second",
            max_length=MAX_LENGTH,
            padding=True,
            return_offsets_mapping=True,
            return_tensors="pt",
        )
        offsets = encoded.pop("offset_mapping").tolist()
        with self._torch.no_grad():
            output = self._model(**{k: v for k, v in encoded.items() if k in _MODEL_INPUTS})
        spans: list[ReadSpan] = []
        for row in range(len(passages)):
            context = [i for i, sid in enumerate(encoded.sequence_ids(row)) if sid == 1]
            spans.extend(
                best_spans(row, context, offsets[row], output.start_logits[row].tolist(), output.end_logits[row].tolist())
            )
        return sorted(spans, key=lambda s: -s.score)


_MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def best_spans(
    row: int, context: list[int], offsets: list[list[int]], start_logits: list[float], end_logits: list[float]
) -> list[ReadSpan]:
    """The three best-scoring spans (start + end logit) inside the context tokens of one row."""
    if not context:
        return []
    starts = sorted(context, key=lambda i: -start_logits[i])[:_TOP]
    ends = sorted(context, key=lambda i: -end_logits[i])[:_TOP]
    found = []
    for s in starts:
        for e in ends:
            if s <= e < s + MAX_ANSWER_TOKENS:
                score = start_logits[s] + end_logits[e]
                if math.isfinite(score):
                    found.append(ReadSpan(row, offsets[s][0], offsets[e][1], score))
    found.sort(key=lambda span: -span.score)
    return found[:3]


_readers: OncePerKey[str, Reader] = OncePerKey(Reader)


def get_reader(path: str) -> Reader:
    """The process-wide reader for `path`, loaded on first use."""
    return _readers.get(path)


READ_SENTENCES = 4  # best sentences the reader reads


def reader_options(
    index: "SearchIndex", question: str, ranked: list[tuple[int, float]], reader: Reader
) -> list["SpanOption"]:
    """Spans the reader finds in the best sentences, as span options (softmax probabilities)."""
    from qa.span_features import SpanOption

    top = ranked[:READ_SENTENCES]
    sentences = [index.sentences[s] for s, _ in top]
    spans = [s for s in reader.read(question, [x.text for x in sentences]) if s.end > s.start]
    if not spans:
        return []
    peak = max(s.score for s in spans)
    weights = [math.exp(s.score - peak) for s in spans]
    total = sum(weights)
    options = []
    for span, weight in zip(spans, weights):
        sentence = sentences[span.passage]
        start, end = sentence.start + span.start, sentence.start + span.end
        text = " ".join(index.articles[sentence.doc_id].text[start:end].split())
        features = {"reader_score": span.score, "sentence_probability": top[span.passage][1]}
        options.append(SpanOption(text, top[span.passage][0], start, end, features, weight / total))
    return options
