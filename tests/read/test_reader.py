"""The optional neural reader, exercised with a tiny randomly initialised model made here."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa import ask
from qa.config import Settings
from qa.errors import ModelError
from qa.read.extractive import ExtractiveReader

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_reader(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer BERT with a QA head and random weights, saved like a downloaded model."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForQuestionAnswering

    from qa.indexing.embedder import resolve_model

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny-reader")
    tokenizer = AutoTokenizer.from_pretrained(resolve_model("all-MiniLM-L6-v2"))
    config = BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=512,
    )
    BertForQuestionAnswering(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_reader_returns_spans_inside_the_passages(tiny_reader: Path) -> None:
    passages = ["The bridge reopened on Monday.", "Mayor Anna Lind cut the ribbon."]
    readings = ExtractiveReader(str(tiny_reader)).read("When did the bridge reopen?", passages)
    assert len(readings) == len(passages)
    for row, reading in enumerate(readings):
        assert reading.spans and list(reading.spans) == sorted(reading.spans, key=lambda s: -s.score)
        assert reading.relevance == 0.0  # a plain QA model has no relevance head
        for span in reading.spans:
            assert span.passage == row and 0 <= span.start < span.end <= len(passages[row])
            assert reading.score_span(span.start, span.end) is not None


def test_ask_takes_spans_from_the_reader(tiny_reader: Path, tiny_corpus: Path, tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "index", reader_model=str(tiny_reader), abstain_below=0.0)
    answer = ask("When did the Harbour Bridge reopen?", corpus=tiny_corpus, settings=settings)
    texts = {p.name.rsplit(".", 1)[0]: p.read_text(encoding="utf-8") for p in tiny_corpus.iterdir()}
    assert answer.answer
    first = answer.citations[0]
    assert first.quote == texts[first.doc_id][first.start : first.end]
    # Whatever a random model picks, it is words of the cited sentence, never made up.
    assert " ".join(answer.answer.split()) in " ".join(first.quote.split())


def test_missing_reader_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="QA_READER_MODEL"):
        ExtractiveReader(str(tmp_path / "nope"))
