"""The public entry points: `ask`, `build_index`, `warm_up`, and what the shells need around them."""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import replace
from functools import partial
from datetime import date
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from qa.answer.confidence import unmatched_share
from qa.answer.decide import PartResult, answer_part, threshold_for
from qa.answer.question import Analysis, QuestionWarning, analyse, clean_history, clean_question, part_count
from qa.answer.referents import entity_label
from qa.answer.timeframe import TimeWindow, format_range, latest_week, time_window
from qa.config import DEFAULT_CORPUS, Settings, settings_from_env
from qa.errors import CorpusError
from qa.indexing.build import PARSER_PROCESSES, Progress
from qa.indexing.catalog import building, ensure_index, in_background
from qa.indexing.demand import ParseWarning, parse_rest
from qa.indexing.embedder import Embedder, EncodedOnce, embedder_for
from qa.indexing.memory import SearchIndex
from qa.indexing.tables import SentenceTable
from qa.ingest.formats import SUFFIXES
from qa.ingest.metadata import parse_date
from qa.reply.compose import compose, no_article_matches
from qa.retrieve.retriever import Query
from qa.text import content_tokens
from qa.types import Answer, ArticleFilter, IndexInfo


def ask(
    question: str,
    *,
    corpus: str | os.PathLike[str] | None = None,
    history: Sequence[tuple[str, str]] | None = None,
    index_dir: str | os.PathLike[str] | None = None,
    settings: Settings | None = None,
    wait: bool = True,
    published_from: date | str | None = None,
    published_to: date | str | None = None,
    outlets: Iterable[str] | str | None = None,
    index: SearchIndex | None = None,
    as_of: date | str | None = None,
) -> Answer:
    """Answer `question` from the articles in `corpus`, with cited passages.

    The index is built on first use and rebuilt when files are added, changed or removed.

    Args:
        question: a question in English; cut to 2,000 characters and 4 parts with a warning.
        corpus: folder of articles, in the input formats `qa.ingest.formats` registers
            ({formats}; default: env `QA_CORPUS`, else the bundled seeds/).
        history: earlier (question, reply) turns, oldest first, for follow-up questions.
        index_dir: where indexes live (default: env `QA_INDEX_DIR`, else index/).
        settings: full settings; `index_dir` overrides its index location.
        wait: when the articles changed since the index was built, True (the default)
            brings the index up to date before answering; False answers at once from the
            last good index while it is updated in a background thread (the chat does this,
            so a build never holds questions up). Only a first build is always waited for.
        published_from: answer only from articles published on or after this day (a date
            or an ISO day, "2015-03-01"); articles without a known date are left out.
        published_to: ... on or before this day.
        outlets: answer only from articles of these outlets (case does not matter).
        index: an index already loaded to answer from instead of the corpus's own, such as
            a sharded one (the `index` of `qa.distributed.serving.open_sharded`); `corpus` is then unused.
        as_of: the day the question is asked (a date or an ISO day; default today): only
            articles published by then are read (and those of unknown date), and time words
            ("this week", "last week", "recently", "latest", "this month", "this year",
            "yesterday") read the articles of that window first (`Answer.window` says which);
            without them, the latest week's articles are read alone too, and kept when surer.

    Returns:
        The answer: short span, markdown text, citations, confidence, answerable. When no
        article passes the filter, a "not in these articles" answer saying so.

    Raises:
        ValueError: the question is empty or not text, the history is not a list of
            (question, reply) pairs of text, or the filter is malformed.
        CorpusError: the corpus folder is missing or holds no readable article.
    """
    text = clean_question(question)
    turns = clean_history(history)
    scope = article_filter(published_from, published_to, outlets)
    day = _day(as_of, "as_of") or date.today()
    resolved = _settings(settings, index_dir)
    if index is None:
        index = ensure_index(resolve_corpus(corpus), resolved, wait=wait)
    deadline = time.monotonic() + resolved.question_seconds
    return answer_with_index(index, text, resolved, turns, deadline=deadline, scope=scope, as_of=day)


# `help(qa.ask)` names the formats registered now, so the docstring never lists a stale set.
ask.__doc__ = (ask.__doc__ or "").replace("{formats}", ", ".join(SUFFIXES))


