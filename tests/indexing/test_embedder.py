"""The two embedding runtimes: PyTorch as shipped, and the int8 ONNX export of the same model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa.config import Settings
from qa.errors import ModelError
from qa.indexing.embedder import get_embedder, resolve_model
from qa.ingest.chunker import sentences_of
from qa.ingest.corpus import load_corpus
from tests.read.test_quantisation import integer_weights

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def test_the_runtime_is_a_checked_setting_that_shapes_the_index() -> None:
    assert Settings().embedding_runtime == "onnx-int8"
    assert Settings(embedding_runtime="torch").index_shape()["embedding_runtime"] == "torch"
    with pytest.raises(ValueError, match="embedding_runtime"):
        Settings(embedding_runtime="gpu")


@pytest.mark.slow
def test_int8_vectors_stay_close_to_torch_vectors_on_the_seed_articles(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path))  # a fresh export, as on a new machine
    texts = [s.text for article in load_corpus(SEEDS) for s in sentences_of(article)]
    torch_vectors = get_embedder("all-MiniLM-L6-v2", "torch").encode(texts)
    from qa.indexing.onnx_embedder import OnnxEmbedder

    onnx_vectors = OnnxEmbedder("all-MiniLM-L6-v2", Path(resolve_model("all-MiniLM-L6-v2"))).encode(texts)
    (export,) = tmp_path.glob("*-int8-w7.onnx")
    assert all(np.abs(w.astype(np.int16)).max() <= 64 for w in integer_weights(export))  # the same sums on every CPU
    assert onnx_vectors.shape == torch_vectors.shape and onnx_vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(onnx_vectors, axis=1), 1.0, atol=1e-5)
    cosine = (onnx_vectors * torch_vectors).sum(axis=1)
    assert cosine.mean() >= 0.99 and cosine.min() >= 0.95, (cosine.mean(), cosine.min())
    # the nearest sentence to each sentence is mostly the same under both runtimes
    same = (np.argsort(-(onnx_vectors @ onnx_vectors.T), axis=1)[:, 1] == np.argsort(-(torch_vectors @ torch_vectors.T), axis=1)[:, 1])
    assert same.mean() >= 0.85  # near-duplicate sentences across the four reports make some ties


def test_a_model_that_is_not_mean_pooled_is_refused_with_the_way_out(tmp_path) -> None:
    from qa.indexing.onnx_embedder import _check_mean_pooling

    (tmp_path / "modules.json").write_text('[{"type": "x.Transformer", "path": ""}, {"type": "x.Pooling", "path": "p"}]')
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "config.json").write_text('{"pooling_mode_cls_token": true}')
    (tmp_path / "sentence_bert_config.json").write_text('{"max_seq_length": 128}')
    with pytest.raises(ModelError, match="embedding_runtime='torch'"):
        _check_mean_pooling(tmp_path)


@pytest.mark.slow
def test_long_token_texts_are_read_in_smaller_batches_and_each_gets_its_own_vector() -> None:
    from qa.indexing import onnx_embedder

    embedder = get_embedder("all-MiniLM-L6-v2", "onnx-int8")
    torch_embedder = get_embedder("all-MiniLM-L6-v2", "torch")
    # words the tokenizer cuts into many pieces: 64 texts padded to ~256 tokens would hold
    # far more attention than the budget allows, so the batch is split
    long = [" ".join(f"Xq{i}zv{j}kp" for j in range(40)) for i in range(40)]
    short = [f"The council met on day {i}." for i in range(24)]
    texts = long + short
    tokens = embedder._tokenizer(long, padding=True, truncation=True, max_length=256, return_tensors="np")["input_ids"].shape[1]
    assert len(texts) * tokens * tokens > onnx_embedder._ATTENTION_BUDGET, tokens
    vectors = embedder.encode(texts)
    expected = torch_embedder.encode(texts)
    cosine = (vectors * expected).sum(axis=1)
    assert vectors.shape == (64, expected.shape[1]) and cosine.min() >= 0.95, cosine.min()


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        return int(status.read().split("VmRSS:")[1].split()[0]) / 1024


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the resident set size from /proc")
def test_released_memory_goes_back_to_the_system_and_vectors_stay_the_same() -> None:
    from qa.indexing.onnx_embedder import OnnxEmbedder

    embedder = OnnxEmbedder("all-MiniLM-L6-v2", Path(resolve_model("all-MiniLM-L6-v2")))
    texts = [" ".join(f"word{i}x{j}" for j in range(30)) for i in range(64)]  # long batches: a large arena
    before = embedder.encode(texts)
    held = _rss_mb()
    embedder.release_memory()
    assert _rss_mb() < held - 50  # the arena's working memory is returned (about 0.2 GB here)
    assert np.array_equal(embedder.encode(texts), before)


def test_processes_starting_together_export_the_model_once_and_share_it(tmp_path, monkeypatch) -> None:
    import threading
    import time

    from qa.indexing import onnx_embedder

    model = tmp_path / "model"
    model.mkdir()
    (model / "model.safetensors").write_bytes(b"weights")
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))
    exports: list[Path] = []

    def slow_export(folder: Path, target: Path) -> None:
        exports.append(target)
        time.sleep(0.3)  # long enough for every other caller to arrive meanwhile
        target.write_bytes(f"export {len(exports)}".encode())

    monkeypatch.setattr(onnx_embedder, "_export_quantised", slow_export)
    found: list[Path] = []
    callers = [threading.Thread(target=lambda: found.append(onnx_embedder.quantised_model(model))) for _ in range(4)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    assert len(exports) == 1 and len(set(found)) == 1 and found[0].read_bytes() == b"export 1"
