"""Train the built-in passage reader on SQuAD v1.1 train, resumably, and export it as int8 ONNX.

    python -m train.reader --questions 40000      # trains; checkpoints every few minutes
    python -m train.reader --questions 40000      # run again after a cut: resumes
    python -m train.reader --export-only          # writes qa/models/passage_reader.onnx
    python -m train.reader --export-only --work EMPTY  # the shipped reader's tensors quantised again

On a GPU machine (the released reader was trained so; see the README):

    python -m train.reader --groups-only --work W --negatives 5 --with-dev-half  # here: cut once
    python -m train.reader --work W --base B --device cuda --frozen-layers 0 --negatives 5 \
        --with-dev-half --batch-questions 32 --epochs 2 --parts P --no-export  # there: B, the base folder
    python -m train.reader --export-only --from-parts P --frozen-layers 0

The network is the packaged all-MiniLM-L6-v2 encoder, fine-tuned (the embeddings stay
frozen, and by default the two lowest layers too, which saves a third of the backward
pass on a CPU), with
a start/end span head over the tokens and a relevance head on [CLS]. Each question is
read with its gold sentence and --negatives hard negatives from its article
(`train.reader_data`); `train/reader_gpu.sh` is the next GPU run, prepared. The span head learns from gold sentences; the relevance head
learns to put each question's gold sentence on top (listwise softmax) and keeps an
absolute scale for abstention (pointwise, half weight).

Every checkpoint (model, optimiser, schedule, step; written atomically) is followed by a
line in `<work>/log.jsonl` with held-out figures on 400 questions of the dev half's
held-out articles: span EM/F1 on the gold sentence and how often the reader ranks the
gold sentence first among its group. With `--parts`, each checkpoint also writes the
tensors that training changes (float32, in files under 15 MiB) to that folder, which is
what comes back from a GPU machine; `--export-only --from-parts` lays them over the base.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from train.reader_data import (
    SQUAD_TRAIN, Group, Passage, cached_groups, context_lookup, heldout_articles, load_articles, training_articles,
)
from train.reader_weights import (
    export, load_parts, load_trained, recover_from_onnx, save_checkpoint, save_parts, save_trained,
)
from qa.read.base import first_text
from qa.read.passage import CONTEXT_MAX_LENGTH, INPUTS, MAX_LENGTH, WEIGHTS, card_path, write_card

WORK = Path(__file__).resolve().parent / ".work" / "reader"
READ_CONTEXT = False  # pairs read alone (`--context`: with their sentence's headline and the sentence before)
HELDOUT_QUESTIONS = 400


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.reader", description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=0, help="training questions (0: all, about 87k)")
    parser.add_argument(
        "--skip", type=int, default=0,
        help="leave out the first N shuffled training questions and unanswerable pairs (a run continuing "
        "from a reader trained on --questions N reads fresh ones)",
    )
    parser.add_argument("--negatives", type=int, default=3)
    parser.add_argument("--batch-questions", type=int, default=8, help="questions per step (each with its negatives)")
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument(
        "--span-weight", type=float, default=1.0,
        help="weight of the span loss beside the relevance loss (above 1: the no-answer score "
        "moves the spans less; see docs/training.md)",
    )
    parser.add_argument("--epochs", type=int, default=1, help="passes over the chosen questions")
    parser.add_argument(
        "--with-dev-half", action="store_true",
        help="also train on the dev file's training half (which the stacking models learn from; "
        "without it, they see the reader's scores on questions it never read)",
    )
    parser.add_argument("--frozen-layers", type=int, default=2, help="lowest encoder layers kept frozen")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu", help="cpu, or cuda on a GPU machine")
    parser.add_argument("--base", default="all-MiniLM-L6-v2", help="base encoder: a name or a folder")
    parser.add_argument("--checkpoint-minutes", type=float, default=5.0)
    parser.add_argument("--max-minutes", type=float, default=0, help="save and stop after this long (0: never)")
    parser.add_argument("--work", type=Path, default=WORK)
    parser.add_argument("--parts", type=Path, help="also write the trained tensors here at each checkpoint")
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    parser.add_argument(
        "--init", default="shipped", metavar="shipped|base|PATH",
        help="start from the shipped reader's trained tensors (qa/models/passage_reader.safetensors, else "
        "recovered from the int8 ONNX), from the base encoder with fresh heads, or from a reader's .safetensors "
        "or int8 .onnx file",
    )
    parser.add_argument(
        "--context", action="store_true",
        help="read each sentence with its article's headline and the end of the sentence before (192 tokens; "
        "the released reader reads each sentence alone, 128 tokens: see docs/training.md)",
    )
    parser.add_argument(
        "--unanswerable", type=Path,
        help="unanswerable (question, sentence) pairs of `python -m train.negatives`: each read alone, "
        "its relevance taught to stay under the no-answer score",
    )
    parser.add_argument("--unanswerable-questions", type=int, default=0, help="how many of those pairs (0: all)")
    parser.add_argument("--groups-only", action="store_true", help="cut and cache the questions, then stop")
    parser.add_argument("--export-only", action="store_true", help="export the last checkpoint and stop")
    parser.add_argument("--no-export", action="store_true", help="train only (export where the parts come back)")
    parser.add_argument("--from-parts", type=Path, help="with --export-only: the trained tensors of --parts")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args.work.mkdir(parents=True, exist_ok=True)
    if args.groups_only:
        _training_groups(args)
        _heldout_groups(args)
        return 0
    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    torch.backends.cuda.matmul.allow_tf32 = True
    from transformers import AutoTokenizer

    base = args.base if Path(args.base).is_dir() else _resolve_model(args.base)
    tokenizer = AutoTokenizer.from_pretrained(base)
    net = build_network(base)
    global READ_CONTEXT
    READ_CONTEXT = args.context
    if args.init == "shipped" and not args.from_parts:
        print(f"starting from the shipped reader: {start_from_shipped(net, torch)}", file=sys.stderr)
    elif args.init != "base" and not args.from_parts:
        print(f"starting from {start_from(net, Path(args.init), torch)}", file=sys.stderr)
    checkpoint = args.work / "checkpoint.pt"
    if not args.export_only:
        train(net.to(args.device), tokenizer, args, checkpoint, torch)
        net = net.cpu()
    elif args.from_parts:
        load_parts(net, args.from_parts, torch)
    elif checkpoint.is_file():
        net.load_state_dict(torch.load(checkpoint, weights_only=False)["net"])
    elif args.init != "base":
        print("no checkpoint: exporting the --init weights as they are (a released reader quantised again)", file=sys.stderr)
    else:
        raise SystemExit(f"no checkpoint in {args.work}; train first")
    if args.no_export:
        return 0
    # read before the export replaces the card; a log counts only for the training run just made
    facts = _card_facts(args.out, None if args.export_only else args.work / "log.jsonl")
    facts["reads_context"] = READ_CONTEXT  # as every pair was laid out (`encode`)
    export(net, tokenizer, args.out)
    card = write_card(args.out, facts)
    save_trained(net, args.out.with_suffix(".safetensors"))
    print(f"wrote {args.out} ({args.out.stat().st_size / 2**20:.1f} MiB), its model card {card.name} (check that its "
          f"trained_on, training and reproduce say how this run went) and its trained tensors "
          f"{args.out.with_suffix('.safetensors').name}", file=sys.stderr)
    return 0


def _card_facts(out: Path, log: Path | None) -> dict[str, Any]:
    """What the new card says about training: the card it replaces (else the shipped one), with
    the held-out figures of this run's checkpoints from its `log`."""
    previous = card_path(out) if card_path(out).is_file() else card_path(WEIGHTS)
    facts = {key: value for key, value in json.loads(previous.read_text(encoding="utf-8")).items()
             if key in ("format", "architecture", "trained_on", "training", "reproduce", "held_out")}
    if log is not None and log.is_file():
        lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
        if lines:
            lines[-1]["shipped"] = True  # the export is of the last checkpoint
        facts["held_out"] = {"questions": f"{HELDOUT_QUESTIONS} questions of the dev half's held-out articles "
                             f"({log})", "checkpoints": lines}
    return facts


