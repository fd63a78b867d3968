"""The reader's training tools: cached question groups, epochs, and the trained-tensor parts
that carry a GPU run's result back (the real base network, no training step)."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.reader_data import cached_groups, groups_of
from eval.train_reader import PART_BYTES, _batches, _load_parts, _save_parts, build_network, freeze

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
    _save_parts(trained, tmp_path, torch)
    files = sorted(tmp_path.glob("part-*.pt"))
    assert len(files) > 1 and all(f.stat().st_size < PART_BYTES + 2**20 for f in files)
    stored = {name for f in files for name in torch.load(f, weights_only=True)}
    assert stored == {name for name, p in trained.named_parameters() if p.requires_grad}
    assert not any(n.startswith(("encoder.embeddings.", "encoder.encoder.layer.1.")) for n in stored)

    fresh = build_network(base)
    _load_parts(fresh, tmp_path, torch)
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
        _load_parts(Net(), tmp_path, torch)
