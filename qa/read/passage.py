"""The built-in passage reader: a fine-tuned all-MiniLM-L6-v2 cross-encoder with two heads.

For a (question, sentence) pair it gives a relevance logit (does the sentence answer
the question?) and start/end logits over the sentence's tokens (where is the answer?).
It is the bundled all-MiniLM-L6-v2 encoder fine-tuned on SQuAD v1.1 train by
`python -m train.reader`, exported to ONNX with int8 weights and shipped as
`qa/models/passage_reader.onnx` (about 22 MB); it runs on ONNX Runtime, so reading
five sentences costs a few milliseconds on one core. The tokenizer is the base model's.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from qa.errors import ModelError
from qa.lazy import OncePerKey, SerialTokenizer
from qa.read.base import Reading, read_pairs

WEIGHTS = Path(__file__).resolve().parent.parent / "models" / "passage_reader.onnx"
MAX_LENGTH = 128  # tokens of a (question, sentence) pair
CONTEXT_MAX_LENGTH = 160  # with the headline and the sentence before beside the question
READS_CONTEXT = "reads_context"  # the export's metadata key: "1" when trained to read context
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUTS = ("start_logits", "end_logits", "relevance")


class PassageReader:
    """The trained reader, run by ONNX Runtime on the CPU."""

    def __init__(self, weights: Path = WEIGHTS, base_model: str = "all-MiniLM-L6-v2") -> None:
        if not weights.is_file():
            raise ModelError(f"the passage reader {weights} is missing; run `python -m train.reader`")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        import onnxruntime
        import torch
        from transformers import AutoTokenizer

        from qa.indexing.embedder import resolve_model

        self._tokenizer = SerialTokenizer(AutoTokenizer.from_pretrained(resolve_model(base_model)))
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()  # follows --threads, like the embedder
        options.inter_op_num_threads = 1
        try:
            self._session = onnxruntime.InferenceSession(str(weights), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime raises its own many kinds for a bad file
            raise ModelError(f"cannot load the passage reader {weights} ({error}); reinstall or retrain it") from error
        names = tuple(o.name for o in self._session.get_outputs())
        if names != OUTPUTS:
            raise ModelError(f"{weights} gives outputs {names}, not {OUTPUTS}; retrain with train/reader.py")
        # A reader exported before context reading carries no such key and reads sentences alone.
        self.reads_context = self._session.get_modelmeta().custom_metadata_map.get(READS_CONTEXT) == "1"

    def read(self, question: str, passages: list[str], contexts: list[str] | None = None) -> list[Reading]:
        """Relevance and best spans of each passage for `question`, in passage order; with
        `contexts` (see `qa.read.base.reading_context`) when this reader was trained to read them."""
        if self.reads_context:
            return read_pairs(self._tokenizer, self._forward, question, passages, CONTEXT_MAX_LENGTH, contexts)
        return read_pairs(self._tokenizer, self._forward, question, passages, MAX_LENGTH)

    def _forward(self, encoded: dict[str, Any]) -> tuple[Any, Any, Any]:
        feed = {name: encoded[name].astype("int64") for name in INPUTS}
        starts, ends, relevance = self._session.run(list(OUTPUTS), feed)
        return starts, ends, relevance


_readers: OncePerKey[Path, PassageReader] = OncePerKey(PassageReader)


def get_passage_reader(weights: Path = WEIGHTS) -> PassageReader:
    """The process-wide passage reader, loaded on first use."""
    return _readers.get(weights)
