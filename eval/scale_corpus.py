"""The scale benchmark's corpora (`eval.scale`): whole SQuAD v1.1 train articles, one per
file, until a size is reached; beyond the ~100k sentences SQuAD train holds, perturbed copies
(one word dropped from each sentence, so every copy is embedded and indexed anew)."""

from __future__ import annotations

import gzip
import json
import random
import re
import shutil
from pathlib import Path
from typing import Any

SPARE_SENTENCES = 40  # about one news article
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def squad_articles(path: Path) -> list[tuple[str, list[str], list[str]]]:
    """(title, paragraphs, questions) of every SQuAD article, in file order."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        data = json.load(handle)["data"]
    return [
        (
            a["title"].replace("_", " "),
            [" ".join(p["context"].split()) for p in a["paragraphs"]],
            [q["question"] for p in a["paragraphs"] for q in p["qas"]],
        )
        for a in data
    ]


def write_corpus(articles: list[tuple[str, list[str], list[str]]], sentences: int, folder: Path) -> dict[str, Any]:
    """Whole articles into `folder/corpus` until about `sentences` sentences; the next one is kept aside.

    Beyond the ~100k sentences SQuAD train holds, perturbed copies follow (`_perturbed`: one
    word dropped from each sentence, so every copy is embedded and indexed anew). Returns
    counts; questions of the original articles go to questions.json.
    """
    from qa.ingest.sentences import split_sentences

    corpus = folder / "corpus"
    if corpus.exists():
        shutil.rmtree(corpus)
    corpus.mkdir(parents=True)
    count, used, copies, questions = 0, 0, 0, []
    rng = random.Random(0)
    if len(articles) < 2:
        raise ValueError("the corpus needs at least two articles (one is kept aside for the update test)")
    while count < sentences:
        for title, paragraphs, asked in articles[:-1]:  # the last one stays free for the update test
            if count >= sentences:
                break
            if copies:
                title, paragraphs = f"{title} ({copies + 1})", [_perturbed(p, rng) for p in paragraphs]
            else:
                questions.extend(asked)
            text = title + "\n\n" + "\n\n".join(paragraphs) + "\n"
            (corpus / f"{_UNSAFE.sub('_', title)[:80]}.txt").write_text(text, encoding="utf-8")
            count += sum(len(split_sentences(p)) for p in paragraphs) + 1
            used += 1
        copies += 1
    spare_at = min(used, len(articles) - 1)
    # the article added and removed in the update test: news length (SQuAD's are five times longer)
    title, paragraphs, _ = articles[spare_at]
    kept, length = [], 0
    for paragraph in paragraphs:
        if length >= SPARE_SENTENCES:
            break
        kept.append(paragraph)
        length += len(split_sentences(paragraph))
    (folder / "spare.txt").write_text(title + "\n\n" + "\n\n".join(kept) + "\n", encoding="utf-8")
    (folder / "questions.json").write_text(json.dumps(questions), encoding="utf-8")
    return {"articles": used, "sentences": count, "copies": copies}


def _perturbed(paragraph: str, rng: random.Random) -> str:
    """The paragraph with one word, neither first nor last, dropped from each sentence of four words or more."""
    from qa.ingest.sentences import split_sentences

    kept = []
    for start, end in split_sentences(paragraph):
        words = paragraph[start:end].split()
        if len(words) >= 4:
            del words[rng.randrange(1, len(words) - 1)]
        kept.append(" ".join(words))
    return " ".join(kept)
