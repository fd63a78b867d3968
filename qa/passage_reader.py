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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.errors import ModelError
from qa.lazy import OncePerKey
from qa.reader import ReadSpan, best_spans

WEIGHTS = Path(__file__).resolve().parent / "models" / "passage_reader.safetensors"
MAX_LENGTH = 128
LORA_TARGETS = ("query", "key", "value", "attention.output.dense", "intermediate.dense", "output.dense")


@dataclass(frozen=True)
class Reading:
    """What the reader says of one passage: relevance logit, best spans, token logits.

    `offsets` are the character spans of the passage's tokens; `starts` and `ends` their
    start and end logits, so any character span can be scored (see `score_span`).
    """

    relevance: float
    spans: tuple[ReadSpan, ...]
    offsets: tuple[tuple[int, int], ...]
    starts: tuple[float, ...]
    ends: tuple[float, ...]

    def score_span(self, start: int, end: int) -> float | None:
        """Start logit of the first token plus end logit of the last token inside [start, end)."""
        inside = [i for i, (a, b) in enumerate(self.offsets) if b > start and a < end]
        if not inside:
            return None
        return self.starts[inside[0]] + self.ends[inside[-1]]


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

        from qa.embedder import resolve_model

        base = resolve_model(base_model)
        self._torch = torch
        self._tokenizer = AutoTokenizer.from_pretrained(base)
        self._net = build_network(base)
        merge_updates(self._net, load_file(str(weights)))
        self._net.eval()

    def read(self, question: str, passages: list[str]) -> list[Reading]:
        """Relevance and best spans of each passage for `question`, in passage order."""
        if not passages:
            return []
        encoded = self._tokenizer(
            [question] * len(passages), passages, truncation="only_second", max_length=MAX_LENGTH,
            padding=True, return_offsets_mapping=True, return_tensors="pt",
        )
        offsets = encoded.pop("offset_mapping").tolist()
        with self._torch.inference_mode():
            starts, ends, relevance = self._net(
                encoded["input_ids"], encoded["attention_mask"], encoded["token_type_ids"]
            )
        readings = []
        for row in range(len(passages)):
            context = [i for i, sid in enumerate(encoded.sequence_ids(row)) if sid == 1]
            row_starts, row_ends = starts[row].tolist(), ends[row].tolist()
            spans = best_spans(row, context, offsets[row], row_starts, row_ends)
            readings.append(
                Reading(
                    relevance=float(relevance[row]),
                    spans=tuple(spans),
                    offsets=tuple((offsets[row][i][0], offsets[row][i][1]) for i in context),
                    starts=tuple(row_starts[i] for i in context),
                    ends=tuple(row_ends[i] for i in context),
                )
            )
        return readings


def merge_updates(net: Any, tensors: dict[str, Any]) -> None:
    """Load the heads and add each low-rank update B @ A (times its scale) to its base weight.

    Keys: `<module>.lora_A`, `<module>.lora_B`, `<module>.lora_scale` for updated linear
    layers of the encoder, and plain state-dict keys for the heads.
    """
    modules = dict(net.named_modules())
    plain = {}
    for key, value in tensors.items():
        if key.endswith(".lora_A"):
            name = key[: -len(".lora_A")]
            update = tensors[f"{name}.lora_B"].float() @ value.float()
            modules[name].weight.data += update * float(tensors[f"{name}.lora_scale"])
        elif not key.endswith((".lora_B", ".lora_scale")):
            plain[key] = value.float()
    missing = {k for k in net.state_dict() if k.startswith(("span_head", "relevance_head"))} - set(plain)
    if missing:
        raise ModelError(f"the passage reader weights lack {sorted(missing)}; retrain with eval/train_reader.py")
    net.load_state_dict(plain, strict=False)


_readers: OncePerKey[Path, PassageReader] = OncePerKey(PassageReader)


def get_passage_reader(weights: Path = WEIGHTS) -> PassageReader:
    """The process-wide passage reader, loaded on first use."""
    return _readers.get(weights)
