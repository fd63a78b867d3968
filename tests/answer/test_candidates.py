"""Candidate sentences and their features, as the sentence model sees them."""

from __future__ import annotations

from qa.answer.candidates import SENTENCE_FEATURES, candidates
from qa.answer.question import analyse
from qa.indexing.catalog import ensure_index
from qa.ingest.aliases import stems_with_other_names
from qa.retrieve.retriever import Query, retrieve


def test_candidates_carry_exactly_the_declared_features(tiny_corpus, fake_settings, fake_embedder) -> None:
    index = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    part = analyse("Who cut the ribbon at the bridge?").parts[0]
    query = Query.of(part.search_text, fake_embedder.encode([part.search_text])[0])
    chunks = retrieve(index, query, fake_settings, fake_settings.top_chunks)
    pool = candidates(index, query, chunks, part.answer_type, stems_with_other_names(part.search_text, index.aliases))
    assert pool and len({c.sentence for c in pool}) == len(pool)
    for candidate in pool:
        assert set(candidate.features) == set(SENTENCE_FEATURES)
        assert index.sentences[candidate.sentence].quotable
        assert 0.0 <= candidate.features["overlap"] <= 1.0
    best = max(pool, key=lambda c: c.features["overlap"])
    assert "ribbon" in index.sentences[best.sentence].text
    assert best.features["has_typed_span"] == 1.0  # "Anna Lind" is a name a "who" question wants


def test_a_sentence_without_question_words_has_no_overlap(tiny_corpus, fake_settings, fake_embedder) -> None:
    index = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    query = Query.of("zebra giraffe", fake_embedder.encode(["zebra giraffe"])[0])
    chunks = retrieve(index, query, fake_settings, 3)
    for candidate in candidates(index, query, chunks, "other", frozenset()):
        assert candidate.features["overlap"] == 0.0 and candidate.features["bm25_relative"] == 0.0
