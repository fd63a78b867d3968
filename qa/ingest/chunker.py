"""Cut articles into sentences and overlapping chunks of a few sentences, with stable ids."""

from __future__ import annotations

import hashlib

from qa.ingest.debris import debris_spans, overlaps_debris
from qa.ingest.sentences import split_sentences
from qa.types import Article, Chunk, Sentence


def content_id(doc_id: str, start: int, end: int, text: str) -> str:
    """A stable id from content: the same text at the same place always gets the same id."""
    digest = hashlib.sha1(f"{doc_id}\x1f{start}\x1f{end}\x1f{text}".encode("utf-8"))
    return digest.hexdigest()[:16]


def sentences_of(article: Article) -> list[Sentence]:
    """Every sentence of `article`; debris (captions, credits) is kept but marked unquotable."""
    debris = debris_spans(article.text)
    sentences = []
    for position, (start, end) in enumerate(split_sentences(article.text)):
        text = article.text[start:end]
        sentences.append(
            Sentence(
                id=content_id(article.doc_id, start, end, text),
                doc_id=article.doc_id,
                position=position,
                start=start,
                end=end,
                text=text,
                quotable=not overlaps_debris(start, end, debris),
            )
        )
    return sentences


def chunk_sentences(
    article: Article, sentences: list[Sentence], size: int = 3, overlap: int = 1
) -> list[Chunk]:
    """Windows of `size` quotable sentences sharing `overlap` with the next window.

    Windows never straddle debris, so `chunk.text == article.text[chunk.start:chunk.end]`
    never carries a caption into the index.

    Args:
        article: the article the sentences belong to.
        sentences: its sentences, in order, as from `sentences_of`.
        size: sentences per chunk (at least 1).
        overlap: sentences shared by consecutive chunks (0 <= overlap < size).

    Returns:
        The chunks in text order; every quotable sentence is in at least one.

    Raises:
        ValueError: size or overlap out of range.
    """
    if size < 1 or not 0 <= overlap < size:
        raise ValueError(f"need size >= 1 and 0 <= overlap < size, got size={size}, overlap={overlap}")
    chunks: list[Chunk] = []
    for run in _quotable_runs(sentences):
        step = size - overlap
        starts = list(range(0, max(len(run) - overlap, 1), step))
        for first in starts:
            window = run[first : first + size]
            start, end = window[0].start, window[-1].end
            text = article.text[start:end]
            chunks.append(
                Chunk(
                    id=content_id(article.doc_id, start, end, text),
                    doc_id=article.doc_id,
                    start=start,
                    end=end,
                    text=text,
                    first_sentence=window[0].position,
                    last_sentence=window[-1].position,
                )
            )
    return chunks


def _quotable_runs(sentences: list[Sentence]) -> list[list[Sentence]]:
    runs: list[list[Sentence]] = [[]]
    for sentence in sentences:
        if sentence.quotable:
            runs[-1].append(sentence)
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if run]