def article_filter(
    published_from: date | str | None = None,
    published_to: date | str | None = None,
    outlets: Iterable[str] | str | None = None,
) -> ArticleFilter:
    """The `ArticleFilter` of `ask`'s filter arguments, checked.

    Raises:
        ValueError: a bound is not a date, the range is empty, or an outlet is not text.
    """
    low, high = _day(published_from, "published_from"), _day(published_to, "published_to")
    if low and high and low > high:
        raise ValueError(f"published_from ({low}) is after published_to ({high}); swap them")
    if outlets is None:
        names: tuple[str, ...] = ()
    else:
        names = (outlets,) if isinstance(outlets, str) else tuple(outlets)
        if not all(isinstance(o, str) and o.strip() for o in names):
            raise ValueError("outlets must be a list of outlet names (text), e.g. [\"BBC News\"]")
        names = tuple(" ".join(o.split()) for o in names)
    return ArticleFilter(low, high, names)


def _day(value: date | str | None, name: str) -> date | None:
    if value is None or value == "":
        return None
    day = parse_date(value) if isinstance(value, (date, str)) else None
    if day is None:
        raise ValueError(f"{name} must be a date or an ISO day such as 2015-03-12, not {value!r}")
    return day


def answer_with_index(
    index: SearchIndex,
    question: str,
    settings: Settings,
    history: Sequence[tuple[str, str]] | None = None,
    embedder: Embedder | None = None,
    deadline: float | None = None,
    scope: ArticleFilter | None = None,
    as_of: date | None = None,
) -> Answer:
    """Answer a cleaned question from an already loaded index (the benchmark's entry point).

    Parts not started by `deadline` (a `time.monotonic()` time) are left out with a
    `QuestionWarning`; the first part is always answered. With `scope`, only the articles
    it admits are searched. As of the day `as_of` (default today), articles published
    later are not read, and a question with time words is answered from the articles of
    its window (`qa.answer.timeframe`) when they answer it, else from all the others; one
    without is answered from all and from the latest week's alone, the surer kept.

    A follow-up that leans on `history` (a pronoun replaced by its referent, or words of
    the turn before) is answered both so and as asked, on its own, and the better-supported
    answer is kept (`_better_supported`), so the conversation can only help.
    """
    analysis = analyse(question, list(history or []), kind_of=partial(entity_label, index))
    day = as_of or date.today()
    admitted = index.published_mask(None, day, undated=True)
    if scope is not None and scope.active:
        admitted &= index.admitted_by(scope)
    count = int(np.count_nonzero(admitted))
    if not count:
        return no_article_matches(index, analysis, scope or ArticleFilter(published_to=day))
    if count < len(index.articles):
        index = index.within_articles(admitted)
    embedder = EncodedOnce(embedder or embedder_for(settings))  # the passes below embed the same parts
    try:
        answer = _answer_by_day(index, analysis, settings, embedder, deadline, day)
        if analysis.context:
            alone = _answer_by_day(index, analyse(question), settings, embedder, deadline, day)
            answer = _better_supported(index, question, answer, alone)
    finally:
        index.hand_back_pages()
    return answer


def _better_supported(index: SearchIndex, question: str, leaning: Answer, alone: Answer) -> Answer:
    """Of a follow-up's two answers, the one read with the conversation (`leaning`) and the one
    read from the question as asked (`alone`), the better supported.

    The borrowed referent helps find passages, but it also makes any sentence naming it look
    relevant: "When will its libraries close?" after "Which council passed the budget?" read
    "...after Kelmsford Borough Council passed its budget on Tuesday night" and answered
    'Tuesday night'. So when both are answered and they differ, the one whose cited sentence
    holds more of the follow-up's own words (weighted by rarity) is kept: the words the user
    typed are the evidence a reader checks. Otherwise, or when those match as well, the
    higher confidence wins.
    """
    if leaning.answerable and alone.answerable and leaning.answer != alone.answer:
        if _own_words_missing(index, question, leaning) > _own_words_missing(index, question, alone):
            return alone
    return alone if alone.confidence > leaning.confidence else leaning


