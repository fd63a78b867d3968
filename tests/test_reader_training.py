"""The reader's training tools: cached question groups, epochs, and the trained-tensor parts
that carry a GPU run's result back (the real base network, no training step)."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.reader_data import Group, cached_groups, groups_of
from eval.reader_weights import PART_BYTES, load_parts, save_parts
from eval.train_reader import (
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
    also when groups have different numbers of negatives (a stand-in network gives the logits)."""
    import torch
    from transformers import AutoTokenizer

    from qa.indexing.embedder import resolve_model

    tokenizer = AutoTokenizer.from_pretrained(resolve_model("all-MiniLM-L6-v2"))
    full, other = groups_of([ARTICLE], 2)
    short = Group(other.question, other.passages[:2], other.answers)  # one negative only
    groups = [full, short]

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
        listwise = listwise - torch.log_softmax(relevance[rows], dim=0)[0] / len(groups)
        answered[row] = 1.0
        tokens = prepared.inputs[0][row].tolist()
        answer = tokenizer(group.passages[0].text[slice(*group.passages[0].answer)], add_special_tokens=False)["input_ids"]
        first = next(i for i in range(len(tokens)) if tokens[i : i + len(answer)] == answer)
        last = first + len(answer) - 1
        span.append((cross(starts[row : row + 1], torch.tensor([first])) + cross(ends[row : row + 1], torch.tensor([last]))) / 2)
        row += len(group.passages)
    pointwise = torch.nn.functional.binary_cross_entropy_with_logits(relevance, answered)
    by_group = sum(span) / len(span) + listwise + 0.5 * pointwise
    assert prepared.members.tolist() == [[0, 1, 2], [3, 4, 0]] and prepared.present.tolist()[1] == [True, True, False]
    assert torch.allclose(batched, by_group, atol=1e-5)
