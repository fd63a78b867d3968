"""An optional reader: a local transformers extractive-QA model of the user's own.

Off by default. Point `Settings.reader_model` (env `QA_READER_MODEL`) at a folder holding
a model saved for `AutoModelForQuestionAnswering` (a SQuAD 2.0 model, say); its spans
then replace the built-in span choice (see `qa.answer.span_sources`). Nothing is
downloaded. Such models have no relevance head, so each `Reading.relevance` is 0.0.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from qa.errors import ModelError
from qa.lazy import OncePerKey, SerialTokenizer
from qa.read.base import Reading, read_pairs

MAX_LENGTH = 384
_MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class ExtractiveReader:
    """A transformers question-answering model on the CPU."""

    def __init__(self, path: str) -> None:
        folder = Path(path).expanduser()
        if not folder.is_dir():
            raise ModelError(
                f"reader model folder {path!r} does not exist; set QA_READER_MODEL to a folder "
                f"with a model saved by save_pretrained(), or unset it to use the built-in span choice"
            )
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from transformers import AutoModelForQuestionAnswering, AutoTokenizer

        try:
            self._tokenizer = SerialTokenizer(AutoTokenizer.from_pretrained(str(folder)))
            self._model = AutoModelForQuestionAnswering.from_pretrained(str(folder))
        except (OSError, ValueError) as error:
            raise ModelError(f"cannot load the reader model in {folder}: {error}") from error
        self._model.eval()
        self._torch = torch
        self.path = str(folder)

    def read(self, question: str, passages: list[str], contexts: list[str] | None = None) -> list[Reading]:
        """One `Reading` per passage (best spans by start + end logit), in passage order; such a
        model was not trained to read context beside the question, so `contexts` is left aside."""
        return read_pairs(self._tokenizer, self._forward, question, passages, MAX_LENGTH)

    def _forward(self, encoded: dict[str, Any]) -> tuple[Any, Any, None]:
        with self._torch.no_grad():
            output = self._model(**{k: self._torch.from_numpy(v) for k, v in encoded.items() if k in _MODEL_INPUTS})
        return output.start_logits, output.end_logits, None


_readers: OncePerKey[str, ExtractiveReader] = OncePerKey(ExtractiveReader)


def get_extractive_reader(path: str) -> ExtractiveReader:
    """The process-wide reader for `path`, loaded on first use."""
    return _readers.get(path)
