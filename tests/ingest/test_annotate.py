"""Parsing at index time: long paragraphs in pieces, one failing article kept out of the build."""

from __future__ import annotations

import warnings

import pytest

from qa.indexing.build import BuildWarning, build
from qa.ingest import annotate, parser_pool
from qa.ingest.chunker import sentences_of
from qa.ingest.corpus import load_corpus
from qa.types import Article


def article(text: str, doc_id: str = "long") -> Article:
    return Article(doc_id, doc_id, text, f"{doc_id}.txt", "0")


def test_a_paragraph_over_the_limit_is_cut_at_sentence_ends_with_exact_offsets() -> None:
    text = " ".join(f"Mayor Anna Lind visited Port Ellis on day {i}." for i in range(40))
    sentences = sentences_of(article(text))
    pieces = annotate._pieces(text, sentences)
    assert len(pieces) == 1
    limit = 300
    original = annotate.MAX_PIECE_CHARS
    try:
        annotate.MAX_PIECE_CHARS = limit
        pieces = annotate._pieces(text, sentences)
    finally:
        annotate.MAX_PIECE_CHARS = original
    assert len(pieces) > 5
    ends = {s.end for s in sentences}
    for piece in pieces:
        assert text[piece.base : piece.base + len(piece.text)] == piece.text
        assert len(piece.text) <= limit
    for piece in pieces[:-1]:
        assert piece.base + len(piece.text.rstrip()) in ends  # every cut falls at a sentence end


@pytest.mark.slow
def test_spacy_finds_the_same_names_in_pieces_as_in_one_text(monkeypatch) -> None:
    text = " ".join(f"Mayor Anna Lind visited Port Ellis on Monday with {i} aides." for i in range(30))
    whole = annotate.annotate(article(text), sentences_of(article(text)), "spacy")
    monkeypatch.setattr(annotate, "MAX_PIECE_CHARS", 400)
    pieced = annotate.annotate(article(text), sentences_of(article(text)), "spacy")
    names = lambda sentences: [(text[e.start : e.end], e.label) for s in sentences for e in s.entities if e.label == "PERSON"]  # noqa: E731
    assert names(pieced) == names(whole) and len(names(whole)) == 30
    for sentence in pieced:
        for entity in sentence.entities:
            assert sentence.start <= entity.start < entity.end <= sentence.end


@pytest.fixture
def parser_fails_on_storms(monkeypatch) -> None:
    real = annotate.rule_entities

    def fails_on_storms(text: str):  # a stand-in for a parser crash on one article
        if "storm" in text:
            raise RuntimeError("parser crashed")
        return real(text)

    monkeypatch.setattr(annotate, "rule_entities", fails_on_storms)


@pytest.mark.usefixtures("parser_fails_on_storms")
def test_an_article_the_parser_fails_on_is_left_out_with_a_warning(tiny_corpus, fake_settings, fake_embedder) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stored = build(load_corpus(tiny_corpus), fake_settings.with_(parse="build"), fake_embedder, files={})
    assert {a.doc_id for a in stored.articles} == {"festival", "harbour"}
    assert "storm" in stored.manifest["skipped"] and "parser crashed" in stored.manifest["skipped"]["storm"]
    assert any(issubclass(w.category, BuildWarning) and "storm.txt" in str(w.message) for w in caught)


@pytest.mark.usefixtures("parser_fails_on_storms")
def test_an_article_the_parser_fails_on_when_a_question_reads_it_goes_without_entities(
    tiny_corpus, fake_settings, fake_embedder
) -> None:
    from qa.indexing.demand import ParseWarning
    from qa.indexing.memory import SearchIndex

    index = SearchIndex(build(load_corpus(tiny_corpus), fake_settings, fake_embedder, files={}))
    assert {a for a in index.articles} == {"festival", "harbour", "storm"}  # the build never parsed it
    doc_ids = index.sentences.doc_ids()  # (without reading the entities)
    rows = {d: [i for i, doc_id in enumerate(doc_ids) if doc_id == d] for d in ("storm", "harbour")}
    with pytest.warns(ParseWarning, match="storm.txt.*parser crashed"):
        assert all(index.sentences[i].entities == () for i in rows["storm"])
    assert any(index.sentences[i].entities for i in rows["harbour"])


@pytest.mark.slow
def test_parser_processes_find_what_one_process_finds() -> None:
    texts = [f"Mayor Anna Lind visited Port Ellis on Monday with {i} aides. The council met in Leeds." for i in range(9)]
    pieces = [[annotate._Piece(0, text)] for text in texts]
    alone = annotate._spacy_spans_of_pieces(pieces, processes=1)
    reported: list[int] = []
    pooled = annotate._spacy_spans_of_pieces(pieces, processes=2, report=reported.append)
    assert pooled == alone and all(any(e.label == "PERSON" for e in own) for own in alone)
    assert reported[-1] == len(pieces) and reported == sorted(reported)


@pytest.mark.slow
def test_parts_of_speech_are_those_of_the_pipelines_own_attribute_ruler() -> None:
    import spacy

    ours = annotate.load_spacy()
    assert "attribute_ruler" not in ours.pipe_names
    package = next(p for p in annotate.SPACY_PACKAGES if spacy.util.is_package(p))
    theirs = spacy.load(package, disable=["lemmatizer"])
    text = (
        "Something happened on Monday, but nobody said anything. The council, which met in Leeds, said that "
        "it would vote because the plan was ready. I told you so; she gave it to me and them. "
        "Mr. J. K. Smith's 3.5 percent rise - cheaper than anyone expected - was approved 27 to 14. "
        "\"We are calling you up,\" Adnani said. Whether or not they come, someone will."
    )
    want, got = theirs(text), ours(text)
    assert [t.pos_ for t in got] == [t.pos_ for t in want]
    assert [c.text for c in got.noun_chunks] == [c.text for c in want.noun_chunks]
    assert [(e.text, e.label_) for e in got.ents] == [(e.text, e.label_) for e in want.ents]


def test_a_parser_process_hands_back_freed_heap_after_each_batch_even_a_failed_one(monkeypatch) -> None:
    trims: list[int] = []
    monkeypatch.setattr(parser_pool, "trim_heap", lambda: trims.append(1))
    assert parser_pool.then_trimmed(lambda batch: [len(p) for p in batch], ["ab", "c"]) == [2, 1]

    def fails(batch):
        raise ValueError("bad batch")

    with pytest.raises(ValueError, match="bad batch"):
        parser_pool.then_trimmed(fails, ["x"])
    assert len(trims) == 2
