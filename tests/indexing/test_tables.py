"""Column tables: a loaded index's sentences and tokens read back exactly as they were built."""

from __future__ import annotations

import json
import random
from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.errors import IndexCorruptError
from qa.indexing import store
from qa.indexing.manifest import manifest_checksum
from qa.indexing import joining
from qa.indexing.joining import Rows, first_use_ordered, joined_tokens
from qa.indexing.postings import Postings, word_postings
from qa.indexing.columns import columns_json, sentence_columns, sentence_table, token_columns, token_ids, token_table
from qa.indexing.tables import TokenTable, doc_ids_of, entities_by_id
from qa.types import Article, Entity, Sentence

ARTICLES = (
    Article("a", "A", "Mayor Anna Lind cut the ribbon. It rained on Saturday.", "a.txt", "0" * 64),
    Article("b", "B", "The festival drew 4,000 people.", "b.txt", "1" * 64),
)
SENTENCES = (
    Sentence("s0", "a", 0, 0, 31, "Mayor Anna Lind cut the ribbon.", True,
             (Entity(6, 15, "PERSON", "subject", "cut"), Entity(20, 30, "NOUN", "object", "cut"))),
    Sentence("s1", "a", 1, 32, 54, "It rained on Saturday.", False, (Entity(45, 53, "DATE", "oblique", "rained"),)),
    Sentence("s2", "b", 0, 0, 31, "The festival drew 4,000 people."),
)
TOKENS = (("mayor", "anna", "lind", "cut", "ribbon"), ("rained", "saturday"), ())


def loaded() -> tuple:
    columns = sentence_columns(SENTENCES, TOKENS, {"a": 0, "b": 1})
    return sentence_table(orjson.loads(columns_json(columns)), ARTICLES)


def test_sentences_and_tokens_read_back_equal_to_what_was_written() -> None:
    sentences, tokens = loaded()
    assert sentences == SENTENCES and tokens == TOKENS
    assert list(sentences) == list(SENTENCES) and sentences[-1] == SENTENCES[-1]
    assert sentences[1:] == SENTENCES[1:] and tokens[:2] == TOKENS[:2]
    assert sentences[0] is sentences[0]  # made once
    assert doc_ids_of(sentences) == ["a", "a", "b"]
    assert entities_by_id(sentences)["s1"] == SENTENCES[1].entities and "s9" not in entities_by_id(sentences)
    with pytest.raises(IndexError):
        sentences[3]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 7), st.booleans()), min_size=1, max_size=30),
       st.lists(st.text(alphabet="0123456789abcdefABx_+ ", min_size=0, max_size=17), max_size=5))
def test_entities_by_id_of_numbered_ids_answer_as_a_dictionary_of_them(rows, strangers) -> None:
    """Ids held as numbers are looked up by bisection: the same answers as a dictionary of the
    parsed rows' ids (the last row of a repeated id), for ids present, absent and malformed."""
    ids = [f"{7 * 10**14 + number:016x}" for number, _ in rows]
    parsed = [done for _, done in rows]
    sentences = tuple(Sentence(sid, "a", i, 0, 31, SENTENCES[0].text, True, (Entity(0, i % 5 + 1, "X", "", ""),))
                      for i, sid in enumerate(ids))
    columns = orjson.loads(columns_json(sentence_columns(sentences, [()] * len(ids), {"a": 0, "b": 1})))
    columns["parsed"] = parsed
    table, _ = sentence_table(columns, ARTICLES)
    assert type(table.ids).__name__ == "HexIds"
    found = entities_by_id(table)
    expected = {sid: sentences[i].entities for i, sid in enumerate(ids) if parsed[i]}
    assert len(found) == len(expected) and list(found) == list(expected)
    for sid in [*ids, f"{8 * 10**14:016x}", *strangers, ids[0].upper(), "0x" + ids[0][2:]]:
        assert (sid in found) == (sid in expected)
        if sid in expected:
            assert found[sid] == expected[sid]
        else:
            with pytest.raises(KeyError):
                found[sid]


def test_postings_from_a_token_table_score_as_from_tuples() -> None:
    rng = random.Random(0)
    documents = tuple(tuple(rng.choices([f"w{i}" for i in range(30)], k=rng.randint(0, 9))) for _ in range(200))
    table = token_table(orjson.loads(columns_json(token_columns(documents))))
    assert isinstance(table, TokenTable) and table == documents
    assert table.postings is not None  # stored with the tokens: not sorted out again on load
    columns = orjson.loads(columns_json(token_columns(documents)))
    del columns["postings"]  # as builds before 2026-12-06 stored them: worked out on load
    unstored = token_table(columns)
    assert unstored.postings is None
    plain, columnar, worked_out = Postings(documents), Postings(table), Postings(unstored)
    assert plain.counts() == columnar.counts() == worked_out.counts()
    for query in (["w1"], ["w2", "w2", "w29"], ["unseen", "w7"]):
        np.testing.assert_array_equal(plain.scores(query), columnar.scores(query))
        np.testing.assert_array_equal(plain.scores(query), worked_out.scores(query))


