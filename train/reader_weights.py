"""The reader's weights on disk: training checkpoints, the trained tensors in parts small
enough to come back from a GPU machine, and the int8 ONNX export the product loads.

Needs only torch (and, for `export`, onnxruntime), like `train.reader`.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

from qa.read.passage import INPUTS, OUTPUTS

PART_BYTES = 15 * 2**20


def save_checkpoint(path: Path, net: Any, optimizer: Any, schedule: Any, step: int, steps: int, torch: Any) -> None:
    """Model, optimiser, schedule and step, written atomically (training resumes from it)."""
    partial = path.with_suffix(".partial")
    torch.save({"net": net.state_dict(), "optimizer": optimizer.state_dict(), "schedule": schedule.state_dict(),
                "step": step, "steps": steps}, partial)
    os.replace(partial, path)


def save_parts(net: Any, folder: Path, torch: Any) -> None:
    """The tensors that training changes, float32 on the CPU, in files of at most PART_BYTES."""
    folder.mkdir(parents=True, exist_ok=True)
    trained = {n for n, p in net.named_parameters() if p.requires_grad}
    parts: list[dict[str, Any]] = [{}]
    size = 0
    for name, tensor in net.state_dict().items():
        if name not in trained:
            continue
        nbytes = tensor.numel() * 4
        if size and size + nbytes > PART_BYTES:
            parts.append({})
            size = 0
        parts[-1][name] = tensor.detach().float().cpu().clone()
        size += nbytes
    for old in folder.glob("part-*.pt"):
        old.unlink()
    for number, part in enumerate(parts):
        partial = folder / f"part-{number}.partial"
        torch.save(part, partial)
        os.replace(partial, folder / f"part-{number}.pt")


def load_parts(net: Any, folder: Path, torch: Any) -> None:
    """Lay the tensors of `save_parts` over the base network; every head must be among them."""
    state = {}
    for path in sorted(folder.glob("part-*.pt")):
        state.update(torch.load(path, weights_only=True))
    missing = [n for n in net.state_dict() if n.startswith(("span_head", "relevance_head")) and n not in state]
    if not state or missing:
        raise SystemExit(f"{folder} holds no complete set of trained tensors (missing {missing or 'all'})")
    net.load_state_dict(state, strict=False)


def export(net: Any, tokenizer: Any, out: Path) -> None:
    """Write the network as ONNX with int8 weights (per output channel, within 7 bits:
    `qa.indexing.onnx_embedder.quantise`), atomically."""
    import torch

    from qa.indexing.onnx_embedder import quantise

    net.eval()
    sample = tokenizer(["a question?", "another question"], ["a passage", "a longer passage, with words"],
                       padding=True, return_tensors="pt")
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, OUTPUTS[0], OUTPUTS[1])} | {OUTPUTS[2]: {0: "batch"}}
    plain, partial = out.with_suffix(".fp32.tmp"), out.with_suffix(".int8.tmp")
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(net, tuple(sample[k] for k in INPUTS), str(plain), input_names=list(INPUTS),
                              output_names=list(OUTPUTS), dynamic_axes=axes, opset_version=17, dynamo=False)
        quantise(plain, partial)
        os.replace(partial, out)
    finally:
        plain.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)


def recover_from_onnx(net: Any, onnx_path: Path, torch: Any) -> list[str]:
    """Lay the int8 export's weights, dequantised, over `net`; returns the tensors recovered.

    `quantize_dynamic` stored each linear layer's weight as int8 per output channel with a
    scale and zero point (`w = (q - zero) * scale`) under an anonymous name; the layer it
    belongs to is found by following the graph from its integer product to the `Add` of
    the layer's bias, which keeps its name. Embeddings (frozen in training) are left as the
    base model has them: their int8 copies would only lose precision.
    """
    import numpy as np
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(onnx_path))
    tensors = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    consumers: dict[str, list[Any]] = {}
    for node in model.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    state: dict[str, Any] = {}
    for node in model.graph.node:
        if node.op_type != "MatMulInteger" or not node.input[1].endswith("_quantized"):
            continue
        stem = node.input[1][: -len("_quantized")]
        quantised = tensors[node.input[1]].astype(np.float32)
        weight = (quantised - tensors[stem + "_zero_point"].astype(np.float32)) * tensors[stem + "_scale"]
        bias = _bias_after(node, consumers, tensors)
        if bias is None:
            raise ValueError(f"{onnx_path}: cannot tell which layer the weight {stem} belongs to")
        state[bias[: -len(".bias")] + ".weight"] = torch.from_numpy(np.ascontiguousarray(weight.T))
    for name, value in tensors.items():
        if name in net.state_dict() and value.dtype == np.float32:
            state[name] = torch.from_numpy(value.copy())
    unknown = sorted(set(state) - set(net.state_dict()))
    if unknown:
        raise ValueError(f"{onnx_path} holds tensors the network lacks: {unknown[:5]}")
    net.load_state_dict(state, strict=False)
    return sorted(state)


def _bias_after(node: Any, consumers: dict[str, list[Any]], tensors: dict[str, Any], depth: int = 6) -> str | None:
    """The name of the bias the output of `node` is added to, a few nodes downstream."""
    frontier = list(node.output)
    for _ in range(depth):
        following = [n for name in frontier for n in consumers.get(name, [])]
        for candidate in following:
            if candidate.op_type == "Add":
                named = [i for i in candidate.input if i in tensors and i.endswith(".bias")]
                if named:
                    return named[0]
        frontier = [o for n in following for o in n.output]
    return None


def save_trained(net: Any, path: Path, trained_prefixes: tuple[str, ...] = ("encoder.encoder.", "span_head", "relevance_head")) -> None:
    """The trained tensors (encoder layers and heads) as fp16 safetensors, written atomically.

    These ship beside the int8 reader so a later run continues from the trained weights
    rather than from the int8 copy (about 21 MB).
    """
    from safetensors.torch import save_file

    state = {n: t.detach().half().cpu().contiguous() for n, t in net.state_dict().items() if n.startswith(trained_prefixes)}
    partial = path.with_suffix(".partial")
    save_file(state, str(partial), metadata={"format": "pt", "dtype": "float16"})
    os.chmod(partial, 0o644)  # (safetensors writes 0600: a model file ships readable by all)
    os.replace(partial, path)


def load_trained(net: Any, path: Path) -> list[str]:
    """Lay the tensors of `save_trained` over `net` (as float32); returns their names."""
    from safetensors.torch import load_file

    state = {n: t.float() for n, t in load_file(str(path)).items()}
    missing = [n for n in net.state_dict() if n.startswith(("span_head", "relevance_head")) and n not in state]
    if missing:
        raise ValueError(f"{path} lacks the reader's heads ({missing})")
    net.load_state_dict(state, strict=False)
    return sorted(state)
