"""Unanswerable pairs made from answerable questions (train.negatives), on a hand-made paragraph
with its entities given, so each kind is checked without a parser."""

from __future__ import annotations

import random
from pathlib import Path

from train.negatives import Negative, _entity_pool, _idf, _Sentence, negatives_of, read_negatives, write_negatives

PARAGRAPH = [
    ("Chopin left Warsaw for Vienna in 1830.", (("Chopin", "PERSON"), ("Warsaw", "GPE"), ("Vienna", "GPE"), ("1830", "DATE"))),
    ("Chopin gave his first concert in Paris.", (("Chopin", "PERSON"), ("Paris", "GPE"))),
    ("Liszt said Chopin would never leave Warsaw in spirit.", (("Liszt", "PERSON"), ("Chopin", "PERSON"), ("Warsaw", "GPE"))),
]
OTHER = [("Berlin and 1848 appear elsewhere in the article.", (("Berlin", "GPE"), ("1848", "DATE")))]


def _sentences() -> list[_Sentence]:
    out, offset = [], 0
    for paragraph, rows in enumerate((PARAGRAPH, OTHER)):
        offset = 0
        for text, entities in rows:
            out.append(_Sentence(paragraph, offset, offset + len(text), text, entities))
            offset += len(text) + 1
    return out


def _qa(question: str, answer: str) -> dict:
    context = " ".join(text for text, _ in PARAGRAPH)
    return {"question": question, "answers": [{"text": answer, "answer_start": context.index(answer)}]}


def _made(question: str, answer: str, entities: tuple) -> dict[str, Negative]:
    sentences = _sentences()
    made = negatives_of(_qa(question, answer), entities, 0, sentences, _entity_pool(sentences), _idf(sentences),
                        "Chopin", random.Random(0))
    return {n.kind: n for n in made}


def test_a_swapped_name_is_one_the_gold_sentence_does_not_name_and_of_the_same_type() -> None:
    made = _made("When did Chopin leave Warsaw?", "1830", (("Chopin", "PERSON"), ("Warsaw", "GPE")))
    swap = made["swap"]
    assert swap.sentence == PARAGRAPH[0][0] and swap.answer == "1830"
    old, new = swap.change.split(" -> ")
    assert old in ("Chopin", "Warsaw") and new not in swap.sentence
    assert new in {"Liszt"} if old == "Chopin" else new in {"Paris", "Berlin"}  # Vienna is in the sentence
    assert swap.question == "When did Chopin leave Warsaw?".replace(old, new)


def test_numbers_swap_only_for_numbers() -> None:
    made = _made("Where did Chopin go in 1830?", "Vienna", (("Chopin", "PERSON"), ("1830", "DATE")))
    assert made["swap"].change in ("1830 -> 1848", "Chopin -> Liszt")


def test_an_opposite_word_the_sentence_lacks_or_a_negation() -> None:
    made = _made("Where did Chopin give his first concert?", "Paris", (("Chopin", "PERSON"),))
    assert made["antonym"].question == "Where did Chopin give his last concert?"
    assert made["antonym"].sentence == PARAGRAPH[1][0]
    negated = _made("What was the city Chopin left?", "Warsaw", (("Chopin", "PERSON"),))
    assert negated["antonym"].question == "What was not the city Chopin left?"


def test_a_sentence_lacking_what_is_asked_for_and_a_neighbour_without_the_answer() -> None:
    made = _made("When did Chopin leave Warsaw?", "1830", (("Chopin", "PERSON"), ("Warsaw", "GPE")))
    lacking, neighbour = made["lacking"], made["neighbour"]
    assert lacking.question == neighbour.question == "When did Chopin leave Warsaw?"
    for pair in (lacking, neighbour):
        assert "1830" not in pair.sentence and pair.sentence in {t for t, _ in PARAGRAPH}
    assert lacking.sentence != neighbour.sentence
    who = _made("Who said Chopin would never leave?", "Liszt", (("Chopin", "PERSON"),))
    assert "lacking" not in who  # every other sentence of the paragraph names a person


def test_pairs_are_written_and_read_back(tmp_path: Path) -> None:
    made = list(_made("When did Chopin leave Warsaw?", "1830", (("Chopin", "PERSON"), ("Warsaw", "GPE"))).values())
    write_negatives(made, tmp_path / "n.jsonl.gz")
    assert list(read_negatives(tmp_path / "n.jsonl.gz")) == made
