"""Train the built-in passage reader (see `qa/passage_reader.py`) on SQuAD's training half.

    python -m eval.train_reader                 # writes qa/models/passage_reader.safetensors

Examples are the sentences the pipeline itself ranks highest for each training question
(hard negatives included), plus the gold sentence when the ranker missed it. Only the
low-rank updates and the two heads are trained; the base model stays as shipped.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from eval.squad import load_squad
from eval.train import SQUAD, WORK, folds, queries_of
from qa.answer.ranking import rank_sentences
from qa.api import build_index
from qa.config import settings_from_env
from qa.indexing.embedder import resolve_model
from qa.read.passage import LORA_TARGETS, MAX_LENGTH, WEIGHTS, build_network, save_updates
from qa.answer.question import analyse

CANDIDATES = 8


@dataclass(frozen=True)
class Example:
    question: str
    passage: str
    answer: tuple[int, int] | None  # character span inside the passage


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.train_reader", description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument(
        "--hold-out-fold", choices=("even", "odd"), help="keep one fold of articles out (see eval.train.folds)"
    )
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    args = parser.parse_args(argv)
    random.seed(0)
    examples, dev = collect(args.limit, args.hold_out_fold)
    print(f"{len(examples)} training passages, {sum(e.answer is not None for e in examples)} with an answer", file=sys.stderr)
    heads, updates = train(examples, dev, args)
    save_updates(args.out, heads, updates)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB)", file=sys.stderr)
    return 0


def collect(limit: int, hold_out: str | None) -> tuple[list[Example], list[Example]]:
    """Passages for every single-part training question: the top candidates and the gold sentence.

    Questions of the held-out fold, if any, go to the second list (a check, not training).
    """
    settings = settings_from_env()
    evalset = load_squad(SQUAD, WORK, split="train")
    questions = [q for q in evalset.questions if len(analyse(q.question).parts) == 1]
    if limit:
        questions = questions[:limit]
    index = build_index(evalset.corpus_dir, settings=settings)
    even, odd = folds(questions)
    kept_out = {"even": even, "odd": odd}.get(hold_out or "", set())
    train, dev = [], []
    for question, query in zip(questions, queries_of(questions, settings)):
        ranking = rank_sentences(index, analyse(question.question).parts[0], query, settings)
        chosen = [s for s, _ in ranking.ranked[:CANDIDATES]]
        for span in question.evidence:
            gold = _sentence_at(index, span.doc_id, span.start)
            if gold is not None and gold not in chosen:
                chosen.append(gold)
        target = dev if set(question.gold_doc_ids) & kept_out else train
        for s in chosen:
            text = index.sentences[s].text
            target.append(Example(question.question, text, _locate(text, question.answers)))
    return train, dev


def _sentence_at(index, doc_id: str, offset: int) -> int | None:
    for i, sentence in enumerate(index.sentences):
        if sentence.doc_id == doc_id and sentence.start <= offset < sentence.end:
            return i
    return None


def _locate(text: str, answers: tuple[str, ...]) -> tuple[int, int] | None:
    for answer in answers:
        at = text.find(answer)
        if at < 0:
            at = text.lower().find(answer.lower())
        if at >= 0 and answer.strip():
            return at, at + len(answer)
    return None


def train(examples: list[Example], dev: list[Example], args: argparse.Namespace) -> tuple[dict, dict]:
    """Fit the LoRA updates and heads; returns (head tensors, {layer: (A, B, scale)})."""
    import torch
    from transformers import AutoTokenizer

    torch.manual_seed(0)
    base = resolve_model("all-MiniLM-L6-v2")
    tokenizer = AutoTokenizer.from_pretrained(base)
    net = build_network(base)
    adapters = add_lora(net, args.rank) if args.rank else {}
    trainable = [p for p in net.parameters() if p.requires_grad]
    print(f"trainable parameters: {sum(p.numel() for p in trainable)}", file=sys.stderr)
    groups = _groups(examples, _encode(tokenizer, examples))
    optimizer = torch.optim.AdamW(trainable, lr=args.lr, weight_decay=0.01)
    steps = math.ceil(len(examples) / args.batch * args.epochs)
    warmup = max(1, steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup)))
    )
    net.train()
    started, step = time.time(), 0
    while step < steps:
        random.shuffle(groups)
        for batch in _batches(groups, args.batch):
            if step >= steps:
                break
            loss = _loss(net, batch, torch)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            step += 1
            if step % 50 == 0:
                print(f"step {step}/{steps} loss {loss.item():.3f} {time.time() - started:.0f}s", file=sys.stderr)
    net.eval()
    if dev:
        _check(net, tokenizer, dev, torch)
    heads = {k: v for k, v in net.state_dict().items() if k.startswith(("span_head", "relevance_head"))}
    return heads, {name: (a.lora_A, a.lora_B, a.scale) for name, a in adapters.items()}


def add_lora(net, rank: int) -> dict:
    """Wrap the targeted linear layers of the encoder with trainable low-rank updates."""
    import torch

    class LoRALinear(torch.nn.Module):
        def __init__(self, base: torch.nn.Linear) -> None:
            super().__init__()
            self.base = base
            self.lora_A = torch.nn.Parameter(torch.empty(rank, base.in_features))
            self.lora_B = torch.nn.Parameter(torch.zeros(base.out_features, rank))
            torch.nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
            self.scale = 2.0  # alpha / rank with alpha = 2 * rank
            self.dropout = torch.nn.Dropout(0.05)

        def forward(self, x):  # noqa: ANN001, ANN201
            return self.base(x) + (self.dropout(x) @ self.lora_A.T @ self.lora_B.T) * self.scale

    for parameter in net.encoder.parameters():
        parameter.requires_grad = False
    adapters = {}
    for name, module in list(net.named_modules()):
        if isinstance(module, torch.nn.Linear) and name.startswith("encoder.") and name.endswith(LORA_TARGETS):
            parent_name, _, child = name.rpartition(".")
            wrapped = LoRALinear(module)
            setattr(net.get_submodule(parent_name), child, wrapped)
            adapters[name] = wrapped
    return adapters


def _encode(tokenizer, examples: list[Example]) -> list[tuple]:
    encoded = []
    for example in examples:
        e = tokenizer(example.question, example.passage, truncation="only_second", max_length=MAX_LENGTH,
                      return_offsets_mapping=True)
        start = end = 0
        if example.answer:
            a, b = example.answer
            context = [i for i, sid in enumerate(e.sequence_ids()) if sid == 1]
            inside = [i for i in context if e["offset_mapping"][i][1] > a and e["offset_mapping"][i][0] < b]
            if inside:
                start, end = inside[0], inside[-1]
        encoded.append((e["input_ids"], e["token_type_ids"], start, end, 1.0 if start else 0.0))
    return encoded


def _groups(examples: list[Example], encoded: list[tuple]) -> list[list[tuple]]:
    """Encoded passages grouped by question, each tagged with its group number."""
    by_question: dict[str, list[tuple]] = {}
    for example, item in zip(examples, encoded):
        by_question.setdefault(example.question, []).append(item)
    return list(by_question.values())


def _batches(groups: list[list[tuple]], size: int):  # noqa: ANN201
    """Whole questions per batch, about `size` passages each."""
    batch: list[tuple] = []
    for number, group in enumerate(groups):
        batch.extend((*item, number) for item in group)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _loss(net, batch: list[tuple], torch):  # noqa: ANN001
    width = max(len(b[0]) for b in batch)
    ids = torch.tensor([b[0] + [0] * (width - len(b[0])) for b in batch])
    types = torch.tensor([b[1] + [0] * (width - len(b[1])) for b in batch])
    mask = (ids != 0).long()
    mask[:, 0] = 1
    starts, ends, relevance = net(ids, mask, types)
    starts = starts.masked_fill(mask == 0, -1e4)
    ends = ends.masked_fill(mask == 0, -1e4)
    # The span head learns from passages that hold the answer. The relevance head learns to
    # rank each question's passages (listwise softmax, the answer-bearing ones on top) and to
    # keep an absolute scale for abstention (pointwise, half weight).
    answered = torch.tensor([b[4] > 0 for b in batch])
    relevance_loss = 0.5 * torch.nn.functional.binary_cross_entropy_with_logits(relevance, answered.float())
    numbers = [b[5] for b in batch]
    for number in set(numbers):
        rows = torch.tensor([n == number for n in numbers])
        if answered[rows].any():
            log_soft = torch.log_softmax(relevance[rows], dim=0)
            relevance_loss = relevance_loss - torch.logsumexp(log_soft[answered[rows]], dim=0) / len(set(numbers))
    if not answered.any():
        return relevance_loss
    cross = torch.nn.functional.cross_entropy
    start_gold = torch.tensor([b[2] for b in batch])[answered]
    end_gold = torch.tensor([b[3] for b in batch])[answered]
    span_loss = (cross(starts[answered], start_gold) + cross(ends[answered], end_gold)) / 2
    return span_loss + relevance_loss


def _check(net, tokenizer, dev: list[Example], torch) -> None:  # noqa: ANN001
    from eval.metrics import token_f1
    from qa.read.base import best_spans

    f1s, right = [], []
    by_question: dict[str, list[tuple[float, bool]]] = {}
    with torch.inference_mode():
        for example in dev:
            e = tokenizer(example.question, example.passage, truncation="only_second", max_length=MAX_LENGTH,
                          return_offsets_mapping=True, return_tensors="pt")
            offsets = e.pop("offset_mapping")[0].tolist()
            starts, ends, relevance = net(e["input_ids"], e["attention_mask"], e["token_type_ids"])
            by_question.setdefault(example.question, []).append((float(relevance[0]), example.answer is not None))
            if example.answer:
                context = [i for i, sid in enumerate(e.sequence_ids(0)) if sid == 1]
                spans = best_spans(0, context, offsets, starts[0].tolist(), ends[0].tolist())
                guess = example.passage[spans[0].start : spans[0].end] if spans else ""
                f1s.append(token_f1(guess, [example.passage[example.answer[0] : example.answer[1]]]))
    for readings in by_question.values():
        right.append(max(readings)[1])
    print(f"dev: span F1 on answer passages {sum(f1s) / max(len(f1s), 1):.3f}; "
          f"most relevant passage has the answer {sum(right) / max(len(right), 1):.3f}", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
