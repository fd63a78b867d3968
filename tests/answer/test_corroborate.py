"""Support across articles: grouping answers, noisy-or scores, carriers, duplicates, rivals."""

from __future__ import annotations

import pytest

from qa.answer.corroborate import carries, collapse_duplicates, corroborated, group_spans, one_per_article
from qa.indexing.catalog import ensure_index


@pytest.fixture
def index(tiny_corpus, fake_settings, fake_embedder):
    return ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)


def sentence_with(index, words: str) -> int:
    return next(i for i, s in enumerate(index.sentences) if words in s.text)


def test_noisy_or_combines_articles_and_stays_a_probability() -> None:
    assert corroborated([0.5, 0.5]) == pytest.approx(0.75)
    assert corroborated([]) == 0.0
    assert corroborated([1.5, -0.2]) == 1.0  # clipped into [0, 1]
    assert corroborated([0.6, 0.3]) > max(0.6, 0.3)


def test_carries_matches_whole_words_of_the_answer(index) -> None:
    ribbon = sentence_with(index, "cut the ribbon")
    assert carries(index, ribbon, "Anna Lind")
    assert carries(index, ribbon, "Lind's")  # a possessive ending does not count
    assert not carries(index, ribbon, "Lindsay")
    assert not carries(index, ribbon, "the")  # nothing left of a stopword answer


def test_groups_join_a_name_with_its_longer_form_and_score_by_article(index) -> None:
    ribbon = sentence_with(index, "cut the ribbon")
    repairs = sentence_with(index, "repairs cost")
    groups = group_spans(index, [("Anna Lind", 0.6, ribbon), ("Lind", 0.3, repairs), ("Paul Okafor", 0.5, repairs)])
    assert [g.answer for g in groups] == ["Anna Lind", "Paul Okafor"]
    # the two sentences are in the same article: its best score counts once, not twice
    assert groups[0].score == pytest.approx(0.6)
    assert groups[0].sentences == (ribbon, repairs)


def test_one_sentence_per_article_and_duplicates_collapse(index) -> None:
    ribbon = sentence_with(index, "cut the ribbon")
    reopened = sentence_with(index, "reopened on Monday")
    port = sentence_with(index, "closed the port")
    assert one_per_article(index, [ribbon, reopened, port]) == [ribbon, port]
    assert collapse_duplicates(index, [ribbon, ribbon, port]) == [[ribbon, ribbon], [port]]


def test_an_answer_is_carried_across_unbreakable_spaces_soft_hyphens_and_odd_dashes(
    tmp_path, fake_settings, fake_embedder
) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    written = {
        "plain.txt": "The group is led by Abu Bakr al-Baghdadi, officials said.",
        "nbsp.txt": "Its leader, Abu\u00a0Bakr al\u2011Baghdadi, spoke on Thursday.",
        "soft.txt": "Abu Bakr al-Bagh\u00addadi has not been seen since March.",
    }
    for name, text in written.items():
        (folder / name).write_text(text, encoding="utf-8")
    index = ensure_index(folder, fake_settings, embedder=fake_embedder)
    carriers = [s for s in range(len(index.sentences)) if carries(index, s, "Abu Bakr al-Baghdadi")]
    assert {index.sentences[s].doc_id for s in carriers} == {"plain", "nbsp", "soft"}


def test_the_answer_mark_finds_the_answer_as_a_reader_sees_it() -> None:
    from qa.reply.cards import answer_spans

    quote = "Leader Abu\u00a0Bakr al\u2011Bagh\u00addadi said the \u201cIslamic State\u201d won"
    marked = [quote[a:b] for a, b in answer_spans(quote, ["Abu Bakr al-Baghdadi", '"Islamic State"'])]
    assert marked == ["Abu\u00a0Bakr al\u2011Bagh\u00addadi", "\u201cIslamic State\u201d"]
    assert answer_spans("Abu Bakrx said", ["Abu Bakr"]) == []  # still whole words only