@pytest.mark.parametrize(
    "damage",
    [
        lambda c: c["entities"]["offsets"].pop(),
        lambda c: c["article"].__setitem__(0, 7),
        lambda c: c["entities"]["label"].__setitem__(0, 99),
        lambda c: c["tokens"]["ids"].__setitem__(0, 99),
        lambda c: c["tokens"]["offsets"].__setitem__(1, 9),
        lambda c: c["position"].pop(),
        lambda c: c["start"].__setitem__(0, "zero"),
        lambda c: c["end"].__setitem__(2, 32),  # past the end of article b (31 characters)
        lambda c: c["start"].__setitem__(1, 60),  # start past end
        lambda c: c["entities"]["end"].__setitem__(2, 70),  # an entity past its article's end
        lambda c: c["tokens"]["postings"]["documents"].__setitem__(0, 3),  # a document the table lacks
        lambda c: c["tokens"]["postings"]["counts"].__setitem__(0, 5),  # more tokens than the table holds
        lambda c: c["tokens"]["postings"]["frequency"].pop(),
    ],
    ids=["offsets", "article", "label", "token-id", "token-offsets", "short-column", "text-number",
         "end-past-text", "start-past-end", "entity-past-text", "postings-document", "postings-count",
         "postings-words"],
)
def test_inconsistent_columns_are_refused(damage) -> None:
    columns = json.loads(columns_json(sentence_columns(SENTENCES, TOKENS, {"a": 0, "b": 1})))
    damage(columns)
    with pytest.raises((ValueError, KeyError, TypeError)):
        sentence_table(columns, ARTICLES)