def start_from_shipped(net: Any, torch: Any) -> str:
    """Lay the shipped reader's trained tensors over `net`: the fp16 safetensors beside the
    int8 reader when present, else the int8 weights dequantised. Returns which it used."""
    trained = WEIGHTS.with_suffix(".safetensors")
    return start_from(net, trained if trained.is_file() else WEIGHTS, torch)


def start_from(net: Any, path: Path, torch: Any) -> str:
    """Lay a reader's trained tensors over `net`: a .safetensors file of them, or an int8 .onnx
    export dequantised. Returns what it used."""
    if path.suffix == ".safetensors":
        load_trained(net, path)
        return str(path)
    if path.suffix == ".onnx" and path.is_file():
        recover_from_onnx(net, path, torch)
        return f"{path} (int8 weights dequantised)"
    raise SystemExit(f"--init {path}: not a reader's .safetensors or .onnx file")


def _resolve_model(name: str) -> str:
    from qa.indexing.embedder import resolve_model

    return resolve_model(name)


def _training_groups(args: argparse.Namespace) -> list[Group]:
    """The training questions (cached in the work folder), shuffled, --questions of them after the
    first --skip; with the unanswerable pairs, as many of those after the first --skip."""
    name = f"train-groups-{args.negatives}{'-dev' if args.with_dev_half else ''}.json.gz"
    groups = cached_groups(args.work / name, lambda: training_articles(args.with_dev_half), args.negatives)
    random.Random(0).shuffle(groups)
    groups = groups[args.skip : args.skip + args.questions] if args.questions else groups[args.skip :]
    if args.unanswerable:
        pairs = unanswerable_groups(args.unanswerable, args.skip + args.unanswerable_questions if args.unanswerable_questions else 0)
        groups = groups + pairs[HELDOUT_QUESTIONS + args.skip :]
        random.Random(3).shuffle(groups)
    return groups


