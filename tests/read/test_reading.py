"""Re-ranking and span scoring around the passage reader, with a scripted fake reader."""

from __future__ import annotations

import pytest

from qa.answer.question import analyse
from qa.answer.ranking import rank_sentences
from qa.answer.span_sources import PassageReaderSpans, read_and_rerank, reader_span_options, span_source, tightened
from qa.answer.spans import SpanCandidate
from qa.config import Settings
from qa.indexing.catalog import ensure_index
from qa.read.base import Reading, ReadSpan
from qa.retrieve.retriever import Query

READ = Settings().read_sentences


class ScriptedReader:
    """Says the passage containing `favourite` is the relevant one and its word `answer` the span."""

    def __init__(self, favourite: str, answer: str) -> None:
        self.favourite = favourite
        self.answer = answer
        self.contexts: list[str] | None = None

    def read(self, question: str, passages: list[str], contexts: list[str] | None = None) -> list[Reading]:
        self.contexts = contexts
        readings = []
        for row, passage in enumerate(passages):
            offsets = []
            cursor = 0
            for word in passage.split():
                start = passage.index(word, cursor)
                offsets.append((start, start + len(word)))
                cursor = start + len(word)
            hit = self.favourite in passage
            starts = tuple(5.0 if hit and passage[a:b].strip(".,") == self.answer else 0.0 for a, b in offsets)
            spans = ()
            if hit and self.answer in passage:
                at = passage.index(self.answer)
                spans = (ReadSpan(row, at, at + len(self.answer), 10.0),)
            readings.append(Reading(4.0 if hit else -4.0, spans, tuple(offsets), starts, starts))
        return readings


def test_reader_relevance_reorders_the_best_sentences(tiny_corpus, fake_settings, fake_embedder) -> None:
    index = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    part = analyse("When did the bridge reopen?").parts[0]
    query = Query.of(part.search_text, fake_embedder.encode([part.search_text])[0])
    ranking = rank_sentences(index, part, query, fake_settings)
    favourite = ranking.candidates[READ - 1]  # the last sentence read: the reader likes it best
    text = index.sentences[favourite.sentence].text
    reranked, read = read_and_rerank(index, part, ranking, ScriptedReader(text, text.split()[0]), READ)
    assert reranked.candidates[0].sentence == favourite.sentence
    assert reranked.probabilities == tuple(sorted(reranked.probabilities, reverse=True))
    assert reranked.candidates[0].features["reader_relevance"] == 4.0
    assert len(read) == min(READ, len(ranking.candidates))
    assert {c.sentence for c in reranked.candidates} == {c.sentence for c in ranking.candidates}


def test_reader_spans_are_exact_article_text(tiny_corpus, fake_settings, fake_embedder) -> None:
    index = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    part = analyse("Who cut the ribbon?").parts[0]
    query = Query.of(part.search_text, fake_embedder.encode([part.search_text])[0])
    reranked, read = read_and_rerank(
        index, part, rank_sentences(index, part, query, fake_settings), ScriptedReader("ribbon", "Anna Lind"), READ
    )
    options = reader_span_options(index, part, read, reranked.avoid)
    proposed = [o for o in options if o.features["read_proposed"] == 1.0]
    assert [o.text for o in proposed] == ["Anna Lind"]
    for option in options:
        article = index.articles[index.sentences[option.sentence].doc_id].text
        assert " ".join(article[option.start : option.end].split()) == option.text
        assert 0.0 < option.probability < 1.0


def test_the_passage_reader_source_reranks_and_marks_what_it_read(tiny_corpus, fake_settings, fake_embedder) -> None:
    index = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    part = analyse("Who cut the ribbon?").parts[0]
    query = Query.of(part.search_text, fake_embedder.encode([part.search_text])[0])
    source = PassageReaderSpans(READ, ScriptedReader("ribbon", "Anna Lind"))
    ranking, options = source.spans(index, part, rank_sentences(index, part, query, fake_settings))
    assert ranking.read == min(READ, len(ranking.candidates))
    assert options and options[0].text == "Anna Lind"
    assert source.confidence_model == "reader_confidence"


def test_each_read_sentence_comes_with_its_headline_and_the_sentence_before(
    tiny_corpus, fake_settings, fake_embedder
) -> None:
    index = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    part = analyse("Who cut the ribbon?").parts[0]
    query = Query.of(part.search_text, fake_embedder.encode([part.search_text])[0])
    reader = ScriptedReader("ribbon", "Anna Lind")
    _, read = read_and_rerank(index, part, rank_sentences(index, part, query, fake_settings), reader, READ)
    assert reader.contexts is not None and len(reader.contexts) == len(read)
    read_order = [c.sentence for c in rank_sentences(index, part, query, fake_settings).candidates[:READ]]
    for s, context in zip(read_order, reader.contexts):
        sentence = index.sentences[s]
        before = index.sentence_index(sentence.doc_id, sentence.position - 1)
        headline = index.articles[sentence.doc_id].title
        assert context.startswith(headline)
        if before is not None:
            assert context.endswith(" ".join(index.sentences[before].text.split())[-150:])


def test_a_reading_context_is_bounded_and_keeps_the_end_of_the_sentence_before() -> None:
    from qa.read.base import reading_context

    before = "word " * 100 + "the company said it would close."
    context = reading_context("Ferry firm cuts routes", before)
    assert context.startswith("Ferry firm cuts routes; ") and context.endswith("the company said it would close.")
    assert len(context) <= len("Ferry firm cuts routes; ") + 200 and context.count("word") < 100
    assert reading_context("", "Only a sentence.") == "Only a sentence." and reading_context("Headline", "") == "Headline"


