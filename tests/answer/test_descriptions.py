"""A description answered with the name it stands for, and the verification signals of an answer."""

from __future__ import annotations

from pathlib import Path

from qa.answer.confidence import names_unmatched, verify
from qa.answer.descriptions import named_referent
from qa.answer.question import analyse
from qa.indexing.catalog import ensure_index
from qa.text import content_tokens

STORY = (
    "Streaming service renews hit drama\n\n"
    "Netflix said on Monday that Squid Game would return for a third season. "
    "The South Korean show was the most watched series in the service's history. "
    "Filming of the show starts in May.\n"
)


def _index(tmp_path: Path, fake_settings, fake_embedder):  # noqa: ANN001, ANN202
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "renewal.txt").write_text(STORY, encoding="utf-8")
    return ensure_index(folder, fake_settings, embedder=fake_embedder)


def _sentence(index, words: str) -> int:  # noqa: ANN001
    return next(i for i in range(len(index.sentences)) if words in index.sentences[i].text)


def test_a_description_ending_in_the_noun_asked_about_is_answered_with_the_name_before_it(
    tmp_path, fake_settings, fake_embedder
) -> None:
    index = _index(tmp_path, fake_settings, fake_embedder)
    part = analyse("Which show was the most watched series in the service's history?").parts[0]
    described = _sentence(index, "The South Korean show")
    found = named_referent(index, part, "The South Korean show", described)
    assert found is not None
    name, where = found
    assert name == "Squid Game" and where == _sentence(index, "would return")
    text = index.articles[index.sentences[where].doc_id].text
    assert name in text[index.sentences[where].start : index.sentences[where].end]  # cited where it stands


def test_other_answers_and_other_questions_are_left_alone(tmp_path, fake_settings, fake_embedder) -> None:
    index = _index(tmp_path, fake_settings, fake_embedder)
    described = _sentence(index, "The South Korean show")
    which_show = analyse("Which show was the most watched series?").parts[0]
    assert named_referent(index, which_show, "Netflix", described) is None  # a name already
    assert named_referent(index, analyse("What starts in May?").parts[0], "The South Korean show", described) is None
    which_month = analyse("Which month does filming start?").parts[0]
    assert named_referent(index, which_month, "May", _sentence(index, "Filming")) is None  # not a noun we name


def test_the_verification_signals_of_an_answer(tmp_path, fake_settings, fake_embedder) -> None:
    index = _index(tmp_path, fake_settings, fake_embedder)
    described = _sentence(index, "The South Korean show")
    context = index.tokens_around(described, after=True)
    assert {"netflix", "renew", "film"} <= context  # the sentence before, the one after, the headline
    assert set(content_tokens("The South Korean show was the most watched series")) <= context
    assert names_unmatched("Which show did Netflix renew in 2023?", context) == 0.5  # "2023" is nowhere near
    assert names_unmatched("Which show was renewed?", context) == 0.0  # names nothing
    checked = verify(0.9, [0.8, 0.5, 0.1])
    assert checked.type_fit == 0.9 and abs(checked.margin - 0.3) < 1e-9 and checked.rival == 0.5
    assert verify(0.0, [0.7]).margin == 0.7
