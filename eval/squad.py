"""SQuAD v1.1 as open-domain QA: every article one file of a corpus, every question asked of all.

The articles are divided into train and held-out by title (`squad_split_titles`), so
rules can be tuned on one half and measured on the other.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from eval.files import build_question, make_evalset, read_text, sync_corpus
from eval.records import SPLITS, EvalQuestion, EvalSet, Span, question_type


def squad_split_titles(
    json_path: str | os.PathLike[str],
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Divide SQuAD articles into train and held-out, article by article.

    The rule: sort the titles (plain string order) and alternate, even positions to
    train and odd positions to held-out. It depends only on the titles, so it is
    stable across runs and no paragraph of a held-out article is ever in train.

    Args:
        json_path: a SQuAD v1.1 JSON file.

    Returns:
        (train titles, held-out titles), each sorted, titles as spelt in the file.
    """
    titles = sorted(article["title"] for article in _squad_articles(Path(json_path)))
    return tuple(titles[0::2]), tuple(titles[1::2])


def load_squad(
    json_path: str | os.PathLike[str], work_dir: str | os.PathLike[str], *, split: str = "all"
) -> EvalSet:
    """Write SQuAD articles as a corpus folder and return questions with offset evidence.

    Each article becomes `work_dir/<safe title>.txt`: the title (underscores as spaces),
    a blank line, then the paragraphs separated by blank lines. Line breaks inside a
    paragraph (formula subscripts such as "O\\n2" in the Oxygen article) become spaces,
    which keeps every offset and keeps a blank line meaning a paragraph break. The
    corpus is always every article; `split` only selects the questions.

    Args:
        json_path: a SQuAD v1.1 JSON file.
        work_dir: corpus folder; created if needed, files rewritten only when changed.
        split: "all", "train" or "heldout" (see `squad_split_titles`).

    Returns:
        The `EvalSet` "squad-<split>"; evidence holds one span per distinct gold answer
        occurrence.

    Raises:
        ValueError: on an unknown split, malformed JSON, an answer not at its offset,
            two titles with one safe file name, or other article files in work_dir.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    json_path, corpus = Path(json_path), Path(work_dir)
    train, heldout = squad_split_titles(json_path)
    chosen = {"all": train + heldout, "train": train, "heldout": heldout}[split]
    files: dict[str, str] = {}
    questions: list[EvalQuestion] = []
    try:
        for article in _squad_articles(json_path):
            title = article["title"]
            doc_id = _safe_stem(title)
            if doc_id in files:
                raise ValueError(f"{json_path}: two articles share the file name {doc_id}.txt")
            text, bases = _squad_document(title, article["paragraphs"])
            files[doc_id] = text
            if title not in chosen:
                continue
            tags = ("squad", "train" if title in train else "heldout")
            for para, base in zip(article["paragraphs"], bases):
                for qa in para["qas"]:
                    questions.append(_squad_question(json_path, qa, doc_id, text, base, tags))
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{json_path}: malformed SQuAD entry ({exc!r})") from exc
    sync_corpus(corpus, files)
    return make_evalset(f"squad-{split}", corpus, questions, json_path)


def load_squad2(
    v2_path: str | os.PathLike[str], v1_path: str | os.PathLike[str], work_dir: str | os.PathLike[str],
    *, split: str = "heldout",
) -> EvalSet:
    """SQuAD v2.0 questions, unanswerable ones included, asked over the v1.1 corpus.

    The v2.0 dev-half file covers 19 of the 24 articles of the v1.1 dev half with the same
    paragraph texts, so the corpus is the v1.1 one (the same folder and index as `load_squad`)
    and the articles are split by the v1.1 rule (`squad_split_titles` of `v1_path`): an article
    held out there is held out here. An unanswerable question (`is_impossible`) has no
    answers and no evidence; it was written to look answerable from its paragraph.

    Args:
        v2_path: the SQuAD v2.0 JSON file.
        v1_path: the SQuAD v1.1 JSON file whose articles make the corpus.
        work_dir: corpus folder (as for `load_squad`).
        split: "all", "train" or "heldout".

    Returns:
        The `EvalSet` "squad2-<split>".

    Raises:
        ValueError: as `load_squad`, and for a v2.0 paragraph that the v1.1 file lacks.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    v2_path, v1_path = Path(v2_path), Path(v1_path)
    corpus = load_squad(v1_path, work_dir, split="train").corpus_dir  # writes the whole corpus
    train, heldout = squad_split_titles(v1_path)
    chosen = {"all": train + heldout, "train": train, "heldout": heldout}[split]
    placed: dict[tuple[str, str], tuple[str, str, int]] = {}
    for article in _squad_articles(v1_path):
        doc_id = _safe_stem(article["title"])
        text, bases = _squad_document(article["title"], article["paragraphs"])
        for paragraph, base in zip(article["paragraphs"], bases):
            placed[(article["title"], paragraph["context"])] = (doc_id, text, base)
    questions: list[EvalQuestion] = []
    try:
        for article in _squad_articles(v2_path):
            title = article["title"]
            if title not in chosen:
                continue
            tags = ("squad2", "train" if title in train else "heldout")
            for paragraph in article["paragraphs"]:
                if (title, paragraph["context"]) not in placed:
                    raise ValueError(f"{v2_path}: a paragraph of {title!r} is not in {v1_path}")
                doc_id, text, base = placed[(title, paragraph["context"])]
                for qa in paragraph["qas"]:
                    if qa.get("is_impossible"):
                        q = qa["question"].strip()
                        questions.append(build_question(
                            f"{v2_path}: question {qa['id']}", id=qa["id"], question=q, answers=(), answer_parts=(),
                            answerable=False, gold_doc_ids=(), evidence=(), type=question_type(q),
                            tags=(*tags, "unanswerable"),
                        ))
                    else:
                        questions.append(_squad_question(v2_path, qa, doc_id, text, base, tags))
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{v2_path}: malformed SQuAD entry ({exc!r})") from exc
    return make_evalset(f"squad2-{split}", corpus, questions, v2_path)