def unanswerable_groups(path: Path, count: int = 0) -> list[Group]:
    """The pairs of `python -m train.negatives` as one-passage groups with no answer, shuffled;
    the first HELDOUT_QUESTIONS are kept out of training to measure each checkpoint."""
    from train.negatives import read_negatives

    pairs = list(read_negatives(path))
    random.Random(4).shuffle(pairs)
    contexts = context_lookup(load_articles(SQUAD_TRAIN))
    groups = [Group(p.question, (Passage(p.sentence, None, contexts.get((p.article, p.sentence), "")),), ()) for p in pairs]
    return groups[: HELDOUT_QUESTIONS + count] if count else groups


def _heldout_groups(args: argparse.Namespace) -> list[Group]:
    """The held-out questions of every checkpoint's figures (cached in the work folder)."""
    heldout = cached_groups(args.work / f"heldout-groups-{args.negatives}.json.gz", heldout_articles, args.negatives)
    random.Random(1).shuffle(heldout)
    return heldout[:HELDOUT_QUESTIONS]


def freeze(net: Any, layers: int) -> None:
    """Keep the embeddings and the lowest `layers` encoder layers as they are; train the rest."""
    frozen = ("embeddings.", *(f"encoder.layer.{i}." for i in range(layers)))
    for name, parameter in net.encoder.named_parameters():
        parameter.requires_grad = not name.startswith(frozen)


def build_network(base_path: str) -> Any:
    """The reader network: the base encoder with a span head and a relevance head (fresh)."""
    import torch
    from transformers import AutoModel

    class PassageReaderNet(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = AutoModel.from_pretrained(base_path, add_pooling_layer=False).float()
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
    """Train to the end of --epochs passes over the chosen questions, resuming from `checkpoint`."""
    started = time.time()
    groups = _training_groups(args)
    heldout = _heldout_groups(args)
    kept_out = unanswerable_groups(args.unanswerable)[:HELDOUT_QUESTIONS] if args.unanswerable else []
    batches = [b for epoch in range(args.epochs) for b in _batches(groups, args.batch_questions, epoch)]
    print(f"{len(groups)} questions, {len(batches)} steps; data ready in {time.time() - started:.0f}s", file=sys.stderr)
    freeze(net, args.frozen_layers)
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
    if step == 0:  # where the run starts from, for the log's first line
        _log(args.work, {"step": 0, "steps": len(batches), **check(net, tokenizer, heldout, torch, args.device, kept_out)})
    net.train()
    saved, losses, begun, first = time.time(), [], time.time(), step
    # The next batch is tokenised on a thread (with a tokenizer of its own: a shared fast
    # tokenizer is not safe across threads) while this one runs on the device.
    ahead = copy.deepcopy(tokenizer)
    with ThreadPoolExecutor(1) as pool:
        upcoming = pool.submit(prepare, ahead, batches[step]) if step < len(batches) else None
        while step < len(batches):
            prepared = upcoming.result().to(args.device)
            if step + 1 < len(batches):
                upcoming = pool.submit(prepare, ahead, batches[step + 1])
            loss = step_loss(net, prepared, torch, args.span_weight)
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for p in net.parameters() if p.requires_grad], 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            step += 1
            losses.append(loss.detach())
            if step % 50 == 0:
                rate = (step - first) * args.batch_questions / (time.time() - begun)
                print(f"step {step}/{len(batches)} loss {_mean(losses[-50:]):.3f} {rate:.1f} questions/s",
                      file=sys.stderr, flush=True)
            out_of_time = args.max_minutes and time.time() - started > args.max_minutes * 60
            if step == len(batches) or out_of_time or time.time() - saved > args.checkpoint_minutes * 60:
                save_checkpoint(checkpoint, net, optimizer, schedule, step, len(batches), torch)
                if args.parts:
                    save_parts(net, args.parts, torch)
                figures = check(net, tokenizer, heldout, torch, args.device, kept_out)
                net.train()
                _log(args.work, {"step": step, "steps": len(batches), "loss": _mean(losses[-200:]), **figures})
                saved = time.time()
                losses = losses[-200:]
            if out_of_time:
                print(f"stopped at step {step} after --max-minutes {args.max_minutes}; run again to resume", file=sys.stderr)
                break
    net.eval()


