"""The reader's training tools: cached question groups, epochs, and the trained-tensor parts
that carry a GPU run's result back (the real base network, no training step)."""

from __future__ import annotations

from pathlib import Path

import pytest

from train.reader_data import Group, Passage, cached_groups, groups_of
from train.reader_weights import PART_BYTES, load_parts, save_parts
from train.reader import (
    _batches,
    build_network,
    freeze,
    prepare,
    step_loss,
)

CONTEXT = "The council met on Monday. It voted to buy a ferry named Ionia. The ferry cost 4 million pounds."


def _question(question: str, answer: str) -> dict:
    return {"question": question, "answers": [{"text": answer, "answer_start": CONTEXT.index(answer)}]}


ARTICLE = {
    "title": "Ferry",
    "paragraphs": [
        {
            "context": CONTEXT,
            "qas": [
                _question("What was the ferry named?", "Ionia"),
                _question("How much did the ferry cost?", "4 million pounds"),
            ],
        },
        {"context": "The harbour opened in 1901. Fishing boats use it in winter.", "qas": []},
    ],
}


def test_groups_are_cut_once_and_read_back_identical(tmp_path: Path) -> None:
    path = tmp_path / "groups.json.gz"
    cut = cached_groups(path, lambda: [ARTICLE], negatives=2)
    assert cut == groups_of([ARTICLE], 2) and len(cut) == 2

    def never() -> list[dict]:
        raise AssertionError("the cache was not used")

    assert cached_groups(path, never, negatives=2) == cut
    gold = cut[0].passages[0]
    assert gold.text[gold.answer[0] : gold.answer[1]] == "Ionia"


def test_every_epoch_reads_every_question_once_in_another_order() -> None:
    groups = groups_of([ARTICLE], 2) * 20  # 40 questions
    first, second = (_batches(groups, 4, epoch) for epoch in (0, 1))
    for batches in (first, second):
        assert sorted(id(g) for b in batches for g in b) == sorted(id(g) for g in groups)
    assert [[id(g) for g in b] for b in first] != [[id(g) for g in b] for b in second]


@pytest.mark.slow
def test_trained_parts_laid_over_the_base_give_the_trained_network(tmp_path: Path) -> None:
    import torch

    from qa.indexing.embedder import resolve_model

    base = resolve_model("all-MiniLM-L6-v2")
    trained = build_network(base)
    freeze(trained, 2)
    for parameter in trained.parameters():
        if parameter.requires_grad:
            with torch.no_grad():
                parameter.add_(0.01)  # stands in for training
    save_parts(trained, tmp_path, torch)
    files = sorted(tmp_path.glob("part-*.pt"))
    assert len(files) > 1 and all(f.stat().st_size < PART_BYTES + 2**20 for f in files)
    stored = {name for f in files for name in torch.load(f, weights_only=True)}
    assert stored == {name for name, p in trained.named_parameters() if p.requires_grad}
    assert not any(n.startswith(("encoder.embeddings.", "encoder.encoder.layer.1.")) for n in stored)

    fresh = build_network(base)
    load_parts(fresh, tmp_path, torch)
    for (name, want), got in zip(trained.state_dict().items(), fresh.state_dict().values(), strict=True):
        assert torch.equal(want, got), name


def test_a_folder_without_the_heads_is_refused(tmp_path: Path) -> None:
    import torch

    torch.save({"encoder.layer.5.output.dense.bias": torch.zeros(384)}, tmp_path / "part-0.pt")

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.span_head = torch.nn.Linear(384, 2)

    with pytest.raises(SystemExit, match="span_head"):
        load_parts(Net(), tmp_path, torch)


