"""The built-in passage reader: all-MiniLM-L6-v2 read as a cross-encoder, with two heads.

For a (question, sentence) pair it gives a relevance logit (does the sentence answer
the question?) and start/end logits over the sentence's tokens (where is the answer?).
Its weights are small low-rank updates (LoRA, Hu et al. 2021) to the bundled
all-MiniLM-L6-v2 plus the two heads, learned by `eval/train_reader.py` on the training
half of SQuAD and stored in `qa/models/passage_reader.safetensors` (no pickle).
At load time the updates are merged into the base weights, so reading costs one
ordinary forward pass.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from qa.errors import ModelError
from qa.lazy import OncePerKey
from qa.read.base import Reading, read_pairs

WEIGHTS = Path(__file__).resolve().parent.parent / "models" / "passage_reader.safetensors"
MAX_LENGTH = 128
_LORA_A, _LORA_B, _LORA_SCALE = ".lora_A", ".lora_B", ".lora_scale"
LORA_TARGETS = ("query", "key", "value", "attention.output.dense", "intermediate.dense", "output.dense")


def build_network(base_path: str) -> Any:
    """The reader network (base encoder and heads) with the base weights loaded, heads fresh."""
    import torch
    from transformers import AutoModel

    class PassageReaderNet(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = AutoModel.from_pretrained(base_path, add_pooling_layer=False)
            hidden = self.encoder.config.hidden_size
            self.span_head = torch.nn.Linear(hidden, 2)
            self.relevance_head = torch.nn.Linear(hidden, 1)

        def forward(self, input_ids, attention_mask, token_type_ids):  # noqa: ANN001, ANN201
            states = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            logits = self.span_head(states)
            return logits[..., 0], logits[..., 1], self.relevance_head(states[:, 0]).squeeze(-1)

    return PassageReaderNet()


class PassageReader:
    """The trained reader, ready to read on the CPU."""

    def __init__(self, weights: Path = WEIGHTS, base_model: str = "all-MiniLM-L6-v2") -> None:
        if not weights.is_file():
            raise ModelError(f"the passage reader weights {weights} are missing; run `python -m eval.train_reader`")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from safetensors.torch import load_file
        from transformers import AutoTokenizer

        from qa.indexing.embedder import resolve_model

        base = resolve_model(base_model)
        self._torch = torch
        self._tokenizer = AutoTokenizer.from_pretrained(base)
        self._net = build_network(base)
        merge_updates(self._net, load_file(str(weights)))
        self._net.eval()

    def read(self, question: str, passages: list[str]) -> list[Reading]:
        """Relevance and best spans of each passage for `question`, in passage order."""
        return read_pairs(self._tokenizer, self._forward, question, passages, MAX_LENGTH)

    def _forward(self, encoded: dict[str, Any]) -> tuple[Any, Any, Any]:
        with self._torch.inference_mode():
            return self._net(encoded["input_ids"], encoded["attention_mask"], encoded["token_type_ids"])


def save_updates(path: Path, heads: dict[str, Any], updates: dict[str, tuple[Any, Any, float]]) -> None:
    """Write the reader's weights as `merge_updates` reads them (safetensors, no pickle).

    Args:
        path: the .safetensors file to write.
        heads: state-dict tensors of the span and relevance heads.
        updates: per updated linear layer of the encoder, its LoRA (A, B, scale).
    """
    import torch
    from safetensors.torch import save_file

    tensors = {k: v.detach().clone().contiguous() for k, v in heads.items()}
    for name, (a, b, scale) in updates.items():
        tensors[f"{name}{_LORA_A}"] = a.detach().clone().contiguous()
        tensors[f"{name}{_LORA_B}"] = b.detach().clone().contiguous()
        tensors[f"{name}{_LORA_SCALE}"] = torch.tensor(scale)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path))


def merge_updates(net: Any, tensors: dict[str, Any]) -> None:
    """Load the heads and add each low-rank update B @ A (times its scale) to its base weight.

    Keys are as `save_updates` writes them: `<module>.lora_A`, `<module>.lora_B`,
    `<module>.lora_scale` for updated linear layers of the encoder, and plain state-dict
    keys for the heads.
    """
    modules = dict(net.named_modules())
    plain = {}
    for key, value in tensors.items():
        if key.endswith(_LORA_A):
            name = key[: -len(_LORA_A)]
            update = tensors[f"{name}{_LORA_B}"].float() @ value.float()
            modules[name].weight.data += update * float(tensors[f"{name}{_LORA_SCALE}"])
        elif not key.endswith((_LORA_B, _LORA_SCALE)):
            plain[key] = value.float()
    missing = {k for k in net.state_dict() if k.startswith(("span_head", "relevance_head"))} - set(plain)
    if missing:
        raise ModelError(f"the passage reader weights lack {sorted(missing)}; retrain with eval/train_reader.py")
    net.load_state_dict(plain, strict=False)


_readers: OncePerKey[Path, PassageReader] = OncePerKey(PassageReader)


def get_passage_reader(weights: Path = WEIGHTS) -> PassageReader:
    """The process-wide passage reader, loaded on first use."""
    return _readers.get(weights)
