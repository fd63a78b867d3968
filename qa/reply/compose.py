"""Write part results up as an `Answer`: numbered citations and the markdown reply."""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.answer.corroborate import collapse_duplicates, one_per_article
from qa.answer.dates import format_day, with_day
from qa.answer.decide import PartResult
from qa.answer.question import Analysis
from qa.config import Settings
from qa.indexing.memory import SearchIndex
from qa.reply.markdown import escape_markdown
from qa.types import Answer, AnswerPart, ArticleFilter, Citation, Passage, Source

NEAREST_PASSAGES = 3
NOT_FOUND = "Not in these articles."


@dataclass(frozen=True)
class _Rival:
    """Another answer some articles give for a part, with its citation numbers."""

    answer: str
    docs: tuple[str, ...]
    numbers: tuple[int, ...]


def compose(index: SearchIndex, analysis: Analysis, results: list[PartResult], settings: Settings) -> Answer:
    """The answer to show: one line per part, sources numbered in order of use.

    Args:
        index: the index the results came from.
        analysis: the question and its parts.
        results: one result per part, in order.
        settings: the citation limit.
    """
    book = _CitationBook(index)
    parts: list[AnswerPart] = []
    rivals: list[list[_Rival]] = []
    for result in results:
        if not result.answered:
            parts.append(AnswerPart(result.part.text, result.part.answer_type, "", result.confidence))
            rivals.append([])
            continue
        evidence = one_per_article(index, list(result.evidence))[: settings.max_citations]
        numbers = book.cite(evidence, dict(result.ranked))
        own_rivals = []
        for group in result.alternatives:
            rival_numbers = book.cite(list(group.sentences[:1]), dict(result.ranked))
            rival_docs = tuple(index.sentences[s].doc_id for s in group.sentences)
            own_rivals.append(_Rival(with_day(group.answer, group.day), rival_docs, tuple(rival_numbers)))
        rivals.append(own_rivals)
        docs = tuple(dict.fromkeys(d for n in numbers for d in book.docs_of(n)))
        parts.append(
            AnswerPart(
                question=result.part.text,
                answer_type=result.part.answer_type,
                answer=result.answer,
                confidence=result.confidence,
                citation_numbers=tuple(numbers),
                supporting_docs=docs,
                alternatives=tuple((r.answer, r.docs) for r in own_rivals),
                resolved_date=result.day,
            )
        )
    passages = tuple(
        Passage(index.chunks[c.index].id, index.chunks[c.index].doc_id, index.chunks[c.index].start,
                index.chunks[c.index].end, c.score)
        for c in (results[0].chunks if results else ())
    )
    if not any(r.answered for r in results):
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
            articles_searched=len(index.articles),
        )
    confidence = sum(p.confidence for p in parts) / len(parts)
    return Answer(
        question=analysis.question,
        answer="; ".join(p.answer for p in parts if p.answer),
        text=_answer_text(parts, rivals, book, len(index.articles)),
        citations=tuple(book.citations),
        confidence=round(confidence, 4),
        answerable=True,
        parts=tuple(parts),
        passages=passages,
        articles_searched=len(index.articles),
    )


def no_article_matches(index: SearchIndex, analysis: Analysis, scope: ArticleFilter) -> Answer:
    """The answer when no article passes the question's filter: say so, and what the corpus holds."""
    articles = list(index.articles.values())
    dated = sorted(a.published for a in articles if a.published)
    outlets = sorted({a.outlet for a in articles if a.outlet})
    known = [f"{len(dated)} of {len(articles)} articles have a publication date"]
    if dated:
        known[0] += f" ({dated[0]} to {dated[-1]})"
    known.append(f"outlets: {', '.join(outlets)}" if outlets else "none names its outlet")
    text = (
        f"**{NOT_FOUND}** No article matches the filter ({escape_markdown(scope.describe())}); "
        f"{escape_markdown('; '.join(known))}. Widen the filter or leave it out."
    )
    parts = tuple(AnswerPart(p.text, p.answer_type, "", 0.0) for p in analysis.parts)
    return Answer(analysis.question, "", text, (), 0.0, False, parts)


class _CitationBook:
    """Numbers citations in order of first use; one entry per distinct quote."""

    def __init__(self, index: SearchIndex) -> None:
        self.index = index
        self.citations: list[Citation] = []
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
            article = self.index.articles[head.doc_id]
            self.citations.append(
                Citation(head.doc_id, article.title, head.start, head.end, head.text,
                         round(scores.get(group[0], 0.0), 4), also, outlet=article.outlet,
                         published=article.published, url=article.url)
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


def _answer_text(parts: list[AnswerPart], rivals: list[list[_Rival]], book: _CitationBook, article_count: int) -> str:
    lines = []
    for part, own_rivals in zip(parts, rivals):
        prefix = f"{_label(part)}: " if len(parts) > 1 else ""
        if not part.answer:
            lines.append(f"{prefix}{NOT_FOUND}")
            continue
        shown = with_day(part.answer, part.resolved_date)
        line = f"{prefix}**{escape_markdown(shown)}** {_markers(part.citation_numbers)}"
        if article_count > 1 and len(part.supporting_docs) > 1:
            line += f" — reported by {len(part.supporting_docs)} of {article_count} articles"
        lines.append(line)
        for rival in own_rivals:
            lines.append(
                f"  - The articles differ: {len(set(rival.docs))} report **{escape_markdown(rival.answer)}** "
                f"{_markers(rival.numbers)}"
            )
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
            f"{escape_markdown(s.title)} ({escape_markdown(s.doc_id)})" if s.title != s.doc_id else escape_markdown(s.doc_id)
            for s in citation.sources
        )
        about = ", ".join(escape_markdown(x) for x in (citation.outlet, _day(citation.published)) if x)
        lines.append(f"[{number}] “{escape_markdown(citation.quote)}” — {where}" + (f", {about}" if about else ""))
    return lines


def _day(published: str) -> str:
    return format_day(published) if published else ""


# The wh-phrase a part asks with, as its label: "Who", "When", "How many", "Which city".
_WH_PHRASE = re.compile(
    r"^\s*(?:and\s+|but\s+|also\s+)*(how\s+(?:many|much|long|old|far|often)|(?:what|which|whose)\s+[\w'-]+"
    r"|who|whom|when|where|why|how|what|which)\b",
    re.IGNORECASE,
)
_LABEL_BY_TYPE = {"person": "Who", "date": "When", "place": "Where", "reason": "Why", "number": "How many"}


def _label(part: AnswerPart) -> str:
    """A short natural label for a part's line: its wh-phrase ("When", "How many"), else its kind."""
    found = _WH_PHRASE.match(part.question)
    if found:
        phrase = " ".join(found.group(1).split()).lower()
        if phrase.split()[0] in ("what", "which", "whose") and phrase.split()[1] in _AUXILIARY_WORDS:
            phrase = phrase.split()[0]  # "what is ..." asks "what", not "what is"
        return phrase[:1].upper() + phrase[1:]
    return _LABEL_BY_TYPE.get(part.answer_type, "Answer")


_AUXILIARY_WORDS = frozenset(
    "is are was were do does did has have had will would can could should may might the a an".split()
)


