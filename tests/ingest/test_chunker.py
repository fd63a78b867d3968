"""Chunks: overlap, exact offsets, stable ids, no debris."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.ingest.chunker import chunk_sentences, content_id, sentences_of
from qa.ingest.corpus import load_corpus
from qa.types import Article

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def article(text: str, doc_id: str = "doc") -> Article:
    return Article(doc_id, doc_id, text, f"{doc_id}.txt", "0")


def test_windows_overlap_and_cover_every_sentence() -> None:
    a = article(" ".join(f"Sentence number {i} is here." for i in range(7)))
    sentences = sentences_of(a)
    chunks = chunk_sentences(a, sentences, size=3, overlap=1)
    assert [(c.first_sentence, c.last_sentence) for c in chunks] == [(0, 2), (2, 4), (4, 6)]
    for c in chunks:
        assert c.text == a.text[c.start : c.end]


def test_no_overlap_and_single_sentence_chunks() -> None:
    a = article("One is here. Two is here. Three is here.")
    chunks = chunk_sentences(a, sentences_of(a), size=1, overlap=0)
    assert [c.text for c in chunks] == ["One is here.", "Two is here.", "Three is here."]


@pytest.mark.parametrize(("size", "overlap"), [(0, 0), (3, 3), (2, -1)])
def test_bad_window_settings(size: int, overlap: int) -> None:
    a = article("One.")
    with pytest.raises(ValueError, match="size"):
        chunk_sentences(a, sentences_of(a), size=size, overlap=overlap)


def test_debris_is_never_inside_a_chunk() -> None:
    for a in load_corpus(SEEDS):
        sentences = sentences_of(a)
        debris = [s for s in sentences if not s.quotable]
        for chunk in chunk_sentences(a, sentences):
            assert chunk.text == a.text[chunk.start : chunk.end]
            assert "Image copyright" not in chunk.text
            assert "(illustration)" not in chunk.text
            assert not any(chunk.start <= d.start < chunk.end for d in debris)
    caption_doc = load_corpus(SEEDS)[0]
    assert any("Image copyright AFP Image caption" in s.text and not s.quotable for s in sentences_of(caption_doc))


def test_ids_are_stable_and_content_based() -> None:
    a = load_corpus(SEEDS)[1]
    first = [c.id for c in chunk_sentences(a, sentences_of(a))]
    again = [c.id for c in chunk_sentences(a, sentences_of(a))]
    assert first == again and len(set(first)) == len(first)
    assert content_id("d", 0, 3, "abc") != content_id("d", 0, 3, "abd")


def test_sentence_offsets_are_exact_on_the_seeds() -> None:
    for a in load_corpus(SEEDS):
        for s in sentences_of(a):
            assert s.text == a.text[s.start : s.end]
            assert s.text.strip() == s.text and s.text
