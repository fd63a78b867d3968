"""Property tests (hypothesis) for the text stages: every offset maps back to the text."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.ingest.chunker import chunk_sentences, sentences_of
from qa.ingest.debris import debris_spans, overlaps_debris
from qa.ingest.sentences import split_sentences
from qa.types import Article

# Pieces of news prose that exercise the rules (abbreviations, initials, quotes, ellipses,
# captions, wrapped lines), mixed with arbitrary characters.
PROSE = st.sampled_from(
    [
        "Mr. ", "Gen. ", "U.S. ", "J. K. ", "etc. ", "The ", "the ", "He said ", "3.5 ", "No. 10 ",
        ". ", "! ", "? ", "... ", "…", '"', "'", "”", "’", "(", ")", ";", ": ", ", ", " ", "\n", "\n\n",
        "\r\n", "\t", "Image copyright AFP\n", "Advertisement\n", "word", "Word", "x" * 450,
    ]
)
NEWSY_TEXT = st.lists(st.one_of(PROSE, st.text(max_size=8)), max_size=80).map("".join)
ANY_TEXT = st.one_of(st.text(max_size=600), NEWSY_TEXT)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(ANY_TEXT, st.integers(min_value=1, max_value=500))
def test_sentences_are_stripped_ordered_disjoint_and_capped(text: str, max_chars: int) -> None:
    spans = split_sentences(text, max_chars)
    previous_end = 0
    for start, end in spans:
        assert previous_end <= start < end <= len(text)
        piece = text[start:end]
        assert piece == piece.strip() and piece
        assert end - start <= max_chars
        previous_end = end
    # nothing but whitespace is ever left out
    covered = "".join(text[start:end] for start, end in spans)
    assert "".join(covered.split()) == "".join(text.split())


@FUZZ
@given(ANY_TEXT, st.integers(min_value=1, max_value=5), st.integers(min_value=0, max_value=4))
def test_sentence_and_chunk_quotes_are_the_text_at_their_offsets(text: str, size: int, overlap: int) -> None:
    overlap = min(overlap, size - 1)
    article = Article("doc", "doc", text, "doc.txt", "0")
    sentences = sentences_of(article)
    for sentence in sentences:
        assert text[sentence.start : sentence.end] == sentence.text
    chunks = chunk_sentences(article, sentences, size, overlap)
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        inside = sentences[chunk.first_sentence : chunk.last_sentence + 1]
        assert inside and all(s.quotable for s in inside)
        assert (inside[0].start, inside[-1].end) == (chunk.start, chunk.end)
    chunked = {p for c in chunks for p in range(c.first_sentence, c.last_sentence + 1)}
    assert chunked == {s.position for s in sentences if s.quotable}


@FUZZ
@given(ANY_TEXT, st.integers(min_value=0, max_value=700), st.integers(min_value=0, max_value=60))
def test_overlap_with_debris_matches_a_plain_scan(text: str, start: int, length: int) -> None:
    spans = debris_spans(text)
    assert spans == sorted(spans) and all(a < b for (_, a), (b, _) in zip(spans, spans[1:]))
    end = start + length
    assert overlaps_debris(start, end, spans) == any(start < d_end and d_start < end for d_start, d_end in spans)
