"""Write part results up as an `Answer`: numbered citations and the markdown reply."""

from __future__ import annotations

import re

from qa.answerer import PartResult
from qa.config import Settings
from qa.confidence import abstention_threshold
from qa.corroborate import collapse_duplicates, one_per_article
from qa.question import Analysis
from qa.search import SearchIndex
from qa.types import Answer, AnswerPart, Citation, Passage, Source

NEAREST_PASSAGES = 3
_MARKUP = re.compile(r"[\\`*_\[\]#|~]")
NOT_FOUND = "Not in these articles."


def compose(index: SearchIndex, analysis: Analysis, results: list[PartResult], settings: Settings) -> Answer:
    """The answer to show: one line per part, sources numbered in order of use.

    Args:
        index: the index the results came from.
        analysis: the question and its parts.
        results: one result per part, in order.
        settings: abstention threshold and citation limit.
    """
    book = _CitationBook(index)
    parts: list[AnswerPart] = []
    threshold = abstention_threshold(settings)
    answered = [r for r in results if r.confidence >= threshold and r.evidence]
    for result in results:
        if result not in answered:
            parts.append(AnswerPart(result.part.text, result.part.answer_type, "", result.confidence))
            continue
        evidence = one_per_article(index, list(result.evidence))[: settings.max_citations]
        numbers = book.cite(evidence, dict(result.ranked))
        alternatives = []
        for group in result.alternatives:
            alt_numbers = book.cite(list(group.sentences[:1]), dict(result.ranked))
            docs = tuple(index.sentences[s].doc_id for s in group.sentences)
            alternatives.append((group.answer, docs, alt_numbers))
        docs = tuple(dict.fromkeys(d for n in numbers for d in book.docs_of(n)))
        parts.append(
            AnswerPart(
                question=result.part.text,
                answer_type=result.part.answer_type,
                answer=result.answer,
                confidence=result.confidence,
                citation_numbers=tuple(numbers),
                supporting_docs=docs,
                alternatives=tuple((a, d) for a, d, _ in alternatives),
            )
        )
        book.alternatives[len(parts) - 1] = alternatives
    passages = tuple(
        Passage(index.chunks[c.index].id, index.chunks[c.index].doc_id, index.chunks[c.index].start,
                index.chunks[c.index].end, c.score)
        for c in (results[0].chunks if results else ())
    )
    if not answered:
        nearest = [s for s, _ in results[0].ranked[: NEAREST_PASSAGES * 2]] if results else []
        book.cite(one_per_article(index, nearest)[:NEAREST_PASSAGES], dict(results[0].ranked) if results else {})
        confidence = max((r.confidence for r in results), default=0.0)
        return Answer(
            question=analysis.question,
            answer="",
            text=_not_found_text(book),
            citations=tuple(book.citations),
            confidence=round(confidence, 4),
            answerable=False,
            parts=tuple(parts),
            passages=passages,
        )
    confidence = sum(p.confidence for p in parts) / len(parts)
    return Answer(
        question=analysis.question,
        answer="; ".join(p.answer for p in parts if p.answer),
        text=_answer_text(parts, book, len(index.articles)),
        citations=tuple(book.citations),
        confidence=round(confidence, 4),
        answerable=True,
        parts=tuple(parts),
        passages=passages,
    )


class _CitationBook:
    """Numbers citations in order of first use; one entry per distinct quote."""

    def __init__(self, index: SearchIndex) -> None:
        self.index = index
        self.citations: list[Citation] = []
        self.alternatives: dict[int, list] = {}
        self._number_of: dict[int, int] = {}

    def cite(self, sentences: list[int], scores: dict[int, float]) -> list[int]:
        numbers: list[int] = []
        for group in collapse_duplicates(self.index, sentences):
            known = [self._number_of[s] for s in group if s in self._number_of]
            if known:
                numbers.append(known[0])
                continue
            head = self.index.sentences[group[0]]
            also = tuple(
                Source(self.index.sentences[s].doc_id, self._title(s), self.index.sentences[s].start,
                       self.index.sentences[s].end)
                for s in group[1:]
            )
            self.citations.append(
                Citation(head.doc_id, self._title(group[0]), head.start, head.end, head.text,
                         round(scores.get(group[0], 0.0), 4), also)
            )
            for s in group:
                self._number_of[s] = len(self.citations)
            numbers.append(len(self.citations))
        return list(dict.fromkeys(numbers))

    def docs_of(self, number: int) -> list[str]:
        return [source.doc_id for source in self.citations[number - 1].sources]

    def _title(self, s: int) -> str:
        return self.index.articles[self.index.sentences[s].doc_id].title


def _markers(numbers: list[int] | tuple[int, ...]) -> str:
    return "".join(f"[{n}]" for n in numbers)


def _answer_text(parts: list[AnswerPart], book: _CitationBook, article_count: int) -> str:
    lines = []
    for i, part in enumerate(parts):
        prefix = f"{_label(part)}: " if len(parts) > 1 else ""
        if not part.answer:
            lines.append(f"{prefix}{NOT_FOUND}")
            continue
        line = f"{prefix}**{_one_line(part.answer)}** {_markers(part.citation_numbers)}"
        if article_count > 1 and len(part.supporting_docs) > 1:
            line += f" — reported by {len(part.supporting_docs)} of {article_count} articles"
        lines.append(line)
        for answer, docs, numbers in book.alternatives.get(i, []):
            lines.append(f"  - The articles differ: {len(set(docs))} report **{_one_line(answer)}** {_markers(numbers)}")
    lines.append("")
    lines.extend(_source_lines(book))
    return "\n".join(lines).strip()


def _not_found_text(book: _CitationBook) -> str:
    lines = [f"**{NOT_FOUND}** None of the passages states an answer; the nearest are:", ""]
    lines.extend(_source_lines(book))
    return "\n".join(lines).strip()


def _source_lines(book: _CitationBook) -> list[str]:
    lines = []
    for number, citation in enumerate(book.citations, start=1):
        where = ", ".join(
            f"{_one_line(s.title)} ({_one_line(s.doc_id)})" if s.title != s.doc_id else _one_line(s.doc_id)
            for s in citation.sources
        )
        lines.append(f"[{number}] “{_one_line(citation.quote)}” — {where}")
    return lines


def _label(part: AnswerPart) -> str:
    return part.question.rstrip("?").strip() or part.answer_type


def _one_line(text: str) -> str:
    """Article text made safe for markdown: one line, markup characters shown as themselves."""
    flat = " ".join(text.split())
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKUP.sub(lambda m: "\\" + m.group(), flat)