def test_one_place_chooses_the_span_source() -> None:
    assert isinstance(span_source(Settings()), PassageReaderSpans)  # the trained reader is the default
    assert span_source(Settings()).confidence_model == "reader_confidence"
    assert span_source(Settings(passage_reader=False)).confidence_model == "confidence"  # the rules alone
    # a reader model of the user's own wins over the built-in reader, and is rated by the plain model
    chosen = span_source(Settings(passage_reader=True, reader_model="/some/model"))
    assert chosen.confidence_model == "confidence" and getattr(chosen, "path") == "/some/model"


@pytest.mark.slow
def test_the_shipped_passage_reader_loads_and_prefers_the_answering_sentence() -> None:
    from qa.read.passage import WEIGHTS, PassageReader

    assert WEIGHTS.is_file(), WEIGHTS
    passages = ["The festival drew a record crowd on Saturday.", "Mayor Anna Lind cut the ribbon at 9 a.m."]
    readings = PassageReader().read("Who cut the ribbon?", passages)
    assert len(readings) == 2 and readings[1].relevance > readings[0].relevance
    best = max(readings[1].spans, key=lambda s: s.score)
    assert "Lind" in passages[1][best.start : best.end]


def test_a_serial_tokenizer_never_lets_two_calls_overlap() -> None:
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    from qa.lazy import SerialTokenizer

    class StatefulTokenizer:
        """Like a fast tokenizer: a call sets shared state, then reads it back."""

        def __init__(self) -> None:
            self.inside = 0
            self.most_inside = 0
            self.vocab_size = 7
            self._count = threading.Lock()

        def __call__(self, text: str) -> str:
            with self._count:
                self.inside += 1
                self.most_inside = max(self.most_inside, self.inside)
            time.sleep(0.001)
            with self._count:
                self.inside -= 1
            return text.upper()

    inner = StatefulTokenizer()
    serial = SerialTokenizer(inner)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(serial, [f"q{i}" for i in range(64)]))
    assert results == [f"Q{i}" for i in range(64)]
    assert inner.most_inside == 1
    assert serial.vocab_size == 7  # everything else is the wrapped tokenizer's


@pytest.mark.slow
def test_the_passage_reader_reads_the_same_from_many_threads_as_from_one() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from qa.read.passage import get_passage_reader

    reader = get_passage_reader()
    passages = [
        "Mayor Anna Lind cut the ribbon at 9 a.m. on Saturday in front of a record crowd at the harbour.",
        "It rained.",
        "The festival, first held in 1998, drew visitors from four countries.",
    ]
    jobs = [(question, passages[: 1 + n % 3]) for n, question in enumerate(["Who cut the ribbon?", "When?"] * 150)]
    alone = [reader.read(q, p) for q, p in jobs[:6]]
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(lambda job: reader.read(*job), jobs))
    assert [[r.spans for r in rs] for rs in together[:6]] == [[r.spans for r in rs] for rs in alone]
    assert len(together) == len(jobs)


def _typed(text: str, *words: str) -> dict[tuple[int, int], SpanCandidate]:
    spans = [(text.index(w), text.index(w) + len(w)) for w in words]
    return {(a, b): SpanCandidate(0, a, b, "DATE", 0.0) for a, b in spans}


def _scores(text: str, **by_word: float):
    return lambda start, end: by_word.get(text[start:end])


def test_a_proposed_run_is_tightened_to_the_typed_span_inside_it_with_its_score() -> None:
    text = "The ferry was named Morning Tern at a ceremony on Thursday."
    run = (text.index("Morning"), text.index("."))
    assert tightened({run: 9.0}, _typed(text, "Thursday"), text, _scores(text, Thursday=2.0)) == {
        (text.index("Thursday"), text.index(".")): 9.0
    }
    assert tightened({run: 9.0}, {}, text, _scores(text)) == {run: 9.0}


def test_a_run_holding_two_dates_apart_gives_its_score_to_the_one_the_reader_scores_best() -> None:
    # the reader proposed the whole run; it is no one date ("after a fire closed it" lies between)
    text = "The library reopened on Tuesday after a fire closed it in January."
    run = (text.index("Tuesday"), text.index("."))
    typed = _typed(text, "Tuesday", "January")
    tuesday, january = sorted(typed)
    assert tightened({run: 13.0}, typed, text, _scores(text, Tuesday=12.5, January=11.0)) == {tuesday: 13.0}
    assert tightened({run: 13.0}, typed, text, _scores(text, Tuesday=11.0, January=12.5)) == {january: 13.0}


def test_dates_joined_by_a_range_word_stay_one_span() -> None:
    text = "The bridge is closed from Monday to Friday, and again on 3 May - 5 May."
    typed = _typed(text, "Monday", "Friday", "3 May", "5 May")
    week = (text.index("Monday"), text.index(","))
    may = (text.index("3 May"), text.index("."))
    both = (text.index("Monday"), text.index("."))
    scores = _scores(text, **{"Monday to Friday": 4.0, "3 May - 5 May": 5.0})
    assert tightened({(0, len(text)): 8.0}, {k: typed[k] for k in typed if k[1] <= week[1]}, text, scores) == {week: 8.0}
    assert tightened({(may[0] - 3, may[1]): 6.0}, typed, text, scores) == {may: 6.0}
    assert tightened({both: 7.0}, typed, text, scores) == {may: 7.0}  # ", and again on" parts them