def _log(work: Path, line: dict[str, Any]) -> None:
    """One line of held-out figures in `<work>/log.jsonl`, and on stderr."""
    line = {**line, "time": time.strftime("%Y-%m-%dT%H:%M:%S")}
    with open(work / "log.jsonl", "a", encoding="utf-8") as log:
        log.write(json.dumps(line) + "\n")
    print(json.dumps(line), file=sys.stderr, flush=True)


def _batches(groups: list[Group], size: int, epoch: int = 0) -> list[list[Group]]:
    """One pass in batches of `size` questions, of similar lengths within a batch (less padding),
    in random order; each epoch draws other batches (epoch 0 is the original single pass)."""
    if epoch:
        groups = groups[:]
        random.Random(100 + epoch).shuffle(groups)
    batches = []
    window = size * 64
    for offset in range(0, len(groups), window):
        chunk = sorted(groups[offset : offset + window], key=lambda g: len(g.question) + max(len(p.text) for p in g.passages))
        batches.extend(chunk[i : i + size] for i in range(0, len(chunk), size))
    random.Random(2 + epoch).shuffle(batches)
    return batches


def encode(tokenizer: Any, groups: list[Group]) -> Any:
    """The (question and context, passage) pairs of `groups`, in order, as one padded batch with
    offsets, laid out as the product reads them (`qa.read.base.encode_pairs`)."""
    questions = [g.question for g in groups for _ in g.passages]
    texts = [p.text for g in groups for p in g.passages]
    contexts = [p.context if READ_CONTEXT else "" for g in groups for p in g.passages]
    length = CONTEXT_MAX_LENGTH if READ_CONTEXT else MAX_LENGTH
    firsts = [first_text(tokenizer, q, c, length) for q, c in zip(questions, contexts)]
    return tokenizer(firsts, texts, truncation="only_second", max_length=length,
                     padding=True, return_offsets_mapping=True, return_tensors="pt")


@dataclass(frozen=True)
class Step:
    """One batch as the loss needs it, made on the tokenising thread so the device never waits on Python.

    `members[g, k]` is the row of group g's k-th passage (its gold passage at k = 0, when
    `has_gold[g]`: a group made unanswerable has none) and `present[g, k]` whether that
    passage exists (groups may have fewer negatives);
    `gold_rows` are the gold passages whose answer survived truncation, with the answer's
    first and last token in `gold_starts` / `gold_ends`.
    """

    inputs: tuple[Any, ...]
    members: Any
    present: Any
    has_gold: Any
    answered: Any
    gold_rows: Any
    gold_starts: Any
    gold_ends: Any

    def to(self, device: str) -> Step:
        inputs = tuple(t.to(device, non_blocking=True) for t in self.inputs)
        return Step(inputs, *(getattr(self, name).to(device, non_blocking=True) for name in _STEP_TENSORS))


_STEP_TENSORS = ("members", "present", "has_gold", "answered", "gold_rows", "gold_starts", "gold_ends")


def prepare(tokenizer: Any, groups: list[Group]) -> Step:
    """`encode` the groups and lay out every target of the loss as tensors."""
    import torch

    encoded = encode(tokenizer, groups)
    width = max(len(g.passages) for g in groups)
    members = torch.zeros((len(groups), width), dtype=torch.long)
    present = torch.zeros((len(groups), width), dtype=torch.bool)
    has_gold = torch.tensor([g.passages[0].answer is not None for g in groups])
    answered = torch.zeros(len(encoded["input_ids"]))
    gold_rows, gold_starts, gold_ends, row = [], [], [], 0
    for number, group in enumerate(groups):
        count = len(group.passages)
        members[number, :count] = torch.arange(row, row + count)
        present[number, :count] = True
        if group.passages[0].answer is None:
            row += count
            continue
        answered[row] = 1.0
        start, end = _targets(encoded, row, group.passages[0].answer)
        if start:
            gold_rows.append(row)
            gold_starts.append(start)
            gold_ends.append(end)
        row += count
    long = {"dtype": torch.long}
    return Step(tuple(encoded[name] for name in INPUTS), members, present, has_gold, answered,
                torch.tensor(gold_rows, **long), torch.tensor(gold_starts, **long), torch.tensor(gold_ends, **long))


