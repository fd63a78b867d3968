"""The reader's weights on disk: training checkpoints, the trained tensors in parts small
enough to come back from a GPU machine, and the int8 ONNX export the product loads.

Needs only torch (and, for `export`, onnxruntime), like `eval.train_reader`.
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
    """Write the network as ONNX with int8 weights (per output channel), atomically."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

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
        quantize_dynamic(str(plain), str(partial), weight_type=QuantType.QInt8, per_channel=True)
        os.replace(partial, out)
    finally:
        plain.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)
