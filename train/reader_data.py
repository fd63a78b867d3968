"""Reading examples for the passage reader, cut straight from SQuAD articles.

Each question gives one group: its gold sentence (the sentence of its paragraph that
holds the answer, with the answer's character span) and up to `negatives` hard negatives,
the other sentences of the same article that share the most rare words with the question
(so the same paragraph and article, as the product's retriever would offer them). Each
sentence comes with its context as the product reads it: the article's title (its
headline) and the sentence before it in the article (`qa.read.base.reading_context`).
Sentences that contain an answer's text but are not the gold one are left out rather
than guessed at. Questions whose answer crosses a sentence boundary are skipped: the
product reads one sentence at a time.

No index is built, so the whole of SQuAD v1.1 train (87,599 questions) is cut in about a
minute.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from eval.squad import squad_split_titles
from qa.ingest.sentences import split_sentences
from qa.read.base import reading_context

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SQUAD_TRAIN = DATA / "squad-v1.1-train.json.gz"
SQUAD_DEV_HALF = DATA / "squad-v1.1-dev-half.json"
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Passage:
    text: str
    answer: tuple[int, int] | None  # character span of the answer inside `text`
    context: str = ""  # what a reader has just read: `qa.read.base.reading_context`


@dataclass(frozen=True)
class Group:
    """One question with its gold passage first, then its negatives."""

    question: str
    passages: tuple[Passage, ...]
    answers: tuple[str, ...]


def load_articles(path: Path, titles: set[str] | None = None) -> list[dict]:
    """SQuAD articles of a .json or .json.gz file, only those in `titles` when given."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        articles = json.load(handle)["data"]
    return [a for a in articles if titles is None or a["title"] in titles]


def training_articles(with_dev_half: bool = False) -> list[dict]:
    """All of SQuAD v1.1 train, and with `with_dev_half` the training half of the dev-half file.

    The stacking models (`python -m train.stacking`) learn from that training half, on the
    reader's own scores; a reader that never read those questions scores them as it will
    score new ones, so its confidence is learned honestly (cross-fitting by data split).
    """
    articles = load_articles(SQUAD_TRAIN)
    if with_dev_half:
        dev_train, _ = squad_split_titles(SQUAD_DEV_HALF)
        articles += load_articles(SQUAD_DEV_HALF, set(dev_train))
    return articles


def heldout_articles() -> list[dict]:
    """The held-out articles of the dev-half file (never trained on)."""
    _, heldout = squad_split_titles(SQUAD_DEV_HALF)
    return load_articles(SQUAD_DEV_HALF, set(heldout))


def cached_groups(path: Path, articles: Callable[[], list[dict]], negatives: int) -> list[Group]:
    """`groups_of(articles(), negatives)`, read from `path` when it was cut before, else cut and
    written there (each sentence's text stored once; the file travels where SQuAD does not)."""
    if path.is_file():
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            stored = json.load(handle)
        texts = stored["texts"]
        return [
            Group(q, tuple(Passage(texts[t], tuple(a) if a else None, texts[c]) for t, a, c in passages), tuple(answers))
            for q, passages, answers in stored["groups"]
        ]
    groups = groups_of(articles(), negatives)
    numbers: dict[str, int] = {}
    rows = [
        [g.question, [[numbers.setdefault(p.text, len(numbers)), p.answer, numbers.setdefault(p.context, len(numbers))]
                      for p in g.passages], list(g.answers)]
        for g in groups
    ]
    partial = path.with_suffix(".partial")
    with gzip.open(partial, "wt", encoding="utf-8") as handle:
        json.dump({"negatives": negatives, "texts": list(numbers), "groups": rows}, handle)
    partial.replace(path)
    return groups


def groups_of(articles: list[dict], negatives: int = 3) -> list[Group]:
    """One `Group` per question whose answer lies inside one sentence."""
    out: list[Group] = []
    for article in articles:
        sentences = sentences_of(article)
        words = [set(_WORD.findall(s[3].lower())) for s in sentences]
        frequency = Counter(w for ws in words for w in ws)
        idf = {w: math.log(1 + len(sentences) / n) for w, n in frequency.items()}
        contexts = contexts_of(article, sentences)
        for number, paragraph in enumerate(article["paragraphs"]):
            for qa in paragraph["qas"]:
                group = _group(qa, number, sentences, words, idf, negatives, contexts)
                if group is not None:
                    out.append(group)
    return out


def sentences_of(article: dict) -> list[tuple[int, int, int, str]]:
    """(paragraph number, start, end, text) of every sentence of a SQuAD article, in order."""
    sentences = []
    for number, paragraph in enumerate(article["paragraphs"]):
        context = paragraph["context"]
        sentences.extend((number, a, b, context[a:b]) for a, b in split_sentences(context))
    return sentences


def contexts_of(article: dict, sentences: list[tuple[int, int, int, str]]) -> list[str]:
    """Each sentence's reading context: the article's title as headline, the sentence before it."""
    headline = article["title"].replace("_", " ")
    return [reading_context(headline, sentences[i - 1][3] if i else "") for i in range(len(sentences))]


def context_lookup(articles: list[dict]) -> dict[tuple[str, str], str]:
    """(article title, sentence text) -> its reading context, for pairs cut elsewhere (`train.negatives`)."""
    found: dict[tuple[str, str], str] = {}
    for article in articles:
        sentences = sentences_of(article)
        for sentence, context in zip(sentences, contexts_of(article, sentences)):
            found.setdefault((article["title"], sentence[3]), context)
    return found


def _group(
    qa: dict, number: int, sentences: list, words: list[set[str]], idf: dict, negatives: int, contexts: list[str]
) -> Group | None:
    answer = qa["answers"][0]
    start, end = answer["answer_start"], answer["answer_start"] + len(answer["text"])
    gold = next((i for i, s in enumerate(sentences) if s[0] == number and s[1] <= start and end <= s[2]), None)
    if gold is None or not answer["text"].strip():
        return None
    answers = tuple(dict.fromkeys(a["text"] for a in qa["answers"]))
    question_words = set(_WORD.findall(qa["question"].lower()))
    scored = []
    for i, sentence in enumerate(sentences):
        lowered = sentence[3].lower()
        if i == gold or any(a.lower() in lowered for a in answers):
            continue
        scored.append((-sum(idf.get(w, 0.0) for w in question_words & words[i]), i))
    scored.sort()
    base = sentences[gold][1]
    passages = [Passage(sentences[gold][3], (start - base, end - base), contexts[gold])]
    passages += [Passage(sentences[i][3], None, contexts[i]) for _, i in scored[:negatives]]
    return Group(qa["question"], tuple(passages), answers)
