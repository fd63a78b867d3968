"""Building an index in memory: offsets, tokens, vectors, reuse of unchanged text, progress."""

from __future__ import annotations

import numpy as np
import pytest

from qa.indexing.build import build, pipeline_fingerprint
from qa.indexing.content_ids import HexIds
from qa.indexing.sentence_vectors import EMBED_BATCH, EarlyEmbedding
from qa.ingest.corpus import load_corpus
from qa.text import content_tokens


def test_every_record_points_at_its_text_and_has_a_unit_vector(tiny_corpus, fake_settings, fake_embedder) -> None:
    articles = load_corpus(tiny_corpus)
    stored = build(articles, fake_settings, fake_embedder, files={})
    texts = {a.doc_id: a.text for a in articles}
    assert len(stored.sentence_vectors) == len(stored.sentences) and len(stored.chunk_vectors) == len(stored.chunks)
    for sentence, tokens in zip(stored.sentences, stored.sentence_tokens):
        assert texts[sentence.doc_id][sentence.start : sentence.end] == sentence.text
        assert tokens == tuple(content_tokens(sentence.text))
    assert np.allclose(np.linalg.norm(stored.sentence_vectors, axis=1), 1.0)
    assert stored.manifest["pipeline"] == pipeline_fingerprint()
    assert stored.manifest["dimension"] == fake_embedder.dimension


def test_a_rebuild_embeds_only_new_text_and_gives_the_same_vectors(tiny_corpus, fake_settings, fake_embedder) -> None:
    articles = load_corpus(tiny_corpus)
    first = build(articles, fake_settings, fake_embedder, files={})
    (tiny_corpus / "extra.txt").write_text("A ferry sank near Port Ellis on Friday.", encoding="utf-8")
    seen_before = fake_embedder.texts_seen
    second = build(load_corpus(tiny_corpus), fake_settings, fake_embedder, files={}, previous=first)
    new_sentences = [s for s in second.sentences if s.doc_id == "extra"]
    new_chunks = [c for c in second.chunks if c.doc_id == "extra"]
    assert new_chunks and fake_embedder.texts_seen - seen_before == len(new_sentences)  # each text embedded once
    old = {s.id: v for s, v in zip(first.sentences, first.sentence_vectors)}
    for sentence, vector in zip(second.sentences, second.sentence_vectors):
        if sentence.id in old:
            assert np.array_equal(vector, old[sentence.id])


@pytest.mark.parametrize("parse, stages", [
    ("build", {"reading articles", "embedding sentences"}),  # chunk vectors are pooled, not embedded
    ("demand", {"embedding sentences"}),  # the articles are read once the index is in use
])
def test_progress_reports_each_stage_up_to_its_total(tiny_corpus, fake_settings, fake_embedder, parse, stages) -> None:
    seen: dict[str, tuple[int, int]] = {}
    settings = fake_settings.with_(parse=parse)
    build(load_corpus(tiny_corpus), settings, fake_embedder, files={}, progress=lambda s, d, t: seen.update({s: (d, t)}))
    assert set(seen) == stages
    assert all(done == total for done, total in seen.values())


def test_add_then_remove_gives_back_the_same_index_and_answers(tiny_corpus, fake_settings, fake_embedder) -> None:
    from qa.api import answer_with_index
    from qa.indexing.catalog import ensure_index

    questions = ["Who cut the ribbon?", "When did the storm close the port?", "How many visitors came?"]
    before = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    answers = [answer_with_index(before, q, fake_settings, embedder=fake_embedder) for q in questions]
    extra = tiny_corpus / "ferry.txt"
    extra.write_text("A ferry named Osprey sank near Port Ellis on Friday. Mayor Anna Lind wept.", encoding="utf-8")
    during = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    assert "ferry" in during.articles
    extra.unlink()
    after = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    assert after.sentences == before.sentences and after.chunks == before.chunks
    assert after.stored.sentence_tokens == before.stored.sentence_tokens
    assert np.array_equal(after.sentence_vectors, before.sentence_vectors)
    assert np.array_equal(after.stored.chunk_vectors, before.stored.chunk_vectors)
    assert [answer_with_index(after, q, fake_settings, embedder=fake_embedder) for q in questions] == answers


