"""The int8 models compute the same integer sums on every x86 CPU (`qa.indexing.onnx_embedder.quantise`)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper, numpy_helper

from qa.config import Settings
from qa.indexing.reuse import reusable_from
from qa.read.passage import WEIGHTS


def integer_weights(path: Path) -> list[np.ndarray]:
    """The weights every integer matrix product of the ONNX file multiplies by."""
    model = onnx.load(str(path))
    tensors = {t.name: t for t in model.graph.initializer}
    return [numpy_helper.to_array(tensors[n.input[1]]) for n in model.graph.node if n.op_type == "MatMulInteger"]


def test_onnx_runtime_sums_7_bit_weights_by_the_largest_activations_exactly() -> None:
    # an AVX2 CPU without VNNI adds each pair of uint8 x int8 products in 16 bits, saturating,
    # so 8-bit weights (255 x 127 x 2 > 32,767) give other sums there than on a VNNI CPU
    rng = np.random.default_rng(0)
    activations = rng.integers(192, 256, size=(8, 384)).astype(np.uint8)
    weights = rng.choice([-64, -63, 63, 64], size=(384, 32)).astype(np.int8)
    graph = helper.make_graph(
        [helper.make_node("MatMulInteger", ["A", "W"], ["Y"])], "product",
        [helper.make_tensor_value_info("A", TensorProto.UINT8, list(activations.shape))],
        [helper.make_tensor_value_info("Y", TensorProto.INT32, [8, 32])],
        [numpy_helper.from_array(weights, "W")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    (sums,) = session.run(None, {"A": activations})
    assert np.array_equal(sums, activations.astype(np.int64) @ weights.astype(np.int64))


def test_every_integer_weight_of_the_shipped_reader_is_within_7_bits() -> None:
    weights = integer_weights(WEIGHTS)
    assert len(weights) == 38  # six layers of six products, and the two heads
    assert all(w.dtype == np.int8 and np.abs(w.astype(np.int16)).max() <= 64 for w in weights)


def test_vectors_of_another_quantisation_are_never_reused() -> None:
    settings = Settings()
    assert settings.index_shape()["embedding_runtime"] == "onnx-int8-w7"
    built_by_the_8_bit_export = SimpleNamespace(
        manifest={"model": settings.model, "settings": {**settings.index_shape(), "embedding_runtime": "onnx-int8"}}
    )
    assert not reusable_from(built_by_the_8_bit_export, settings, "pipeline").same_vectors
