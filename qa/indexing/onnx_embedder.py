"""The embedding model run by ONNX Runtime with int8 weights: the same vectors, faster on a CPU.

The sentence-transformers model (a BERT encoder, mean pooling, normalisation) is exported
here, from the installed model, to ONNX, and its matrix weights quantised to int8 per
output channel (dynamic quantisation: activations are quantised on the fly), in 7 bits
(`quantise`: the same integer sums on every x86 CPU). On this project's 2-core machines it
embeds about 1.6 times as fast as PyTorch, and its vectors keep a mean cosine of 0.99 to
PyTorch's (`tests/indexing/test_embedder.py` checks both sides).
The exported file is cached under `QA_CACHE_DIR` (default `~/.cache/newsqa-assistant`),
keyed by the model's folder and weights, so the export runs once per machine.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from qa.config import ONNX_QUANTISATION, cache_dir
from qa.errors import ModelError
from qa.indexing.heap import trim_heap
from qa.lazy import SerialTokenizer

# Texts per run of the network. int8 vectors depend on their run (activations are quantised
# per run), so a change here changes every vector. Smaller runs would be faster and hold less
# memory (on 12k SQuAD sentences on two threads, 16 took 17.5 s and peaked at 514 MB, 64 took
# 24.8 s and 1,026 MB, with the same closeness to the torch vectors), but with 16 the
# benchmark lost hit@1: 0.3 points on SQuAD and 1.5 on the seeds (0.5 and 2.2 with the
# stacking models refitted), so 64 stays.
_BATCH_SIZE = 64
# A run of n texts padded to t tokens is split in halves while n * t * t exceeds this: the
# attention's memory grows with it, and ONNX Runtime keeps its largest working set until
# `release_memory`. Runs of ordinary news sentences (up to 128 tokens) are run whole.
_ATTENTION_BUDGET = _BATCH_SIZE * 128 * 128
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class OnnxEmbedder:
    """A sentence-transformers model with mean pooling, run by ONNX Runtime with int8 weights."""

    def __init__(self, name: str, folder: Path) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        import onnxruntime
        import torch
        from transformers import AutoTokenizer

        self._max_length = _check_mean_pooling(folder)
        self._tokenizer = SerialTokenizer(AutoTokenizer.from_pretrained(str(folder)))
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()  # follows --threads / torch.set_num_threads
        options.inter_op_num_threads = 1
        model_file = quantised_model(folder)
        self._session = onnxruntime.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
        self._shrinking = onnxruntime.RunOptions()
        self._shrinking.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
        self.name = name
        self.dimension = int(self.encode(["x"]).shape[1])

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text (batched by length, like sentence-transformers)."""
        if not texts:
            return np.zeros((0, getattr(self, "dimension", 0)), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out: list[np.ndarray] = [np.empty(0)] * len(texts)
        for offset in range(0, len(texts), _BATCH_SIZE):
            self._encode_rows(texts, order[offset : offset + _BATCH_SIZE], out)
        return np.ascontiguousarray(np.stack(out), dtype=np.float32)

    def release_memory(self) -> None:
        """Give back to the system the memory ONNX Runtime's arena kept for the largest batches
        so far (about 0.6 GB after a large build's embedding on two threads, held for good
        otherwise): one small run that shrinks the arena when it ends. Later batches take what
        they need again."""
        encoded = self._tokenizer(["."], return_tensors="np")
        self._session.run(None, {k: encoded[k].astype(np.int64) for k in _INPUTS}, self._shrinking)
        # what the arena frees goes back to the C heap, which keeps it unless told to hand it back
        # (whether it did on its own depended on what the process had freed before: a test failed at random)
        trim_heap()

    def _encode_rows(self, texts: list[str], rows: np.ndarray, out: list[np.ndarray]) -> None:
        """Vectors of texts[rows] into out[rows], as one batch, or in halves while the batch's
        attention would outgrow `_ATTENTION_BUDGET` (text in some scripts is a token a character)."""
        encoded = self._tokenizer(
            [texts[i] for i in rows], padding=True, truncation=True, max_length=self._max_length, return_tensors="np"
        )
        tokens = encoded["input_ids"].shape[1]
        if len(rows) > 1 and len(rows) * tokens * tokens > _ATTENTION_BUDGET:
            half = len(rows) // 2
            self._encode_rows(texts, rows[:half], out)
            self._encode_rows(texts, rows[half:], out)
            return
        feed = {k: encoded[k].astype(np.int64) for k in _INPUTS}
        states = self._session.run(None, feed)[0]
        mask = feed["attention_mask"][..., None].astype(np.float32)
        pooled = (states * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        for row, vector in zip(rows, pooled):
            out[row] = vector


def quantise(plain: Path, out: Path) -> None:
    """Quantise the float ONNX file `plain` to `out`: matrix weights as int8 per output channel,
    within 7 bits (magnitudes up to 64), activations as uint8 per run.

    Why 7 bits: ONNX Runtime multiplies uint8 activations by int8 weights with AVX2's
    `vpmaddubsw` on CPUs without VNNI, which adds each pair of products in 16 bits and
    saturates (255 x 127 x 2 > 32,767; 255 x 64 x 2 is not), where VNNI CPUs add in 32 bits.
    With 8-bit weights an AVX2-only CPU's sums were off (by up to 79,106 on random 8-bit data),
    so the same model gave other numbers, and some other answers, than exact arithmetic: a test
    of an answer passed in an earlier CI run and failed on an AVX2-only machine. Within 7 bits
    no pair can saturate, and every x86 CPU computes the exact integer sums
    (`tests/read/test_quantisation.py`).
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(plain), str(out), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True)


def quantised_model(folder: Path) -> Path:
    """The int8 ONNX file of the model in `folder`, exported and quantised on first use."""
    weights = folder / "model.safetensors"
    if not weights.is_file():
        weights = folder / "pytorch_model.bin"
    stat = weights.stat() if weights.is_file() else None
    key = hashlib.sha1(f"{folder.resolve()}|{stat.st_size if stat else 0}|{stat.st_mtime_ns if stat else 0}".encode())
    target = cache_dir() / f"{folder.name}-{key.hexdigest()[:12]}-{ONNX_QUANTISATION}.onnx"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # One process exports; the others wait for its file rather than each making (and
    # swapping in) its own: every process that starts together reads the same weights.
    with open(target.with_name(f".{target.name}.lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not target.is_file():
                _export_quantised(folder, target)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return target


def _export_quantised(folder: Path, target: Path) -> None:
    plain = target.with_name(f".{target.stem}.{os.getpid()}.fp32.onnx")
    partial = target.with_name(f".{target.stem}.{os.getpid()}.partial.onnx")
    try:
        _export(folder, plain)
        quantise(plain, partial)
        os.replace(partial, target)
    except ModelError:
        raise
    except Exception as error:  # the exporter and quantiser raise many kinds; all mean "cannot build it"
        raise ModelError(
            f"cannot export {folder} to ONNX ({type(error).__name__}: {error}); "
            f"use Settings(embedding_runtime='torch') (env QA_EMBEDDING_RUNTIME=torch)"
        ) from error
    finally:
        for leftover in (plain, partial):
            leftover.unlink(missing_ok=True)


def _export(folder: Path, path: Path) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(str(folder)).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(folder))

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    sample = tokenizer(["an example", "a second, longer example sentence"], padding=True, return_tensors="pt")
    axes = {name: {0: "batch", 1: "tokens"} for name in (*_INPUTS, "last_hidden_state")}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            LastHiddenState(), tuple(sample[k] for k in _INPUTS), str(path), input_names=list(_INPUTS),
            output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17, dynamo=False,
        )


def _check_mean_pooling(folder: Path) -> int:
    """The model's max sequence length, after checking it is a mean-pooled, normalised model.

    Raises:
        ModelError: the model pools otherwise (then the torch runtime must be used).
    """
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        pooling = next(m for m in modules if m["type"].endswith("Pooling"))
        config = json.loads((folder / pooling["path"] / "config.json").read_text(encoding="utf-8"))
        normalised = any(m["type"].endswith("Normalize") for m in modules)
        length = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))["max_seq_length"]
    except (OSError, ValueError, KeyError, StopIteration) as error:
        raise ModelError(
            f"{folder} is not a sentence-transformers model the ONNX runtime understands ({error}); "
            f"use Settings(embedding_runtime='torch') (env QA_EMBEDDING_RUNTIME=torch)"
        ) from error
    if not (config.get("pooling_mode_mean_tokens") and normalised and len(modules) == 3):
        raise ModelError(
            f"{folder} does not use mean pooling with normalisation; use Settings(embedding_runtime='torch')"
        )
    return int(length)
