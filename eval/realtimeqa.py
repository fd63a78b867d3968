"""RealTime QA's 2023 news quiz, asked open-ended over a year of real news, each question as of its day.

The corpus is the quiz's article dump (`../shared/data/realtimeqa-2023/articles.jsonl.gz`,
7,584 articles) written as one JSON-lines file, which the product reads with its own
dump ingestion (each row one article, `articles#<id>`). Every question is asked as of the
day it was asked (`EvalQuestion.as_of`): "this week" means the days before it.

Weeks are split before any question is read, by the ISO week number of the day a
question was asked: odd weeks are held out, even weeks are for learning (`week_split`).

`--sample N` keeps runs short: N questions of the split drawn at random, and as corpus
their own articles plus `DISTRACTORS_PER_QUESTION` (10) articles per question drawn at
random from the rest of the year's dump; the full dump is the reference run.

A question's gold evidence is every place its answer's text occurs (case folded) in the
articles the quiz lists for it, so retrieval ranks (R@k) are measured as for SQuAD.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import re
from datetime import date
from pathlib import Path

from eval.files import build_question, make_evalset
from eval.records import SPLITS, EvalQuestion, EvalSet, Span, question_type

DUMP_NAME = "articles.jsonl"
DISTRACTORS_PER_QUESTION = 10


def week_split(asked: date) -> str:
    """"heldout" for a question asked in an odd ISO week, "train" for an even one."""
    return "heldout" if asked.isocalendar()[1] % 2 else "train"


def load_realtimeqa(
    data_dir: str | os.PathLike[str],
    work_dir: str | os.PathLike[str],
    *,
    split: str = "heldout",
    sample: int | None = None,
    seed: int = 0,
) -> EvalSet:
    """The quiz's questions of `split` and the corpus they are asked over.

    Args:
        data_dir: the folder holding `articles.jsonl.gz` and `questions.jsonl`.
        work_dir: where the corpus folder is written (one per sample, rewritten only when changed).
        split: "all", "train" or "heldout" (see `week_split`).
        sample: ask only this many questions, over their articles and distractors.
        seed: seed of the sample.

    Raises:
        ValueError: an unknown split, or a question naming an article the dump lacks.
        FileNotFoundError: the data is missing (the message says where it comes from).
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    data_dir, work_dir = Path(data_dir), Path(work_dir)
    rows = _questions(data_dir / "questions.jsonl")
    chosen = [r for r in rows if split == "all" or week_split(date.fromisoformat(r["question_date"])) == split]
    articles = _articles(data_dir / "articles.jsonl.gz")
    ids = list(articles)
    if sample is not None:
        chosen = sorted(random.Random(seed).sample(chosen, min(sample, len(chosen))), key=lambda r: r["id"])
        needed = {d for r in chosen for d in r["docs"]}
        rest = sorted(set(ids) - needed)
        extra = random.Random(seed + 1).sample(rest, min(len(rest), DISTRACTORS_PER_QUESTION * len(chosen)))
        ids = [i for i in ids if i in needed or i in set(extra)]
        folder = work_dir / f"realtimeqa-sample{sample}-seed{seed}-{split}"
    else:
        folder = work_dir / "realtimeqa"
    _write_dump(folder / DUMP_NAME, [articles[i] for i in ids])
    stem = Path(DUMP_NAME).stem
    questions = [_question(r, articles, stem) for r in chosen]
    name = f"realtimeqa-{split}" + (f"-sample{sample}-seed{seed}" if sample is not None else "")
    return make_evalset(name, folder, questions, data_dir / "questions.jsonl")


def _question(row: dict, articles: dict[str, dict], stem: str) -> EvalQuestion:
    missing = [d for d in row["docs"] if d not in articles]
    if missing:
        raise ValueError(f"question {row['id']} names articles the dump lacks: {missing}")
    answer = " ".join(str(row["answer"]).split())
    evidence = []
    pattern = re.compile(re.escape(answer), re.IGNORECASE) if answer else None
    for doc in row["docs"]:
        for match in pattern.finditer(articles[doc]["text"]) if pattern else ():
            evidence.append(Span(f"{stem}#{doc}", match.start(), match.end()))
    text = " ".join(row["question"].split())
    return build_question(
        f"realtimeqa question {row['id']}", id=str(row["id"]), question=text, answers=(answer,), answer_parts=(),
        answerable=True, gold_doc_ids=tuple(f"{stem}#{d}" for d in row["docs"]), evidence=tuple(evidence),
        type=question_type(text), tags=("realtimeqa", week_split(date.fromisoformat(row["question_date"]))),
        as_of=row["question_date"],
    )


def _questions(path: Path) -> list[dict]:
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: RealTime QA's 2023 quiz comes with ../shared/data/realtimeqa-2023 (see its README)"
        )
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    # the quiz reuses a few ids a week later ("20230414_20" on 14 and 21 April): the later one
    # is named by its day too, so every question keeps its own row in the results
    seen: set[str] = set()
    for row in rows:
        if str(row["id"]) in seen:
            row["id"] = f"{row['id']}@{row['question_date']}"
        seen.add(str(row["id"]))
    return rows


def _articles(path: Path) -> dict[str, dict]:
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: the year's article dump comes with ../shared/data/realtimeqa-2023 (see its README)"
        )
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return {str(r["id"]): r for r in rows}


def _write_dump(path: Path, rows: list[dict]) -> None:
    """The rows as one JSON-lines file, rewritten only when its content changes (the index then stays)."""
    data = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows).encode("utf-8")
    if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_bytes(data)
    partial.replace(path)