def _own_words_missing(index: SearchIndex, question: str, answer: Answer) -> float:
    """The share of `question`'s content words (idf-weighted) that the sentence `answer` cites
    first does not hold (1.0 with no citation)."""
    if not answer.citations:
        return 1.0
    weights = {t: index.idf(t) for t in content_tokens(question)}
    return unmatched_share(weights, set(content_tokens(answer.citations[0].quote)))


def _answer_by_day(
    index: SearchIndex, analysis: Analysis, settings: Settings, embedder: Embedder, deadline: float | None, day: date
) -> Answer:
    """Answer from the articles of the question's time window first, if it names one (as of `day`)."""
    window = time_window(analysis.question, day)
    if window is not None:
        inside = _published_in(index, window)
        if inside.any():
            answer = _answer(index.within_articles(inside), analysis, settings, embedder, deadline)
            if answer.answerable:
                return replace(answer, window=window.describe(), text=f"*From {window.describe()} ({window.words!r}, "
                               f"as of {format_range(day, day)}).*\n\n{answer.text}")
        note = f"*No article of {format_range(window.start, window.end)} ({window.words!r}) answers it; read all up to " \
               f"{format_range(day, day)}.*"
        answer = _answer(index, analysis, settings, embedder, deadline)
        return replace(answer, text=f"{note}\n\n{answer.text}")
    answer = _answer(index, analysis, settings, embedder, deadline)
    week = latest_week(day)
    recent = _published_in(index, week)
    if 0 < np.count_nonzero(recent) < len(index.articles):
        latest = _answer(index.within_articles(recent), analysis, settings, embedder, deadline)
        if latest.answerable and latest.confidence > answer.confidence:
            return replace(latest, window=week.describe(), text=f"*From the latest week, {week.describe()} (surer than "
                           f"the answer from all articles up to {format_range(day, day)}).*\n\n{latest.text}")
    return answer


def _published_in(index: SearchIndex, window: TimeWindow) -> np.ndarray:
    """The articles published in `window`, a bool per article of the build."""
    return index.published_mask(window.start, window.end)


def _answer(
    index: SearchIndex, analysis: Analysis, settings: Settings, embedder: Embedder, deadline: float | None
) -> Answer:
    """Answer every part of `analysis` from `index` and compose the reply."""
    vectors = embedder.encode([part.search_text for part in analysis.parts])
    results: list[PartResult] = []
    for part, vector in zip(analysis.parts, vectors):
        if results and deadline is not None and time.monotonic() > deadline:
            warnings.warn(
                f"the question took too long; {len(results)} of its {len(analysis.parts)} parts were "
                "answered (ask the others separately)",
                QuestionWarning,
                stacklevel=2,
            )
            analysis = replace(analysis, parts=analysis.parts[: len(results)])
            break
        first = results[0] if results else None
        if part.about_first_part and first and first.span_found and first.answered:
            # "Who accepted the pledge and when?": when did *that answer* accept it
            part = replace(part, search_text=f"{part.search_text} {first.answer}")
            vector = embedder.encode([part.search_text])[0]
        results.append(answer_part(index, part, Query.of(part.search_text, vector, part.lexical_text), settings))
    return compose(index, analysis, results, settings)


def build_index(
    corpus: str | os.PathLike[str] | None = None,
    *,
    index_dir: str | os.PathLike[str] | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
    force: bool = False,
    read_all: bool = True,
) -> SearchIndex:
    """Build (or bring up to date) the index of `corpus` and return it.

    Args:
        corpus: folder of articles (default as in `ask`).
        index_dir: where indexes live.
        settings: full settings.
        progress: called as progress(stage, done, total) while building.
        force: rebuild from scratch (nothing reused from the last build), even if it is current.
        read_all: then read every paragraph the build left for questions to read
            (`Settings.parse == "demand"`; the index is already in use meanwhile), so that
            no question waits for the parser; False leaves them to `read_articles` or to
            the questions.
    """
    resolved = _settings(settings, index_dir)
    index = ensure_index(resolve_corpus(corpus), resolved, progress=progress, force=force)
    if read_all:
        read_articles(index, progress)
    return index


