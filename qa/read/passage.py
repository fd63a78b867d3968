"""The built-in passage reader: a fine-tuned all-MiniLM-L6-v2 cross-encoder with two heads.

For a (question, sentence) pair it gives a relevance logit (does the sentence answer
the question?) and start/end logits over the sentence's tokens (where is the answer?).
It is the bundled all-MiniLM-L6-v2 encoder fine-tuned on SQuAD v1.1 train by
`python -m train.reader`, exported to ONNX with int8 weights and shipped as
`qa/models/passage_reader.onnx` (about 22 MB); it runs on ONNX Runtime, so reading
five sentences costs a few milliseconds on one core. The tokenizer is the base model's.

Beside it, `passage_reader.json` is its model card: what it was trained on, how to
reproduce it, held-out figures, and the facts the loader checks before use (the file's
SHA-256, the base model, inputs, outputs and sequence length), so a card and a network
that do not belong together are refused instead of read.
"""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from qa.errors import ModelError
from qa.files import sha256_file
from qa.lazy import OncePerKey, SerialTokenizer
from qa.models import CARD_VERSION, MODELS_DIR
from qa.read.base import Reading, read_pairs

WEIGHTS = MODELS_DIR / "passage_reader.onnx"
BASE_MODEL = "all-MiniLM-L6-v2"
MAX_LENGTH = 128  # tokens of a (question, sentence) pair
CONTEXT_MAX_LENGTH = 160  # with the headline and the sentence before beside the question
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUTS = ("start_logits", "end_logits", "relevance")
CARD_KIND = "onnx-reader"
# Readings of this many recent batches are kept: a question is read in several passes (all its
# articles, then the latest week's; as asked and with the conversation's referent), and a pass
# that reads the same sentences as one before gets that pass's readings, not a second run.
_REMEMBERED = 32
_REEXPORT = "export it again with `python -m train.reader --export-only`, which writes both"


class PassageReader:
    """The trained reader, run by ONNX Runtime on the CPU."""

    def __init__(self, weights: Path = WEIGHTS) -> None:
        if not weights.is_file():
            raise ModelError(f"the passage reader {weights} is missing; reinstall the package or run `python -m train.reader`")
        self.card = read_card(weights)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        import onnxruntime
        import torch
        from transformers import AutoTokenizer

        from qa.indexing.embedder import resolve_model

        self._tokenizer = SerialTokenizer(AutoTokenizer.from_pretrained(resolve_model(self.card["base_model"])))
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
        # A reader trained to read each sentence's context says so on its card; one without reads sentences alone.
        self.reads_context = bool(self.card.get("reads_context", False))
        self._recent: OrderedDict[tuple, tuple[Reading, ...]] = OrderedDict()
        self._recent_lock = threading.Lock()

    def read(self, question: str, passages: list[str], contexts: list[str] | None = None) -> list[Reading]:
        """Relevance and best spans of each passage for `question`, in passage order; with
        `contexts` (see `qa.read.base.reading_context`) when this reader was trained to read them."""
        if not self.reads_context:
            contexts = None
        # Whole batches are remembered, never single pairs: int8 activations are quantised per
        # run, so a pair read beside others could read a little differently.
        key = (question, tuple(passages), None if contexts is None else tuple(contexts))
        with self._recent_lock:
            if key in self._recent:
                self._recent.move_to_end(key)
                return list(self._recent[key])
        readings = read_pairs(self._tokenizer, self._forward, question, passages, max_length(self.reads_context), contexts)
        with self._recent_lock:
            self._recent[key] = tuple(readings)
            while len(self._recent) > _REMEMBERED:
                self._recent.popitem(last=False)
        return readings

    def _forward(self, encoded: dict[str, Any]) -> tuple[Any, Any, Any]:
        feed = {name: encoded[name].astype("int64") for name in INPUTS}
        starts, ends, relevance = self._session.run(list(OUTPUTS), feed)
        return starts, ends, relevance


def max_length(reads_context: bool) -> int:
    """The longest pair a reader reads: longer when it reads each sentence's context beside the question."""
    return CONTEXT_MAX_LENGTH if reads_context else MAX_LENGTH


def card_path(weights: Path) -> Path:
    """Where the card of the reader `weights` lies: beside it, `<name>.json`."""
    return weights.with_suffix(".json")


def read_card(weights: Path = WEIGHTS) -> dict[str, Any]:
    """The model card of the reader `weights`, checked against the file and this code.

    Raises:
        ModelError: the card is missing or unreadable, describes another file (its SHA-256
            differs), or another network (base model, inputs, outputs, sequence length).
    """
    path = card_path(weights)
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ModelError(f"the passage reader's model card {path} is missing; reinstall the package or {_REEXPORT}") from error
    except (OSError, ValueError) as error:
        raise ModelError(f"the passage reader's model card {path} is unreadable ({error}); {_REEXPORT}") from error
    reads_context = isinstance(card, dict) and card.get("reads_context") is True
    expected = {
        "name": weights.stem, "card_version": CARD_VERSION, "kind": CARD_KIND, "base_model": BASE_MODEL,
        "inputs": list(INPUTS), "outputs": list(OUTPUTS), "max_length": max_length(reads_context),
        "sha256": sha256_file(weights),
    }
    wrong = sorted(key for key, value in expected.items() if not isinstance(card, dict) or card.get(key) != value)
    if wrong:
        raise ModelError(
            f"the model card {path} does not describe {weights} as this code reads it (it differs in {', '.join(wrong)}); "
            f"{_REEXPORT}"
        )
    return card


def write_card(weights: Path, facts: dict[str, Any]) -> Path:
    """Write the card of the reader `weights`: `facts` (trained_on, reproduce, held_out, ...)
    and what `read_card` checks, taken from the file and this code; returns its path."""
    reads_context = facts.get("reads_context") is True
    card = {
        **facts, "name": weights.stem, "card_version": CARD_VERSION, "kind": CARD_KIND, "file": weights.name,
        "sha256": sha256_file(weights), "bytes": weights.stat().st_size, "base_model": BASE_MODEL,
        "inputs": list(INPUTS), "outputs": list(OUTPUTS), "max_length": max_length(reads_context),
        "reads_context": reads_context,
    }
    path = card_path(weights)
    partial = path.with_suffix(".json.tmp")
    partial.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(partial, path)
    return path


_readers: OncePerKey[Path, PassageReader] = OncePerKey(PassageReader)


def get_passage_reader(weights: Path = WEIGHTS) -> PassageReader:
    """The process-wide passage reader, loaded on first use."""
    return _readers.get(weights)