def test_the_batched_loss_is_each_groups_loss_averaged() -> None:
    """The loss laid out on the tokenising thread equals the loss written out group by group,
    also when groups have different numbers of negatives and when a group has no answer
    (a stand-in network gives the logits), and with the span loss weighted (`--span-weight`)."""
    import torch
    from transformers import AutoTokenizer

    from qa.indexing.embedder import resolve_model

    tokenizer = AutoTokenizer.from_pretrained(resolve_model("all-MiniLM-L6-v2"))
    full, other = groups_of([ARTICLE], 2)
    short = Group(other.question, other.passages[:2], other.answers)  # one negative only
    unanswerable = Group("Who built the ferry?", (Passage(full.passages[0].text, None),), ())
    groups = [full, short, unanswerable]

    class Logits(torch.nn.Module):  # any fixed function of the tokens will do
        def forward(self, input_ids, attention_mask, token_type_ids):  # noqa: ANN001, ANN201
            ids = input_ids.float()
            return torch.sin(ids), torch.cos(ids), torch.sin(ids.sum(1) / 7)

    prepared = prepare(tokenizer, groups)
    batched = step_loss(Logits(), prepared, torch)

    starts, ends, relevance = Logits()(*prepared.inputs)
    padding = prepared.inputs[1] == 0
    starts, ends = starts.masked_fill(padding, -1e4), ends.masked_fill(padding, -1e4)
    listwise, answered, span, row = 0.0, torch.zeros(len(relevance)), [], 0
    cross = torch.nn.functional.cross_entropy
    for group in groups:
        rows = slice(row, row + len(group.passages))
        with_null = torch.cat([relevance[rows], torch.zeros(1)])  # the no-answer score, last
        has_answer = group.passages[0].answer is not None
        listwise = listwise - torch.log_softmax(with_null, dim=0)[0 if has_answer else -1] / len(groups)
        if has_answer:
            answered[row] = 1.0
            tokens = prepared.inputs[0][row].tolist()
            answer = tokenizer(group.passages[0].text[slice(*group.passages[0].answer)], add_special_tokens=False)["input_ids"]
            first = next(i for i in range(len(tokens)) if tokens[i : i + len(answer)] == answer)
            last = first + len(answer) - 1
            span.append((cross(starts[row : row + 1], torch.tensor([first])) + cross(ends[row : row + 1], torch.tensor([last]))) / 2)
        row += len(group.passages)
    pointwise = torch.nn.functional.binary_cross_entropy_with_logits(relevance, answered)
    by_group = sum(span) / len(span) + listwise + 0.5 * pointwise
    assert prepared.members.tolist() == [[0, 1, 2], [3, 4, 0], [5, 0, 0]]
    assert prepared.present.tolist()[1] == [True, True, False] and prepared.has_gold.tolist() == [True, True, False]
    assert torch.allclose(batched, by_group, atol=1e-5)
    weighted = step_loss(Logits(), prepared, torch, span_weight=2.5)
    assert torch.allclose(weighted, 2.5 * sum(span) / len(span) + listwise + 0.5 * pointwise, atol=1e-5)


@pytest.mark.slow
def test_the_int8_reader_dequantised_reads_as_the_shipped_reader_and_its_tensors_round_trip(tmp_path: Path) -> None:
    """Training continues from the shipped reader: its int8 weights, dequantised into the
    network, give the same best sentence and answer span as ONNX Runtime gives, and the fp16
    tensors written beside it lay back over a fresh network."""
    import torch
    from transformers import AutoTokenizer

    from qa.indexing.embedder import resolve_model
    from qa.read.passage import WEIGHTS, PassageReader
    from train.reader_weights import load_trained, recover_from_onnx, save_trained

    base = resolve_model("all-MiniLM-L6-v2")
    net = build_network(base)
    recovered = recover_from_onnx(net, WEIGHTS, torch)
    assert {"span_head.weight", "relevance_head.weight", "encoder.encoder.layer.5.output.dense.weight"} <= set(recovered)
    question = "What was the ferry named?"
    passages = [s + "." for s in CONTEXT.split(". ")]
    tokenizer = AutoTokenizer.from_pretrained(base)
    encoded = tokenizer([question] * len(passages), passages, padding=True, return_tensors="pt")
    net.eval()
    with torch.no_grad():
        starts, ends, relevance = net(encoded["input_ids"], encoded["attention_mask"], encoded["token_type_ids"])
    shipped = PassageReader().read(question, passages)
    assert int(relevance.argmax()) == max(range(len(shipped)), key=lambda i: shipped[i].relevance) == 1
    # ONNX Runtime also quantises each batch's activations, so the logits differ a little; their order does not
    assert relevance.argsort().tolist() == torch.tensor([r.relevance for r in shipped]).argsort().tolist()
    row = encoded["input_ids"][1].tolist()
    span = tokenizer.decode(row[int(starts[1].argmax()) : int(ends[1].argmax()) + 1])
    assert span == "ionia" and passages[1][shipped[1].spans[0].start : shipped[1].spans[0].end] == "Ionia"

    save_trained(net, tmp_path / "reader.safetensors")
    fresh = build_network(base)
    names = load_trained(fresh, tmp_path / "reader.safetensors")
    assert "encoder.embeddings.word_embeddings.weight" not in names  # frozen: the base model's
    for name in names:
        assert torch.allclose(fresh.state_dict()[name], net.state_dict()[name], atol=1e-2, rtol=1e-3), name