def read_articles(index: SearchIndex, progress: Progress | None = None, background: bool = False) -> int:
    """Read the paragraphs of `index` that neither its build nor a question has read yet
    (see `Settings.parse`), keeping their entities beside the index; the number of sentences
    read. With `background`, in a thread at a lower CPU priority (0 is returned at once)."""
    table = index.sentences
    if not isinstance(table, SentenceTable):
        return 0
    if background:
        if table.parser is not None and table.parser.start_rest():
            in_background("qa-read-articles", partial(_read_rest_quietly, table))
        return 0
    return parse_rest(table, progress, processes=PARSER_PROCESSES)


def _read_rest_quietly(table: SentenceTable) -> None:
    try:
        parse_rest(table)
    except Exception as error:  # noqa: BLE001 - a question reads what it needs anyway
        warnings.warn(f"stopped reading the articles in the background ({error}); questions read what they need",
                      ParseWarning, stacklevel=1)


def index_info(index: SearchIndex) -> IndexInfo:
    """What `index` (from `build_index`, `warm_up` or `open_sharded_index`) holds and how it was built."""
    manifest = index.manifest
    counts = manifest.get("counts", {})
    return IndexInfo(
        articles=int(counts.get("articles", 0)), sentences=int(counts.get("sentences", 0)),
        chunks=int(counts.get("chunks", 0)), model=str(manifest.get("model", "")),
        built_at=str(manifest.get("built_at", "")), shards=int(manifest.get("shards", 0)),
    )


def abstention_threshold(settings: Settings | None = None) -> float:
    """The confidence under which `ask` declines to answer ("Not in these articles."), as a probability.

    The setting `abstain_below` when given, else the threshold stored with the confidence
    model in use (see docs/benchmarks.md).

    Raises:
        ModelError: the confidence model carries no threshold.
    """
    return threshold_for(settings or settings_from_env())


def question_parts(question: str) -> int:
    """How many parts `ask` answers `question` in ("who … and when …?": 2), before its cut to 4."""
    return part_count(" ".join(question.split()))


def warm_up(corpus: str | os.PathLike[str] | None = None, settings: Settings | None = None) -> SearchIndex:
    """Load the models and the index now, so the first question is as fast as the rest.

    One throwaway question goes through every stage (embedder, reader, learned models). An
    index that is out of date (articles changed since it was built, or it was made by earlier
    code) is returned as it is while a build brings it up to date in a background thread
    (`updating` says so), as `ask(..., wait=False)` does: a chat restarted over a changed
    archive answers at once. Only a first build is waited for.
    """
    resolved = settings or settings_from_env()
    index = ensure_index(resolve_corpus(corpus), resolved, wait=False)
    answer_with_index(index, "Who said what, and when?", resolved)
    read_articles(index, background=True)
    return index


def updating(
    corpus: str | os.PathLike[str] | None = None,
    *,
    index_dir: str | os.PathLike[str] | None = None,
    settings: Settings | None = None,
) -> bool:
    """Whether the index of `corpus` is being built or brought up to date in this process.

    Cheap (no disk access): the chat calls it to say that answers come from the articles
    indexed so far.
    """
    return building(resolve_corpus(corpus), _settings(settings, index_dir))


def resolve_corpus(corpus: str | os.PathLike[str] | None = None) -> Path:
    """The corpus folder: the argument, else env `QA_CORPUS`, else the bundled seeds/.

    Raises:
        CorpusError: none is given to a package installed from a wheel (which has no bundled
            articles).
    """
    if corpus is not None:
        return Path(corpus)
    if os.environ.get("QA_CORPUS"):
        return Path(os.environ["QA_CORPUS"])
    if DEFAULT_CORPUS is None:
        raise CorpusError(
            "no corpus folder given: pass one (ask(..., corpus=DIR), `qa ask --corpus DIR`, "
            "`python app.py --corpus DIR`) or set QA_CORPUS"
        )
    return DEFAULT_CORPUS


def _settings(settings: Settings | None, index_dir: str | os.PathLike[str] | None) -> Settings:
    base = settings or settings_from_env()
    return base.with_(index_dir=Path(index_dir)) if index_dir is not None else base