def _targets(encoded: Any, row: int, answer: tuple[int, int]) -> tuple[int, int]:
    offsets = encoded["offset_mapping"][row].tolist()
    inside = [i for i, sid in enumerate(encoded.sequence_ids(row)) if sid == 1
              and offsets[i][1] > answer[0] and offsets[i][0] < answer[1]]
    return (inside[0], inside[-1]) if inside else (0, 0)


def _mean(losses: list[Any]) -> float:
    return float(sum(float(x) for x in losses) / max(1, len(losses)))


def _on(device: str, encoded: Any) -> list[Any]:
    return [encoded[name].to(device) for name in INPUTS]


def step_loss(net: Any, step: Step, torch: Any, span_weight: float = 1.0) -> Any:
    """Span loss on the gold passages (times `span_weight`), plus relevance: each group's gold
    passage on top of its group and of a no-answer score of 0, or for a group without an answer
    the no-answer score on top (listwise softmax), and each passage's own answered-or-not
    (pointwise, half weight)."""
    starts, ends, relevance = net(*step.inputs)
    padding = step.inputs[INPUTS.index("attention_mask")] == 0
    starts, ends = starts.masked_fill(padding, -1e4), ends.masked_fill(padding, -1e4)
    grouped = relevance[step.members].masked_fill(~step.present, -1e4)
    # A no-answer score of 0 beside each group: the gold passage must beat it, and a group
    # without an answer must leave it on top (SQuAD 2.0's null answer, as a column of the softmax).
    grouped = torch.cat([grouped, torch.zeros_like(grouped[:, :1])], dim=1)
    targets = torch.where(step.has_gold, 0, grouped.shape[1] - 1)
    listwise = torch.nn.functional.cross_entropy(grouped, targets)
    pointwise = torch.nn.functional.binary_cross_entropy_with_logits(relevance, step.answered)
    relevance_loss = listwise + 0.5 * pointwise
    if not len(step.gold_rows):
        return relevance_loss
    cross = torch.nn.functional.cross_entropy
    span_loss = (cross(starts[step.gold_rows], step.gold_starts) + cross(ends[step.gold_rows], step.gold_ends)) / 2
    return span_weight * span_loss + relevance_loss


def check(
    net: Any, tokenizer: Any, heldout: list[Group], torch: Any, device: str = "cpu", unanswerable: list[Group] = ()
) -> dict[str, float]:
    """Held-out span EM/F1 on gold sentences, how often the gold sentence reads as most relevant
    and above the no-answer score (0), and how often an unanswerable pair kept out of training
    reads under it."""
    from eval.metrics import exact_match, token_f1
    from qa.read.base import best_spans

    net.eval()
    em = f1 = top = above = below = 0.0
    with torch.inference_mode():
        for group in heldout:
            encoded = encode(tokenizer, [group])
            starts, ends, relevance = net(*_on(device, encoded))
            top += float(int(relevance.argmax()) == 0)
            above += float(relevance[0] > 0)
            context = [i for i, sid in enumerate(encoded.sequence_ids(0)) if sid == 1]
            spans = best_spans(0, context, encoded["offset_mapping"][0].tolist(), starts[0].tolist(), ends[0].tolist())
            guess = group.passages[0].text[spans[0].start : spans[0].end] if spans else ""
            em += exact_match(guess, list(group.answers))
            f1 += token_f1(guess, list(group.answers))
        for group in unanswerable:
            below += float(net(*_on(device, encode(tokenizer, [group])))[2][0] < 0)
    n = max(1, len(heldout))
    figures = {"heldout_em": round(em / n, 4), "heldout_f1": round(f1 / n, 4), "heldout_gold_first": round(top / n, 4),
               "heldout_gold_above_null": round(above / n, 4)}
    if unanswerable:
        figures["unanswerable_below_null"] = round(below / len(unanswerable), 4)
    return figures

if __name__ == "__main__":
    raise SystemExit(main())