def test_an_unchanged_article_is_taken_over_whole(tiny_corpus, fake_settings, fake_embedder, monkeypatch) -> None:
    import qa.indexing.build as building

    articles = load_corpus(tiny_corpus)
    first = build(articles, fake_settings, fake_embedder, files={})
    seen = fake_embedder.texts_seen
    monkeypatch.setattr(building, "annotate_many", lambda todo, *a, **k: [] if not todo else pytest.fail("re-parsed"))
    second = build(articles, fake_settings, fake_embedder, files={}, previous=first)
    assert second.sentences == first.sentences and second.sentence_tokens == first.sentence_tokens
    assert second.chunk_tokens == first.chunk_tokens and fake_embedder.texts_seen == seen  # nothing re-embedded
    assert np.array_equal(first.chunk_vectors, second.chunk_vectors)


class _BatchRecorder:
    """A stand-in embedder whose vectors depend on the whole batch (as int8 vectors do)."""

    dimension = 2

    def __init__(self, fail_on: str = "") -> None:
        self.batches: list[tuple[str, ...]] = []
        self._fail_on = fail_on

    def encode(self, texts: list[str]) -> np.ndarray:
        if self._fail_on in texts:
            raise RuntimeError("embedding failed")
        self.batches.append(tuple(texts))
        return np.array([[len(t), len(texts)] for t in texts], dtype=np.float32)


def _sentences(count: int) -> list:
    from qa.types import Sentence

    return [Sentence(f"s{i}", "doc", i, 0, 1, f"sentence {i}") for i in range(count)]


def _ids_texts(sentences: list) -> tuple[list[str], list[str]]:
    return [s.id for s in sentences], [s.text for s in sentences]


@pytest.mark.parametrize("workers", [1, 2])
def test_early_embedding_makes_the_batches_of_embedding_afterwards(workers: int) -> None:
    sentences = _sentences(2 * EMBED_BATCH + 5)
    recorder = _BatchRecorder()
    with EarlyEmbedding(recorder, *_ids_texts(sentences), workers=workers) as early:
        early.start()
        progress: list[tuple[str, int, int]] = []
        vectors = early.wait(lambda *report: progress.append(report))
    texts = [s.text for s in sentences]
    expected = [tuple(texts[i : i + EMBED_BATCH]) for i in range(0, len(texts), EMBED_BATCH)]
    assert sorted(recorder.batches) == sorted(expected)
    assert vectors.tolist() == [[len(t), len(batch)] for batch in expected for t in batch]
    assert progress[-1] == ("embedding sentences", len(sentences), len(sentences))


def test_an_embedding_error_reaches_the_build() -> None:
    sentences = _sentences(4 * EMBED_BATCH)
    recorder = _BatchRecorder(fail_on=sentences[EMBED_BATCH].text)  # the second thread's first batch
    with pytest.raises(RuntimeError, match="embedding failed"), EarlyEmbedding(recorder, *_ids_texts(sentences), workers=2) as early:
        early.wait(lambda *report: None)
    assert not any(sentences[3 * EMBED_BATCH].text in batch for batch in recorder.batches)  # its thread went no further


class _ReleasingRecorder(_BatchRecorder):
    """A stand-in whose runtime keeps working memory until told to hand it back."""

    def __init__(self) -> None:
        super().__init__()
        self.released_after: list[int] = []  # batches embedded when each release came

    def release_memory(self) -> None:
        self.released_after.append(len(self.batches))


@pytest.mark.parametrize("workers", [1, 2])
def test_the_embedder_hands_back_its_memory_once_every_thread_is_done(workers: int) -> None:
    sentences = _sentences(3 * EMBED_BATCH + 1)
    recorder = _ReleasingRecorder()
    with EarlyEmbedding(recorder, *_ids_texts(sentences), workers=workers) as early:
        early.wait(lambda *report: None)
    assert recorder.released_after == [4]  # once, after the last of the four batches