@pytest.mark.parametrize(
    "table, damage",
    [
        ("sentences", lambda c: c["article"].__setitem__(0, 99)),
        # offsets moved past the article's end, checksums recomputed: once loaded and cited as an empty quote
        ("sentences", lambda c: (c["start"].__setitem__(0, 10**6), c["end"].__setitem__(0, 10**6 + 40))),
        ("chunks", lambda c: c["end"].__setitem__(0, 10**6)),
    ],
    ids=["no-article", "sentence-past-text", "chunk-past-text"],
)
def test_a_resealed_inconsistent_index_is_refused_as_inconsistent(
    tiny_corpus, fake_settings, fake_embedder, table, damage
) -> None:
    from qa.indexing.catalog import ensure_index
    from tests.indexing.test_index import current_build

    ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    build = current_build(fake_settings, tiny_corpus)
    columns = _copied(store.read_columns(build, table))  # loaded columns are read in place, read-only
    damage(columns)
    for name in (f"{table}.json", f"{table}.npz"):
        (build / name).unlink()
    checksums = store.write_columns(build, table, columns)
    manifest = json.loads((build / store.MANIFEST).read_bytes())
    manifest["checksums"].update(checksums)
    manifest["checksum"] = manifest_checksum(manifest)
    (build / store.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(IndexCorruptError, match="inconsistent"):
        store.load(build)


def _copied(columns: Any) -> Any:
    """Columns as loaded, with every array a writable copy."""
    if isinstance(columns, dict):
        return {key: _copied(value) for key, value in columns.items()}
    return columns.copy() if isinstance(columns, np.ndarray) else columns


def test_joining_rows_of_a_table_with_fresh_records_equals_joining_the_records() -> None:
    from qa.indexing.joining import Rows, joined_sentences, joined_tokens

    table, tokens = loaded()
    fresh = (Sentence("s3", "b", 1, 0, 12, "The festival", True, (Entity(4, 12, "EVENT", "subject", "drew"),)),)
    fresh_tokens = (("festival", "lind"),)
    order = (ARTICLES[1], ARTICLES[0])  # a new build may order the articles differently
    joined = joined_sentences([Rows(table, 2, 3), fresh, Rows(table, 0, 2)], order)
    plain = SENTENCES[2:3] + fresh + SENTENCES[0:2]
    assert joined == plain and doc_ids_of(joined) == ["b", "b", "a", "a"]
    words = joined_tokens([Rows(tokens, 2, 3), fresh_tokens, Rows(tokens, 0, 2)])
    assert words == TOKENS[2:3] + fresh_tokens + TOKENS[0:2]
    # the word postings cut from the stored ones are those of the joined tokens sorted out afresh
    assert tokens.postings is not None
    fresh = word_postings(words.ids, np.diff(words.offsets), len(words.words))
    for part in ("frequency", "documents", "counts"):
        np.testing.assert_array_equal(getattr(words.postings, part), getattr(fresh, part))
    assert words.words == token_columns(TOKENS[2:3] + fresh_tokens + TOKENS[0:2])["words"]  # first-appearance order
    again = sentence_table(orjson.loads(columns_json(sentence_columns(joined, words, {"b": 0, "a": 1}))), order)[0]
    assert again == plain


def test_where_each_articles_rows_start_is_counted_for_a_table_as_found_row_by_row() -> None:
    from qa.indexing.tables import article_starts

    table, _ = loaded()
    assert article_starts(table, ARTICLES) == article_starts(SENTENCES, ARTICLES) == [0, 2, 3]
    assert article_starts(table, list(ARTICLES)) == [0, 2, 3]  # the same articles in another sequence
    without_rows = (ARTICLES[0], Article("c", "C", "Nothing here.", "c.txt", "c" * 64), ARTICLES[1])
    assert article_starts(SENTENCES, without_rows) == [0, 2, 2, 3]


@pytest.mark.parametrize("documents", [(), ((),), ((), (), ())])
def test_tables_without_a_single_token_have_postings_that_fit_them(documents) -> None:  # noqa: ANN001
    # found when a folder whose one article holds nothing quotable was built and read back
    table = joined_tokens([documents])
    assert table.postings.problem(len(table.words), len(documents), len(table.ids)) is None
    held = word_postings(np.zeros(0, dtype=np.int64), np.zeros(len(documents), dtype=np.int64), 0)
    assert held.problem(0, len(documents), 0) is None and len(held.counts) == 0


def _table(documents: tuple, shuffled: random.Random | None = None) -> TokenTable:
    """A `TokenTable` of the documents with stored postings; with `shuffled`, its word ids
    numbered in a random order rather than in order of first appearance."""
    words, offsets, ids = token_ids(documents)
    if shuffled is not None and words:
        order = list(range(len(words)))
        shuffled.shuffle(order)
        words = [words[old] for old in order]
        ids = np.argsort(order)[ids] if len(ids) else ids
    table = TokenTable(words, offsets, ids, word_postings(ids, np.diff(offsets), len(words)))
    firsts = ids[np.sort(np.unique(ids, return_index=True)[1])].tolist()  # each word where it first appears
    assert first_use_ordered(table) is (firsts == list(range(len(firsts))))
    return table


@pytest.mark.parametrize("blocks", [64, 0], ids=["in-blocks-where-few", "mostly-posting-by-posting"])
@pytest.mark.parametrize("seed", range(40))
def test_joined_tokens_equal_the_tokens_numbered_and_sorted_out_afresh(seed: int, blocks: int, monkeypatch) -> None:  # noqa: ANN001
    # an update's pieces (prefixes, middles and ends of tables, fresh records, in any order) joined
    # equal the same documents joined as plain records: vocabulary order, ids and postings, whether
    # the postings are placed a block of words at a time or each on its own
    monkeypatch.setattr(joining, "_FEWEST_BLOCKS", blocks)
    monkeypatch.setattr(joining, "_PLACED_AT_ONCE", 7)  # several steps of whole words
    rng = random.Random(seed)
    vocabulary = [f"w{i}" for i in range(rng.choice([3, 20, 200]))]

    def documents(count: int) -> tuple:
        return tuple(tuple(rng.choices(vocabulary, k=rng.choice([0, 1, 3, 12]))) for _ in range(count))

    tables = []
    for _ in range(rng.randint(1, 3)):
        own = documents(rng.randint(0, 30))
        tables.append((own, _table(own, random.Random(seed) if rng.random() < 0.3 else None)))
    pieces, plain = [], []
    for _ in range(rng.randint(1, 6)):
        own, table = rng.choice(tables)
        if rng.random() < 0.3:
            fresh = documents(rng.randint(0, 4))
            pieces.append(fresh)
            plain.extend(fresh)
            continue
        start = rng.choice([0, 0, rng.randint(0, len(own))])
        stop = rng.choice([len(own), rng.randint(start, len(own))])
        pieces.append(Rows(table, start, stop))
        plain.extend(own[start:stop])
    joined = joined_tokens(pieces)
    words, offsets, ids = token_ids(tuple(plain))
    assert joined.words == words and joined == tuple(plain)
    np.testing.assert_array_equal(joined.offsets, offsets)
    np.testing.assert_array_equal(joined.ids, ids)
    assert first_use_ordered(joined)
    afresh = word_postings(ids, np.diff(offsets), len(words))
    for part in ("frequency", "documents", "counts"):
        np.testing.assert_array_equal(getattr(joined.postings, part), getattr(afresh, part))
