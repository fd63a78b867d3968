"""Parsing on demand: a build stores no entities, a question's paragraphs are read when first
needed and kept beside the index, and the entities are those a build that parses finds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import SEEDS, FakeEmbedder
from qa.config import Settings
from qa.indexing import build as build_module
from qa.indexing.catalog import ensure_index, forget_cached, index_home
from qa.indexing.demand import CACHE_FILE, ParseCache, cache_key, earlier_key, parse_rest
from qa.indexing.build import annotation_fingerprint
from qa.ingest import annotate
from qa.types import Entity


def _corpus(folder: Path) -> Path:
    """The seeds, plus an article with a paragraph longer than the parser reads at once."""
    folder.mkdir()
    for path in sorted(SEEDS.iterdir()):
        (folder / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    long = " ".join(f"Maria Okafor of Lagos met {n} delegates in Geneva on March {n % 28 + 1}." for n in range(300))
    (folder / "long.txt").write_text(f"A long day\n\nThe talks opened on Monday.\n\n{long}\n\nThey ended.", encoding="utf-8")
    return folder


def _entities(index) -> list[tuple[Entity, ...]]:  # noqa: ANN001
    return [index.sentences[i].entities for i in range(len(index.sentences))]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _corpus(tmp_path_factory.mktemp("demand") / "articles")


def test_entities_read_on_demand_are_those_a_parsing_build_stores(corpus: Path, tmp_path: Path) -> None:
    assert len((corpus / "long.txt").read_text()) > annotate.MAX_PIECE_CHARS  # read in pieces either way
    parsed = ensure_index(corpus, Settings(model="fake", index_dir=tmp_path / "a", parse="build"), embedder=FakeEmbedder())
    lazy = ensure_index(corpus, Settings(model="fake", index_dir=tmp_path / "b"), embedder=FakeEmbedder())
    assert parsed.sentences.parsed.all() and not lazy.sentences.parsed.any()
    # read in an order no build uses: last sentence first
    order = list(range(len(lazy.sentences)))[::-1]
    on_demand = {i: lazy.sentences[i].entities for i in order}
    assert [on_demand[i] for i in range(len(order))] == _entities(parsed)
    assert sum(map(bool, on_demand.values())) > len(order) // 2


def test_a_build_that_leaves_the_parse_never_starts_the_parser(corpus: Path, tmp_path: Path, monkeypatch) -> None:
    def refuse(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("the build parsed")

    monkeypatch.setattr(build_module, "annotate_many", refuse)
    index = ensure_index(corpus, Settings(model="fake", index_dir=tmp_path / "i"), embedder=FakeEmbedder())
    assert len(index.sentences) > 100 and not index.sentences.parsed.any()


def test_what_a_question_read_is_kept_beside_the_index_for_the_next_process(corpus: Path, tmp_path: Path, monkeypatch) -> None:
    settings = Settings(model="fake", index_dir=tmp_path / "i")
    index = ensure_index(corpus, settings, embedder=FakeEmbedder())
    wanted = len(index.sentences) // 2
    first = index.sentences[wanted].entities
    cache = ParseCache(index_home(corpus, settings) / CACHE_FILE, cache_key("spacy", annotation_fingerprint()))
    assert cache.get(index.sentences.ids[wanted]) == first
    cache.close()
    forget_cached()

    def refuse(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("parsed again")

    monkeypatch.setattr("qa.indexing.demand.parse_around", refuse)
    again = ensure_index(corpus, settings, embedder=FakeEmbedder())  # loaded from disk
    assert again is not index and again.sentences[wanted].entities == first


def test_a_change_to_the_text_code_outside_the_annotator_rebuilds_but_keeps_what_questions_read(
    corpus: Path, tmp_path: Path, monkeypatch
) -> None:
    settings = Settings(model="fake", index_dir=tmp_path / "i")
    index = ensure_index(corpus, settings, embedder=FakeEmbedder())
    wanted = len(index.sentences) // 3
    first = index.sentences[wanted].entities
    forget_cached()
    # as if qa/ingest/corpus.py had been edited: the pipeline's fingerprint changes, the annotator's does not
    monkeypatch.setattr(build_module, "pipeline_fingerprint", lambda: "edited")
    monkeypatch.setattr("qa.indexing.catalog.pipeline_fingerprint", lambda: "edited")
    monkeypatch.setattr("qa.indexing.folder.pipeline_fingerprint", lambda: "edited")

    def refuse(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("parsed again")

    monkeypatch.setattr("qa.indexing.demand.parse_around", refuse)
    rebuilt = ensure_index(corpus, settings, embedder=FakeEmbedder())
    assert rebuilt.manifest["pipeline"] == "edited"
    row = rebuilt.sentences.ids.index(index.sentences.ids[wanted])
    assert rebuilt.sentences[row].entities == first  # from parsed.sqlite, not read again


def test_reading_the_rest_fills_the_cache_and_an_update_keeps_it(corpus: Path, tmp_path: Path) -> None:
    settings = Settings(model="fake", index_dir=tmp_path / "i")
    index = ensure_index(corpus, settings, embedder=FakeEmbedder())
    assert parse_rest(index.sentences) == len(index.sentences)
    assert parse_rest(index.sentences) == 0  # nothing left
    expected = {sid: index.sentences[i].entities for i, sid in enumerate(index.sentences.ids)}
    (corpus / "new.txt").write_text("A new report\n\nThe mayor of Leeds, Ann Lee, spoke on Friday.", encoding="utf-8")
    try:
        forget_cached()
        updated = ensure_index(corpus, settings, embedder=FakeEmbedder())
    finally:
        (corpus / "new.txt").unlink()
    ids = updated.sentences.ids
    assert all(updated.sentences[i].entities == expected[sid] for i, sid in enumerate(ids) if sid in expected)
    new = [i for i, sid in enumerate(ids) if sid not in expected]
    assert new and any(e.label == "PERSON" for i in new for e in updated.sentences[i].entities)


def test_a_parsing_build_after_a_lazy_one_parses_what_is_left(corpus: Path, tmp_path: Path) -> None:
    lazy = ensure_index(corpus, Settings(model="fake", index_dir=tmp_path / "i"), embedder=FakeEmbedder())
    assert not lazy.sentences.parsed.any()
    # the setting alone does not make an index stale (the answers are the same); the next update parses
    (corpus / "new.txt").write_text("A new report\n\nThe mayor of Leeds, Ann Lee, spoke on Friday.", encoding="utf-8")
    try:
        parsed = ensure_index(corpus, Settings(model="fake", index_dir=tmp_path / "i", parse="build"), embedder=FakeEmbedder())
    finally:
        (corpus / "new.txt").unlink()
    assert parsed.sentences.parsed.all()
    assert _entities(parsed)[: len(lazy.sentences)] == _entities(lazy)


def test_a_cache_of_another_parser_is_emptied(tmp_path: Path) -> None:
    path = tmp_path / CACHE_FILE
    cache = ParseCache(path, cache_key("spacy", "old-code"))
    cache.put([("s1", (Entity(0, 4, "PERSON", "subject", "said"),))])
    assert cache.get("s1") == (Entity(0, 4, "PERSON", "subject", "said"),)
    cache.close()
    assert ParseCache(path, cache_key("spacy", "new-code")).get("s1") is None


def test_the_cache_says_which_sentences_it_holds_without_reading_their_entities(tmp_path: Path) -> None:
    cache = ParseCache(tmp_path / CACHE_FILE, cache_key("spacy", "code"))
    held = [f"s{i}" for i in range(0, 1200, 3)]  # over the 500 ids a query asks for at a time
    cache.put((sid, (Entity(0, 1, "GPE", "", ""),) if i % 2 else ()) for i, sid in enumerate(held))
    asked = [f"s{i}" for i in range(1200)]
    assert cache.holds(asked) == set(held)  # a sentence held with no entities is held
    assert cache.holds([]) == set()
    cache.close()


def test_reading_the_rest_in_a_new_process_reads_only_what_the_cache_lacks(corpus: Path, tmp_path: Path, monkeypatch) -> None:
    settings = Settings(model="fake", index_dir=tmp_path / "i")
    index = ensure_index(corpus, settings, embedder=FakeEmbedder())
    first = index.sentences[0].entities  # read on demand: the rows its reading covered go to the cache
    covered = [r for r in range(len(index.sentences)) if index.sentences.parser.knows(r)]
    assert covered and len(covered) < len(index.sentences)
    forget_cached()
    again = ensure_index(corpus, settings, embedder=FakeEmbedder())
    read: list[int] = []
    keep = again.sentences.parser.keep
    monkeypatch.setattr(again.sentences.parser, "keep", lambda found: read.extend(found) or keep(found))
    assert parse_rest(again.sentences) == len(again.sentences) - len(covered)
    assert sorted(read) == sorted(set(range(len(again.sentences))) - set(covered))
    assert again.sentences[0].entities == first


def test_a_cache_keyed_as_before_by_the_same_code_is_kept(tmp_path: Path) -> None:
    path = tmp_path / CACHE_FILE
    found = (Entity(0, 4, "PERSON", "subject", "said"),)
    cache = ParseCache(path, earlier_key("spacy", "this-code"))
    cache.put([("s1", found)])
    cache.close()
    assert ParseCache(path, cache_key("spacy", "a"), [earlier_key("spacy", "other-code")]).get("s1") is None
    cache = ParseCache(path, earlier_key("spacy", "this-code"))
    cache.put([("s1", found)])
    cache.close()
    kept = ParseCache(path, cache_key("spacy", "a"), [earlier_key("spacy", "this-code")])
    assert kept.get("s1") == found
    kept.close()
    assert ParseCache(path, cache_key("spacy", "a")).get("s1") == found  # re-keyed


def test_the_parsed_column_is_checked_on_load(corpus: Path, tmp_path: Path) -> None:
    from qa.indexing.columns import sentence_table

    index = ensure_index(corpus, Settings(model="fake", index_dir=tmp_path / "i", annotator="rules"), embedder=FakeEmbedder())
    columns = {**index.sentences.columns, "tokens": {"words": [], "offsets": [0] * (len(index.sentences) + 1), "ids": []}}
    columns["parsed"] = np.zeros(len(index.sentences), dtype=np.int64)
    with pytest.raises(ValueError, match="true or false"):
        sentence_table(columns, index.sentences.articles)
    columns["parsed"] = np.zeros(len(index.sentences) - 1, dtype=bool)
    with pytest.raises(ValueError, match="differ in length"):
        sentence_table(columns, index.sentences.articles)


def test_the_cache_forgets_what_no_build_holds_once_it_has_grown_by_a_build(tmp_path: Path) -> None:
    found = (Entity(0, 4, "PERSON", "subject", "said"),)
    cache = ParseCache(tmp_path / CACHE_FILE, cache_key("spacy", "a"))
    cache.put([(f"s{i}", found) for i in range(10)])
    assert cache.prune(["s1", "s2", "s3"]) == 7  # 10 written since it was made, more than the 3 kept
    assert cache.get("s4") is None and cache.get("s1") == found
    cache.put([("s11", found), ("s12", found)])
    assert cache.prune(["s1", "s2", "s3"]) == 0  # 2 written since, fewer than the 3 kept: not yet
    cache.put([("s13", found), ("s1", found)])  # rewriting an entry counts as writing
    assert cache.prune(["s1", "s2", "s3"]) == 3 and cache.get("s13") is None and cache.get("s2") == found
    cache.close()


def test_removing_articles_leaves_no_entities_of_theirs_behind(tmp_path: Path) -> None:
    from qa.api import read_articles

    folder = _corpus(tmp_path / "articles")
    settings = Settings(model="fake", index_dir=tmp_path / "i")
    index = ensure_index(folder, settings, embedder=FakeEmbedder())
    read_articles(index)  # every paragraph read and kept
    gone = [sid for sid, row in zip(index.sentences.ids, index.sentences.article_rows.tolist())
            if index.sentences.articles[row].doc_id == "long"]
    (folder / "long.txt").unlink()  # most of the sentences
    smaller = ensure_index(folder, settings, embedder=FakeEmbedder())
    cache = ParseCache(index_home(folder, settings) / CACHE_FILE, cache_key("spacy", annotation_fingerprint()))
    assert gone and not cache.get_many(gone)
    assert len(cache.get_many(list(smaller.sentences.ids))) == len(smaller.sentences)  # what it holds stays read
    cache.close()