def test_nothing_to_embed_releases_nothing() -> None:
    recorder = _ReleasingRecorder()
    with EarlyEmbedding(recorder, [], [], workers=2) as early:
        early.wait(lambda *report: None)
    assert recorder.released_after == []


def test_one_thread_while_parsing_then_all_make_the_same_batches() -> None:
    sentences = _sentences(5 * EMBED_BATCH + 3)
    recorder = _ReleasingRecorder()
    with EarlyEmbedding(recorder, *_ids_texts(sentences), workers=2) as early:
        early.start(1)  # while the parser runs
        early.start(1)  # a later report of the parser: still one
        assert sum(t.ident is not None for t in early._threads) == 1
        vectors = early.wait(lambda *report: None)  # all threads
    texts = [s.text for s in sentences]
    expected = [tuple(texts[i : i + EMBED_BATCH]) for i in range(0, len(texts), EMBED_BATCH)]
    assert sorted(recorder.batches) == sorted(expected) and len(recorder.batches) == len(expected)
    assert vectors.tolist() == [[len(t), len(batch)] for batch in expected for t in batch]
    assert recorder.released_after == [len(expected)]  # once, after the last batch


def _same_tables(first, second) -> None:  # noqa: ANN001
    """Two builds hold the same index, column for column (names, their order, dtypes)."""
    for name in ("sentences", "chunks"):
        a, b = getattr(first, name), getattr(second, name)
        assert a.ids == b.ids and list(a.columns) == list(b.columns)
        for key, column in a.columns.items():
            other = b.columns[key]
            if isinstance(column, dict):  # the entity columns
                assert column.keys() == other.keys()
                for k, v in column.items():
                    assert (np.array_equal(v, other[k]) and v.dtype == other[k].dtype) if isinstance(v, np.ndarray) else v == other[k]
            elif isinstance(column, np.ndarray):
                assert np.array_equal(column, other) and column.dtype == other.dtype, key
            else:
                assert column == other, key
    for name in ("sentence_tokens", "chunk_tokens"):
        a, b = getattr(first, name), getattr(second, name)
        assert a.words == b.words and np.array_equal(a.offsets, b.offsets) and np.array_equal(a.ids, b.ids)
        for part in ("frequency", "documents", "counts"):
            x, y = getattr(a.postings, part), getattr(b.postings, part)
            assert np.array_equal(x, y) and x.dtype == y.dtype
    assert np.array_equal(np.asarray(first.sentence_vectors), np.asarray(second.sentence_vectors))
    assert np.array_equal(np.asarray(first.chunk_vectors), np.asarray(second.chunk_vectors))
    assert first.sentences == second.sentences and first.chunks == second.chunks


@pytest.mark.parametrize("parse", ["build", "demand"])
def test_records_made_tables_in_batches_of_any_size_give_the_same_index(
    tiny_corpus, fake_settings, fake_embedder, monkeypatch, parse
) -> None:
    import qa.indexing.batches as batches
    import qa.indexing.build as building

    settings = fake_settings.with_(parse=parse)
    articles = load_corpus(tiny_corpus)
    whole = build(articles, settings, fake_embedder, files={})  # one batch: the corpus is small
    monkeypatch.setattr(batches, "BATCH_SENTENCES", 3)  # a batch every few sentences
    monkeypatch.setattr(building, "READ_CHARACTERS", 40)  # articles read one or two at a time
    assert len({s.doc_id for s in whole.sentences}) > 2
    _same_tables(build(articles, settings, fake_embedder, files={}), whole)
    # an update mixes articles taken over (rows of the last build) with fresh ones
    (tiny_corpus / "aa-ferry.txt").write_text("A ferry sank near Port Ellis. Mayor Anna Lind wept.", encoding="utf-8")
    (tiny_corpus / "zz-gale.txt").write_text("A gale shut the port. Nobody sailed that day.", encoding="utf-8")
    more = load_corpus(tiny_corpus)
    small = build(more, settings, fake_embedder, files={}, previous=whole)
    monkeypatch.setattr(batches, "BATCH_SENTENCES", 10**9)
    monkeypatch.setattr(building, "READ_CHARACTERS", 10**9)
    _same_tables(small, build(more, settings, fake_embedder, files={}, previous=whole))
    _same_tables(small, build(more, settings, fake_embedder, files={}))  # and a build from nothing


