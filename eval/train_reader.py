"""Train the built-in passage reader on SQuAD v1.1 train, resumably, and export it as int8 ONNX.

    python -m eval.train_reader --questions 40000      # trains; checkpoints every few minutes
    python -m eval.train_reader --questions 40000      # run again after a cut: resumes
    python -m eval.train_reader --export-only          # writes qa/models/passage_reader.onnx

The network is the packaged all-MiniLM-L6-v2 encoder, fully fine-tuned (the embeddings
and the two lowest layers stay frozen, which saves a third of the backward pass), with
a start/end span head over the tokens and a relevance head on [CLS]. Each question is
read with its gold sentence and three hard negatives from its article
(`eval.reader_data`). The span head learns from gold sentences; the relevance head
learns to put each question's gold sentence on top (listwise softmax) and keeps an
absolute scale for abstention (pointwise, half weight).

Every checkpoint (model, optimiser, schedule, step; written atomically) is followed by a
line in `<work>/log.jsonl` with held-out figures on 400 questions of the dev half's
held-out articles: span EM/F1 on the gold sentence and how often the reader ranks the
gold sentence first among its group.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from eval.reader_data import Group, groups_of, heldout_articles, training_articles
from qa.indexing.embedder import resolve_model
from qa.read.passage import INPUTS, MAX_LENGTH, OUTPUTS, WEIGHTS

WORK = Path(__file__).resolve().parent / ".work" / "reader"
HELDOUT_QUESTIONS = 400
FROZEN = ("embeddings.", "encoder.layer.0.", "encoder.layer.1.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.train_reader", description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=0, help="training questions (0: all, about 87k)")
    parser.add_argument("--negatives", type=int, default=3)
    parser.add_argument("--batch-questions", type=int, default=8, help="questions per step (each with its negatives)")
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--checkpoint-minutes", type=float, default=5.0)
    parser.add_argument("--work", type=Path, default=WORK)
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    parser.add_argument("--export-only", action="store_true", help="export the last checkpoint and stop")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    from transformers import AutoTokenizer

    base = resolve_model("all-MiniLM-L6-v2")
    tokenizer = AutoTokenizer.from_pretrained(base)
    net = build_network(base)
    args.work.mkdir(parents=True, exist_ok=True)
    checkpoint = args.work / "checkpoint.pt"
    if not args.export_only:
        train(net, tokenizer, args, checkpoint, torch)
    elif checkpoint.is_file():
        net.load_state_dict(torch.load(checkpoint, weights_only=False)["net"])
    else:
        raise SystemExit(f"no checkpoint in {args.work}; train first")
    export(net, tokenizer, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 2**20:.1f} MiB)", file=sys.stderr)
    return 0


def build_network(base_path: str) -> Any:
    """The reader network: the base encoder with a span head and a relevance head (fresh)."""
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


def train(net: Any, tokenizer: Any, args: argparse.Namespace, checkpoint: Path, torch: Any) -> None:
    """Train to the end of one pass over the chosen questions, resuming from `checkpoint`."""
    started = time.time()
    groups = groups_of(training_articles(), args.negatives)
    random.Random(0).shuffle(groups)
    if args.questions:
        groups = groups[: args.questions]
    heldout = groups_of(heldout_articles(), args.negatives)
    random.Random(1).shuffle(heldout)
    heldout = heldout[:HELDOUT_QUESTIONS]
    batches = _batches(groups, args.batch_questions)
    print(f"{len(groups)} questions, {len(batches)} steps; data ready in {time.time() - started:.0f}s", file=sys.stderr)
    for name, parameter in net.encoder.named_parameters():
        parameter.requires_grad = not name.startswith(FROZEN)
    heads = [p for n, p in net.named_parameters() if n.startswith(("span_head", "relevance_head"))]
    body = [p for n, p in net.named_parameters() if p.requires_grad and not n.startswith(("span_head", "relevance_head"))]
    optimizer = torch.optim.AdamW([{"params": body, "lr": args.lr}, {"params": heads, "lr": args.lr * 10}], weight_decay=0.01)
    warmup = max(1, len(batches) // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (len(batches) - s) / max(1, len(batches) - warmup)))
    )
    step = 0
    if checkpoint.is_file():
        state = torch.load(checkpoint, weights_only=False)
        if state["steps"] != len(batches):  # a shorter or longer run: the schedule is stretched to fit
            print(f"{checkpoint} was a run of {state['steps']} steps; continuing as one of {len(batches)}", file=sys.stderr)
        net.load_state_dict(state["net"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        step = state["step"]
        print(f"resumed at step {step}", file=sys.stderr)
    net.train()
    saved, losses, begun, first = time.time(), [], time.time(), step
    while step < len(batches):
        loss = _loss(net, tokenizer, batches[step], torch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for p in net.parameters() if p.requires_grad], 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        step += 1
        losses.append(loss.item())
        if step % 50 == 0:
            rate = (step - first) * args.batch_questions / (time.time() - begun)
            print(f"step {step}/{len(batches)} loss {sum(losses[-50:]) / 50:.3f} {rate:.1f} questions/s", file=sys.stderr, flush=True)
        if step == len(batches) or time.time() - saved > args.checkpoint_minutes * 60:
            _save(checkpoint, net, optimizer, schedule, step, len(batches), torch)
            figures = check(net, tokenizer, heldout, torch)
            net.train()
            line = {"step": step, "steps": len(batches), "loss": sum(losses[-200:]) / max(1, len(losses[-200:])),
                    "time": time.strftime("%Y-%m-%dT%H:%M:%S"), **figures}
            with open(args.work / "log.jsonl", "a", encoding="utf-8") as log:
                log.write(json.dumps(line) + "\n")
            print(json.dumps(line), file=sys.stderr, flush=True)
            saved = time.time()
    net.eval()


def _batches(groups: list[Group], size: int) -> list[list[Group]]:
    """Batches of `size` questions, of similar lengths within a batch (less padding), in random order."""
    batches = []
    window = size * 64
    for offset in range(0, len(groups), window):
        chunk = sorted(groups[offset : offset + window], key=lambda g: len(g.question) + max(len(p.text) for p in g.passages))
        batches.extend(chunk[i : i + size] for i in range(0, len(chunk), size))
    random.Random(2).shuffle(batches)
    return batches


def encode(tokenizer: Any, groups: list[Group]) -> Any:
    """The (question, passage) pairs of `groups`, in order, as one padded batch with offsets."""
    questions = [g.question for g in groups for _ in g.passages]
    texts = [p.text for g in groups for p in g.passages]
    return tokenizer(questions, texts, truncation="only_second", max_length=MAX_LENGTH,
                     padding=True, return_offsets_mapping=True, return_tensors="pt")


def _targets(encoded: Any, row: int, answer: tuple[int, int]) -> tuple[int, int]:
    offsets = encoded["offset_mapping"][row].tolist()
    inside = [i for i, sid in enumerate(encoded.sequence_ids(row)) if sid == 1
              and offsets[i][1] > answer[0] and offsets[i][0] < answer[1]]
    return (inside[0], inside[-1]) if inside else (0, 0)


def _loss(net: Any, tokenizer: Any, batch: list[Group], torch: Any) -> Any:
    encoded = encode(tokenizer, batch)
    starts, ends, relevance = net(encoded["input_ids"], encoded["attention_mask"], encoded["token_type_ids"])
    mask = encoded["attention_mask"] == 0
    starts, ends = starts.masked_fill(mask, -1e4), ends.masked_fill(mask, -1e4)
    gold_rows, gold_starts, gold_ends, row = [], [], [], 0
    relevance_loss = 0.0
    answered = torch.zeros(len(encoded["input_ids"]))
    for group in batch:
        rows = slice(row, row + len(group.passages))
        answered[row] = 1.0
        start, end = _targets(encoded, row, group.passages[0].answer)
        if start:
            gold_rows.append(row)
            gold_starts.append(start)
            gold_ends.append(end)
        relevance_loss = relevance_loss - torch.log_softmax(relevance[rows], dim=0)[0] / len(batch)
        row += len(group.passages)
    relevance_loss = relevance_loss + 0.5 * torch.nn.functional.binary_cross_entropy_with_logits(relevance, answered)
    if not gold_rows:
        return relevance_loss
    cross = torch.nn.functional.cross_entropy
    picked = torch.tensor(gold_rows)
    span_loss = (cross(starts[picked], torch.tensor(gold_starts)) + cross(ends[picked], torch.tensor(gold_ends))) / 2
    return span_loss + relevance_loss


def check(net: Any, tokenizer: Any, heldout: list[Group], torch: Any) -> dict[str, float]:
    """Held-out span EM/F1 on gold sentences, and how often the gold sentence reads as most relevant."""
    from eval.metrics import exact_match, token_f1
    from qa.read.base import best_spans

    net.eval()
    em = f1 = top = 0.0
    with torch.inference_mode():
        for group in heldout:
            encoded = encode(tokenizer, [group])
            starts, ends, relevance = net(encoded["input_ids"], encoded["attention_mask"], encoded["token_type_ids"])
            top += float(int(relevance.argmax()) == 0)
            context = [i for i, sid in enumerate(encoded.sequence_ids(0)) if sid == 1]
            spans = best_spans(0, context, encoded["offset_mapping"][0].tolist(), starts[0].tolist(), ends[0].tolist())
            guess = group.passages[0].text[spans[0].start : spans[0].end] if spans else ""
            em += exact_match(guess, list(group.answers))
            f1 += token_f1(guess, list(group.answers))
    n = max(1, len(heldout))
    return {"heldout_em": round(em / n, 4), "heldout_f1": round(f1 / n, 4), "heldout_gold_first": round(top / n, 4)}


def _save(path: Path, net: Any, optimizer: Any, schedule: Any, step: int, steps: int, torch: Any) -> None:
    partial = path.with_suffix(".partial")
    torch.save({"net": net.state_dict(), "optimizer": optimizer.state_dict(), "schedule": schedule.state_dict(),
                "step": step, "steps": steps}, partial)
    os.replace(partial, path)


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


if __name__ == "__main__":
    raise SystemExit(main())