def _squad_document(title: str, paragraphs: list[dict]) -> tuple[str, list[int]]:
    """The article file text and, per paragraph, the file offset of its character 0."""
    pieces, bases = [title.replace("_", " ")], []
    offset = len(pieces[0]) + 2
    for para in paragraphs:
        flat = _flatten(para["context"])
        bases.append(offset - (len(flat) - len(flat.lstrip())))
        pieces.append(flat.strip())
        offset += len(pieces[-1]) + 2
    return "\n\n".join(pieces) + "\n", bases


def _squad_question(
    source: Path, qa: dict, doc_id: str, text: str, base: int, tags: tuple[str, ...]
) -> EvalQuestion:
    answers: dict[str, None] = {}
    spans: dict[Span, None] = {}
    for gold in qa["answers"]:
        answer, start = _flatten(gold["text"]), base + gold["answer_start"]
        if not answer or text[start : start + len(answer)] != answer:
            raise ValueError(
                f"{source}: question {qa['id']}: answer {answer!r} is not at offset "
                f"{gold['answer_start']} of its paragraph"
            )
        answers[answer] = None
        spans[Span(doc_id, start, start + len(answer))] = None
    q = qa["question"].strip()
    return build_question(
        f"{source}: question {qa['id']}", id=qa["id"], question=q, answers=tuple(answers),
        answer_parts=(), answerable=bool(answers), gold_doc_ids=(doc_id,),
        evidence=tuple(spans), type=question_type(q), tags=tags,
    )


def _flatten(text: str) -> str:
    # One space per line-break character, so offsets into the original stay valid.
    return text.replace("\r", " ").replace("\n", " ")


def _squad_articles(path: Path) -> list[dict]:
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}:{exc.lineno}: malformed JSON ({exc.msg})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise ValueError(f"{path}: not SQuAD JSON (expected an object with a 'data' list)")
    return data["data"]


def _safe_stem(title: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", title)
    stem = re.sub(r"_+", "_", stem).strip("_")
    if not stem:
        raise ValueError(f"title {title!r} gives no usable file name")
    return stem