@pytest.mark.parametrize("parse", ["build", "demand"])
def test_a_build_of_article_columns_is_the_build_of_the_records(
    tiny_corpus, fake_settings, fake_embedder, monkeypatch, parse
) -> None:
    import qa.indexing.batches as batches
    import qa.indexing.build as building
    from qa.indexing.article_table import ArticleTable

    settings = fake_settings.with_(parse=parse)
    (tiny_corpus / "ad.txt").write_text("Advertisement\n", encoding="utf-8")  # left out: nothing to quote
    articles = load_corpus(tiny_corpus)
    records = build(articles, settings, fake_embedder, files={})
    monkeypatch.setattr(batches, "BATCH_SENTENCES", 3)
    monkeypatch.setattr(building, "READ_CHARACTERS", 40)
    read = ArticleTable.of(articles)
    with pytest.warns(UserWarning, match="nothing to quote"):
        columns = build(read, settings, fake_embedder, files={})
    assert isinstance(columns.articles, ArticleTable) and list(columns.articles) == list(records.articles)
    assert "ad" in columns.manifest["skipped"] and len(columns.articles) == len(articles) - 1
    # the articles kept are rows of the table read, sharing its bytes; the ids are 8-byte numbers
    assert columns.articles._texts["text"].data is read._texts["text"].data
    assert isinstance(columns.sentences.ids, HexIds) and isinstance(columns.chunks.ids, HexIds)
    _same_tables(columns, records)
    (tiny_corpus / "zz-gale.txt").write_text("A gale shut the port. Nobody sailed that day.", encoding="utf-8")
    more = load_corpus(tiny_corpus)
    _same_tables(build(ArticleTable.of(more), settings, fake_embedder, files={}, previous=columns),
                 build(more, settings, fake_embedder, files={}, previous=records))


def test_vector_tables_written_to_scratch_files_make_the_same_index(
    tiny_corpus, fake_settings, fake_embedder, tmp_path, monkeypatch
) -> None:
    import qa.indexing.heap as heap

    articles = load_corpus(tiny_corpus)
    held = build(articles, fake_settings, fake_embedder, files={})
    monkeypatch.setattr(heap, "SCRATCH_MIN_ROWS", 0)  # every table in a file
    mapped = build(articles, fake_settings, fake_embedder, files={}, scratch=heap.Scratch(tmp_path / "scratch"))
    assert isinstance(mapped.sentence_vectors, np.memmap) and isinstance(mapped.chunk_vectors, np.memmap)
    assert sorted(p.name for p in (tmp_path / "scratch").iterdir()) == ["table-1.npy", "table-2.npy"]
    _same_tables(mapped, held)


def test_a_build_from_nothing_leaves_no_scratch_files_and_reads_back_the_same(
    tiny_corpus, fake_settings, fake_embedder, monkeypatch
) -> None:
    import qa.indexing.heap as heap
    from qa.api import answer_with_index
    from qa.indexing.catalog import ensure_index, forget_cached, index_home
    from qa.indexing.folder import SCRATCH

    questions = ["Who cut the ribbon?", "When did the storm close the port?"]
    held = ensure_index(tiny_corpus, fake_settings.with_(index_dir=fake_settings.index_dir / "held"), embedder=fake_embedder)
    monkeypatch.setattr(heap, "SCRATCH_MIN_ROWS", 0)
    made: list[np.ndarray] = []
    table = heap.Scratch.table
    monkeypatch.setattr(heap.Scratch, "table", lambda self, *a: made.append(table(self, *a)) or made[-1])
    forget_cached()
    mapped = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    assert len(made) == 2 and not (index_home(tiny_corpus, fake_settings) / SCRATCH).exists()
    assert np.array_equal(np.asarray(mapped.sentence_vectors), np.asarray(held.sentence_vectors))
    assert [answer_with_index(mapped, q, fake_settings, embedder=fake_embedder) for q in questions] == [
        answer_with_index(held, q, fake_settings, embedder=fake_embedder) for q in questions
    ]
