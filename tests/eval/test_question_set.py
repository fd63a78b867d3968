"""Validate the project's own evaluation question set, eval/questions.jsonl.

The set is hand-written over the four seed articles in seeds/. These checks keep it honest:
every row has the agreed shape, every gold answer and evidence sentence can really be found
in the articles it cites, unanswerable rows carry no gold at all, and the set keeps a spread
of question types. Each test gathers every offending row before failing, so one run lists
all the problems at once.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
QUESTIONS = ROOT / "eval" / "questions.jsonl"

KEYS = {
    "id",
    "question",
    "answers",
    "answer_parts",
    "answerable",
    "gold_doc_ids",
    "evidence",
    "type",
    "tags",
}
TYPES = {"who", "when", "where", "what", "why", "how_many", "how", "two_part"}
TAGS = {"single_article", "multi_article", "paraphrase", "disagreement", "unanswerable"}
ID_PATTERN = re.compile(r"^seed-\d{3,}$")

MIN_ANSWERABLE = 80
MIN_UNANSWERABLE = 15
MIN_PER_TYPE = {"who": 5, "when": 5, "what": 5, "how_many": 5, "two_part": 5, "where": 3, "why": 3}

# Web-page debris (photo captions and credits) is never quotable evidence.
DEBRIS_MARKERS = ("Image copyright", "Image caption", "(illustration)")


@lru_cache(maxsize=1)
def articles() -> dict[str, str]:
    """doc_id (file name without .txt) -> article text, read as UTF-8."""
    docs = {p.stem: p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))}
    assert docs, f"no seed articles found in {SEEDS}"
    return docs


@lru_cache(maxsize=1)
def rows() -> tuple[dict, ...]:
    """Every row of the question file, in order; fails on the first line that does not parse."""
    assert QUESTIONS.is_file(), f"question set not found at {QUESTIONS}"
    parsed = []
    for number, line in enumerate(QUESTIONS.read_text(encoding="utf-8").splitlines(), start=1):
        assert line.strip(), f"{QUESTIONS.name} line {number} is blank"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise AssertionError(f"{QUESTIONS.name} line {number} is not valid JSON: {exc}") from exc
        assert isinstance(row, dict), f"{QUESTIONS.name} line {number} is not a JSON object"
        parsed.append(row)
    return tuple(parsed)


def answerable_rows() -> list[dict]:
    return [r for r in rows() if r.get("answerable") is True]


def unanswerable_rows() -> list[dict]:
    return [r for r in rows() if r.get("answerable") is False]


def gold_texts(row: dict) -> list[str]:
    docs = articles()
    return [docs[d] for d in row["gold_doc_ids"] if d in docs]


def found_in(alias: str, texts: list[str]) -> bool:
    """Case-insensitive verbatim occurrence in any of the texts."""
    needle = alias.lower()
    return any(needle in t.lower() for t in texts)


def fail_if(problems: list[str], what: str) -> None:
    assert not problems, f"{len(problems)} {what}:\n" + "\n".join(problems)


def is_str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


# ---------------------------------------------------------------------------- shape


def test_every_row_has_exactly_the_agreed_keys() -> None:
    problems = []
    for i, row in enumerate(rows(), start=1):
        keys = set(row)
        if keys != KEYS:
            problems.append(
                f"line {i} ({row.get('id')}): missing {sorted(KEYS - keys)}, extra {sorted(keys - KEYS)}"
            )
    fail_if(problems, "rows with the wrong keys")


def test_field_types() -> None:
    problems = []
    for row in rows():
        rid = row.get("id")
        if not isinstance(row.get("question"), str) or not row["question"].strip():
            problems.append(f"{rid}: question must be a non-empty string")
        for key in ("answers", "gold_doc_ids", "evidence", "tags"):
            if not is_str_list(row.get(key)):
                problems.append(f"{rid}: {key} must be a list of strings, got {row.get(key)!r}")
        parts = row.get("answer_parts")
        if not isinstance(parts, list) or not all(is_str_list(p) for p in parts):
            problems.append(f"{rid}: answer_parts must be a list of lists of strings, got {parts!r}")
        if not isinstance(row.get("answerable"), bool):
            problems.append(f"{rid}: answerable must be true or false, got {row.get('answerable')!r}")
        for key in ("answers", "evidence"):
            if is_str_list(row.get(key)) and any(not v.strip() for v in row[key]):
                problems.append(f"{rid}: {key} holds an empty string")
    fail_if(problems, "rows with badly typed fields")


def test_ids_are_well_formed_and_unique() -> None:
    ids = [row.get("id") for row in rows()]
    malformed = [repr(i) for i in ids if not isinstance(i, str) or not ID_PATTERN.match(i)]
    fail_if(malformed, "ids not of the form seed-NNN")
    duplicates = [f"{i} x{n}" for i, n in Counter(ids).items() if n > 1]
    fail_if(duplicates, "duplicated ids")


def test_questions_are_unique() -> None:
    counts = Counter(" ".join(str(row.get("question", "")).lower().split()) for row in rows())
    fail_if([f"{q!r} x{n}" for q, n in counts.items() if n > 1], "duplicated questions")


def test_type_and_tags_are_from_the_allowed_sets() -> None:
    problems = []
    for row in rows():
        if row.get("type") not in TYPES:
            problems.append(f"{row.get('id')}: type {row.get('type')!r} not in {sorted(TYPES)}")
        bad = [t for t in row.get("tags", []) if t not in TAGS]
        if bad:
            problems.append(f"{row.get('id')}: tags {bad} not in {sorted(TAGS)}")
        if len(set(row.get("tags", []))) != len(row.get("tags", [])):
            problems.append(f"{row.get('id')}: repeated tag in {row.get('tags')}")
    fail_if(problems, "rows with an unknown type or tag")


# ---------------------------------------------------------------------------- size and spread


def test_enough_answerable_and_unanswerable_rows() -> None:
    n_answerable, n_unanswerable = len(answerable_rows()), len(unanswerable_rows())
    assert n_answerable >= MIN_ANSWERABLE, (
        f"only {n_answerable} answerable questions, need at least {MIN_ANSWERABLE}"
    )
    assert n_unanswerable >= MIN_UNANSWERABLE, (
        f"only {n_unanswerable} unanswerable questions, need at least {MIN_UNANSWERABLE}"
    )


def test_spread_of_question_types() -> None:
    counts = Counter(row.get("type") for row in answerable_rows())
    short = [
        f"{t}: {counts.get(t, 0)} answerable, need {n}"
        for t, n in MIN_PER_TYPE.items()
        if counts.get(t, 0) < n
    ]
    fail_if(short, f"question types under their minimum (counts: {dict(counts)})")


def test_tags_cover_single_multi_paraphrase_and_disagreement() -> None:
    counts = Counter(t for row in answerable_rows() for t in row.get("tags", []))
    missing = [t for t in ("single_article", "multi_article", "paraphrase", "disagreement") if not counts[t]]
    fail_if(missing, f"tags never used on answerable rows (counts: {dict(counts)})")


# ---------------------------------------------------------------------------- answerable rows


def test_answerable_rows_have_answers_docs_and_evidence() -> None:
    problems = []
    for row in answerable_rows():
        for key in ("answers", "gold_doc_ids", "evidence"):
            if not row.get(key):
                problems.append(f"{row['id']}: answerable but {key} is empty")
        if "unanswerable" in row.get("tags", []):
            problems.append(f"{row['id']}: answerable but tagged unanswerable")
    fail_if(problems, "answerable rows without gold")


def test_gold_doc_ids_exist_in_seeds() -> None:
    known = set(articles())
    problems = []
    for row in answerable_rows():
        unknown = [d for d in row["gold_doc_ids"] if d not in known]
        if unknown:
            problems.append(f"{row['id']}: gold_doc_ids {unknown} not among {sorted(known)}")
        if len(set(row["gold_doc_ids"])) != len(row["gold_doc_ids"]):
            problems.append(f"{row['id']}: repeated gold doc id in {row['gold_doc_ids']}")
    fail_if(problems, "rows citing unknown articles")


def test_single_and_multi_article_tags_match_gold_docs() -> None:
    problems = []
    for row in answerable_rows():
        tags, n = set(row["tags"]), len(row["gold_doc_ids"])
        if "single_article" in tags and n != 1:
            problems.append(f"{row['id']}: tagged single_article with {n} gold docs")
        if "multi_article" in tags and n < 2:
            problems.append(f"{row['id']}: tagged multi_article with {n} gold doc")
    fail_if(problems, "rows whose article tags contradict gold_doc_ids")


def test_evidence_is_verbatim_in_a_gold_article() -> None:
    problems = []
    for row in answerable_rows():
        texts = gold_texts(row)
        for sentence in row["evidence"]:
            if not any(sentence in t for t in texts):
                problems.append(f"{row['id']}: evidence not found verbatim in its gold articles: {sentence!r}")
    fail_if(problems, "evidence sentences that are not exact quotes")


def test_evidence_is_sentences_not_paragraphs_or_debris() -> None:
    problems = []
    for row in answerable_rows():
        for sentence in row["evidence"]:
            if "\n" in sentence:
                problems.append(f"{row['id']}: evidence spans a line break: {sentence[:60]!r}...")
            if any(marker in sentence for marker in DEBRIS_MARKERS):
                problems.append(f"{row['id']}: evidence is page debris: {sentence[:60]!r}...")
            if sentence != sentence.strip():
                problems.append(f"{row['id']}: evidence has surrounding whitespace: {sentence[:60]!r}")
    fail_if(problems, "evidence entries that are not clean sentences")


def test_every_gold_article_is_backed_by_evidence() -> None:
    docs = articles()
    problems = []
    for row in answerable_rows():
        for doc_id in row["gold_doc_ids"]:
            if doc_id in docs and not any(s in docs[doc_id] for s in row["evidence"]):
                problems.append(f"{row['id']}: gold doc {doc_id} has no evidence sentence quoted from it")
    fail_if(problems, "gold articles without evidence")


def test_answers_occur_in_a_gold_article() -> None:
    problems = []
    for row in answerable_rows():
        if row["type"] == "two_part":
            continue
        texts = gold_texts(row)
        for alias in row["answers"]:
            if not found_in(alias, texts):
                problems.append(f"{row['id']}: answer {alias!r} not found in {row['gold_doc_ids']}")
    fail_if(problems, "answers absent from their gold articles")


def test_answer_parts_only_on_two_part_rows() -> None:
    problems = []
    for row in rows():
        if row.get("type") != "two_part" and row.get("answer_parts"):
            problems.append(f"{row.get('id')}: answer_parts must be [] for type {row.get('type')!r}")
    fail_if(problems, "non-two-part rows with answer_parts")


def test_two_part_rows_have_parts_found_in_gold() -> None:
    problems = []
    for row in answerable_rows():
        if row["type"] != "two_part":
            continue
        parts = row["answer_parts"]
        if len(parts) < 2:
            problems.append(f"{row['id']}: two_part row needs at least 2 answer_parts, has {len(parts)}")
            continue
        texts = gold_texts(row)
        for n, part in enumerate(parts, start=1):
            if not part:
                problems.append(f"{row['id']}: part {n} has no aliases")
            elif not any(found_in(alias, texts) for alias in part):
                problems.append(f"{row['id']}: no alias of part {n} {part} found in {row['gold_doc_ids']}")
        union = {a for part in parts for a in part}
        if set(row["answers"]) != union:
            problems.append(
                f"{row['id']}: answers must be the union of answer_parts; "
                f"missing {sorted(union - set(row['answers']))}, extra {sorted(set(row['answers']) - union)}"
            )
    fail_if(problems, "two-part rows with bad answer_parts")


# ---------------------------------------------------------------------------- unanswerable rows


def test_unanswerable_rows_carry_no_gold() -> None:
    problems = []
    for row in unanswerable_rows():
        for key in ("answers", "answer_parts", "gold_doc_ids", "evidence"):
            if row.get(key) != []:
                problems.append(f"{row.get('id')}: unanswerable but {key} = {row.get(key)!r}")
        if "unanswerable" not in row.get("tags", []):
            problems.append(f"{row.get('id')}: unanswerable but not tagged 'unanswerable'")
    fail_if(problems, "unanswerable rows with gold or without the tag")
