"""Loaders of the benchmark question sets, on tiny fixtures and on the shared real data."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from eval.datasets import (
    EvalQuestion,
    EvalSet,
    Span,
    limit,
    load_newsqa,
    load_seed_set,
    load_squad,
    load_squad2,
    question_type,
    sample,
    squad_split_titles,
)

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
REAL_SQUAD = SHARED_DATA / "squad-v1.1-dev-half.json"
REAL_SQUAD2 = SHARED_DATA / "squad-v2.0-dev-half.json"
REAL_NEWSQA = SHARED_DATA / "newsqa-fragment"


def write_jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def assert_spans_hold(evalset: EvalSet, answers_only: bool = True) -> int:
    """Check every evidence span against the corpus files; return how many were checked."""
    texts: dict[str, str] = {}
    checked = 0
    for q in evalset.questions:
        for span in q.evidence:
            if span.doc_id not in texts:
                texts[span.doc_id] = (evalset.corpus_dir / f"{span.doc_id}.txt").read_bytes().decode("utf-8")
            found = texts[span.doc_id][span.start : span.end]
            if answers_only:
                assert found in q.answers, (q.id, found)
            checked += 1
    return checked


# --- SQuAD -----------------------------------------------------------------------------

SQUAD_ARTICLES = {
    "Zeta_(letter)": [
        ("Zeta is the sixth letter of the Greek alphabet.", [("What is zeta?", ["sixth letter", "the sixth letter"])]),
        # leading spaces and a line break inside the paragraph, as in the real Oxygen article
        ("  In Greek numerals zeta has the value 7.\n(Unlike its position.) ", [("What value?", ["7", "7"])]),
    ],
    "Alpha": [("Alpha comes from the Phoenician aleph.", [("Where from?", ["Phoenician aleph"])])],
    "Mid,_Town": [("Mid Town has 1,200 people.", [("How many people?", ["1,200"])])],
}


def squad_json(tmp_path: Path, articles: dict = SQUAD_ARTICLES) -> Path:
    data = []
    for title, paragraphs in articles.items():
        paras = []
        for p, (context, qas) in enumerate(paragraphs):
            rows = []
            for n, (question, answers) in enumerate(qas):
                golds = [{"text": a, "answer_start": context.index(a)} for a in answers]
                for g in golds:  # the fixture's own offsets are right
                    assert context[g["answer_start"] :].startswith(g["text"])
                rows.append({"id": f"{title}-{p}-{n}", "question": question, "answers": golds})
            paras.append({"context": context, "qas": rows})
        data.append({"title": title, "paragraphs": paras})
    path = tmp_path / "squad.json"
    path.write_text(json.dumps({"version": "1.1", "data": data}), encoding="utf-8")
    return path


def test_squad_file_layout_and_offsets(tmp_path: Path) -> None:
    evalset = load_squad(squad_json(tmp_path), tmp_path / "corpus")
    corpus = tmp_path / "corpus"
    assert sorted(p.name for p in corpus.iterdir()) == ["Alpha.txt", "Mid_Town.txt", "Zeta_letter.txt"]
    assert (corpus / "Zeta_letter.txt").read_text(encoding="utf-8") == (
        "Zeta (letter)\n\nZeta is the sixth letter of the Greek alphabet.\n\n"
        "In Greek numerals zeta has the value 7. (Unlike its position.)\n"
    )
    assert evalset.name == "squad-all" and evalset.corpus_dir == corpus
    assert len(evalset.questions) == 4
    zeta = {q.id: q for q in evalset.questions if q.gold_doc_ids == ("Zeta_letter",)}
    what = zeta["Zeta_(letter)-0-0"]
    assert what.answers == ("sixth letter", "the sixth letter")  # duplicates dropped, order kept
    assert what.evidence == (Span("Zeta_letter", 27, 39), Span("Zeta_letter", 23, 39))
    assert what.type == "what" and what.answerable and what.answer_parts == ()
    value = zeta["Zeta_(letter)-1-0"]
    assert value.answers == ("7",) and value.evidence == (Span("Zeta_letter", 101, 102),)
    assert assert_spans_hold(evalset) == 5


def test_squad_split_is_by_sorted_title_alternating(tmp_path: Path) -> None:
    path = squad_json(tmp_path)
    assert squad_split_titles(path) == (("Alpha", "Zeta_(letter)"), ("Mid,_Town",))
    train = load_squad(path, tmp_path / "c", split="train")
    heldout = load_squad(path, tmp_path / "c", split="heldout")
    assert [q.id for q in train.questions] == ["Zeta_(letter)-0-0", "Zeta_(letter)-1-0", "Alpha-0-0"]
    assert [q.id for q in heldout.questions] == ["Mid,_Town-0-0"]
    assert heldout.questions[0].tags == ("squad", "heldout") and heldout.questions[0].type == "how_many"
    assert len(list((tmp_path / "c").glob("*.txt"))) == 3  # the corpus is always every article
    with pytest.raises(ValueError, match="split must be one of"):
        load_squad(path, tmp_path / "c", split="test")


def test_squad2_asks_unanswerable_questions_over_the_v1_corpus_split_by_the_v1_rule(tmp_path: Path) -> None:
    v1 = squad_json(tmp_path)
    data = json.loads(v1.read_text(encoding="utf-8"))
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            paragraph["qas"].append({"id": f"{paragraph['qas'][0]['id']}-v2", "question": "What year was it named?",
                                     "answers": [], "is_impossible": True})
    del data["data"][1]  # v2.0 covers only some of the v1.1 articles
    v2 = tmp_path / "squad2.json"
    v2.write_text(json.dumps({"version": "v2.0", "data": data["data"]}), encoding="utf-8")

    heldout = load_squad2(v2, v1, tmp_path / "c")
    assert heldout.name == "squad2-heldout" and heldout.corpus_dir == tmp_path / "c"
    assert len(list((tmp_path / "c").glob("*.txt"))) == 3  # the v1.1 corpus, the same as load_squad writes
    assert [(q.id, q.answerable) for q in heldout.questions] == [("Mid,_Town-0-0", True), ("Mid,_Town-0-0-v2", False)]
    unanswerable = heldout.questions[1]
    assert unanswerable.answers == () and unanswerable.evidence == () and unanswerable.type == "when"
    assert "unanswerable" in unanswerable.tags
    train = load_squad2(v2, v1, tmp_path / "c", split="train")
    assert sum(not q.answerable for q in train.questions) == 2  # Zeta's two paragraphs; Alpha is not in v2
    assert assert_spans_hold(train) == 3

    data["data"][0]["paragraphs"][0]["context"] = "A paragraph the v1.1 file does not have."
    v2.write_text(json.dumps({"version": "v2.0", "data": data["data"]}), encoding="utf-8")
    with pytest.raises(ValueError, match="is not in"):
        load_squad2(v2, v1, tmp_path / "c", split="train")


def test_squad_writes_only_changed_files(tmp_path: Path) -> None:
    path, corpus = squad_json(tmp_path), tmp_path / "corpus"
    load_squad(path, corpus)
    old = 1_000_000_000_000_000_000
    for f in corpus.iterdir():
        os.utime(f, ns=(old, old))
    (corpus / "Alpha.txt").write_text("stale", encoding="utf-8")
    os.utime(corpus / "Alpha.txt", ns=(old, old))
    load_squad(path, corpus)
    assert (corpus / "Zeta_letter.txt").stat().st_mtime_ns == old
    assert (corpus / "Mid_Town.txt").stat().st_mtime_ns == old
    assert (corpus / "Alpha.txt").read_text(encoding="utf-8").startswith("Alpha\n\nAlpha comes")
    assert not list(corpus.glob("*.tmp"))


def test_squad_bad_inputs(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    bad = tmp_path / "bad.json"
    bad.write_text('{"data": [\n  {"title": }', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.json:2: malformed JSON"):
        load_squad(bad, corpus)
    with pytest.raises(FileNotFoundError, match="missing.json"):
        load_squad(tmp_path / "missing.json", corpus)
    shifted = json.loads(squad_json(tmp_path).read_text(encoding="utf-8"))
    shifted["data"][1]["paragraphs"][0]["qas"][0]["answers"][0]["answer_start"] += 1
    bad.write_text(json.dumps(shifted), encoding="utf-8")
    with pytest.raises(ValueError, match="question Alpha-0-0: answer 'Phoenician aleph' is not at"):
        load_squad(bad, corpus)
    (corpus / ".cache").mkdir(parents=True)
    (corpus / ".cache" / "notes.md").write_text("x", encoding="utf-8")  # hidden: qa skips it too
    load_squad(squad_json(tmp_path), corpus)
    (corpus / "sub").mkdir()
    (corpus / "sub" / "stray.md").write_text("x", encoding="utf-8")  # qa.ingest.corpus would index it
    with pytest.raises(ValueError, match="article files outside this corpus .*sub/stray.md"):
        load_squad(squad_json(tmp_path), corpus)


# --- NewsQA ----------------------------------------------------------------------------


def newsqa_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "newsqa"
    folder.mkdir()
    write_jsonl(folder / "chunks.jsonl", [
        {"id": "s1_chunk_0", "text": "In 2011 the zoo had 11 eggs.\n\n\n\nThe 11 eggs hatched."},
        {"id": "s2_chunk_0", "text": "Defender FERNANDO CACERES is\nfighting for his life."},
        {"id": "s3_chunk_0", "text": "The book was found to insult the king."},
    ])
    write_jsonl(folder / "questions.jsonl", [
        {"question_id": "n1", "question": "How many eggs?", "variant": "clarified",
         "accepted_answers": ["11"], "relevant_chunk_ids": ["s1_chunk_0", "gone_chunk_1"]},
        {"question_id": "n2", "question": "Who is fighting for his life?", "variant": "original",
         "accepted_answers": ["Fernando Caceres is fighting"], "relevant_chunk_ids": ["s2_chunk_0"]},
        {"question_id": "n3", "question": "What was the book?", "variant": "clarified",
         "accepted_answers": ["a violation of the law"], "relevant_chunk_ids": ["s3_chunk_0"]},
        {"question_id": "n4", "question": "Which year?", "variant": "clarified",
         "accepted_answers": ["1994"], "relevant_chunk_ids": ["gone_chunk_0"]},
    ])
    return folder


def test_newsqa_files_and_evidence(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    evalset = load_newsqa(newsqa_folder(tmp_path), corpus)
    assert sorted(p.name for p in corpus.iterdir()) == ["s1_chunk_0.txt", "s2_chunk_0.txt", "s3_chunk_0.txt"]
    assert (corpus / "s2_chunk_0.txt").read_text(encoding="utf-8") == (
        "Defender FERNANDO CACERES is\nfighting for his life."
    )
    n1, n2, n3, n4 = evalset.questions
    # whole words only: the "11" inside "2011" is not evidence
    assert n1.evidence == (Span("s1_chunk_0", 20, 22), Span("s1_chunk_0", 36, 38))
    assert n1.gold_doc_ids == ("s1_chunk_0",) and n1.tags == ("newsqa", "clarified", "gold_chunk_missing")
    assert n1.type == "how_many"
    # case-insensitive, and the line break inside the chunk still matches a space
    assert n2.evidence == (Span("s2_chunk_0", 9, 37),) and n2.tags == ("newsqa", "original")
    assert n3.evidence == (Span("s3_chunk_0", 0, 38),) and "answer_not_verbatim" in n3.tags
    assert n4.gold_doc_ids == () and n4.evidence == () and n4.answerable and n4.type == "when"


def test_newsqa_idempotent_and_bad_lines(tmp_path: Path) -> None:
    folder, corpus = newsqa_folder(tmp_path), tmp_path / "corpus"
    load_newsqa(folder, corpus)
    old = 1_000_000_000_000_000_000
    os.utime(corpus / "s1_chunk_0.txt", ns=(old, old))
    load_newsqa(folder, corpus)
    assert (corpus / "s1_chunk_0.txt").stat().st_mtime_ns == old
    with (folder / "questions.jsonl").open("a", encoding="utf-8") as f:
        f.write("{not json\n")
    with pytest.raises(ValueError, match=r"questions\.jsonl:5: malformed JSON"):
        load_newsqa(folder, corpus)
    with pytest.raises(FileNotFoundError, match="chunks.jsonl"):
        load_newsqa(tmp_path / "nowhere", corpus)


# --- seed set --------------------------------------------------------------------------

ARTICLE_A = "Title A\n\nBoko Haram began in 2009.\n\nIS accepted the pledge.\n"
ARTICLE_B = "Title B\n\nA copy: IS accepted the pledge.\n"


def seed_files(tmp_path: Path, rows: list[object]) -> tuple[Path, Path]:
    corpus = tmp_path / "seeds"
    corpus.mkdir(exist_ok=True)
    (corpus / "a.txt").write_text(ARTICLE_A, encoding="utf-8")
    (corpus / "b.txt").write_text(ARTICLE_B, encoding="utf-8")
    return write_jsonl(tmp_path / "questions.jsonl", rows), corpus


SEED_ROWS = [
    {"id": "s1", "question": "Who accepted the pledge?", "answers": ["IS", "Islamic State"],
     "answer_parts": [], "answerable": True, "gold_doc_ids": ["a", "b"],
     "evidence": ["IS accepted the pledge."], "type": "who", "tags": ["dup"]},
    {"id": "s2", "question": "Who began when?", "answers": [],
     "answer_parts": [["Boko Haram"], ["2009", "in 2009"]], "answerable": True,
     "gold_doc_ids": ["a"], "evidence": ["Boko Haram began in 2009."], "type": "two_part", "tags": []},
    {"id": "s3", "question": "Who won the 2030 World Cup?", "answers": [], "answer_parts": [],
     "answerable": False, "gold_doc_ids": [], "evidence": [], "type": "who", "tags": ["unanswerable"]},
]


def test_seed_set_locates_evidence(tmp_path: Path) -> None:
    evalset = load_seed_set(*seed_files(tmp_path, SEED_ROWS))
    assert evalset.name == "seed" and [q.id for q in evalset.questions] == ["s1", "s2", "s3"]
    s1, s2, s3 = evalset.questions
    assert s1.evidence == (Span("a", 36, 59), Span("b", 17, 40))  # one span per gold article
    assert ARTICLE_A[36:59] == ARTICLE_B[17:40] == "IS accepted the pledge."
    assert s1.answers == ("IS", "Islamic State") and s1.tags == ("dup",)
    assert s2.answer_parts == (("Boko Haram",), ("2009", "in 2009")) and s2.evidence == (Span("a", 9, 34),)
    assert not s3.answerable and s3.evidence == () and s3.answers == ()


def test_seed_offsets_ignore_a_byte_order_mark(tmp_path: Path) -> None:
    path, corpus = seed_files(tmp_path, SEED_ROWS[:1])
    (corpus / "b.txt").write_bytes(b"\xef\xbb\xbf" + ARTICLE_B.encode("utf-8"))
    assert load_seed_set(path, corpus).questions[0].evidence[1] == Span("b", 17, 40)


def test_seed_set_errors(tmp_path: Path) -> None:
    missing = dict(SEED_ROWS[0], id="s9", evidence=["IS rejected the pledge."])
    with pytest.raises(ValueError, match="row s9: evidence not found verbatim"):
        load_seed_set(*seed_files(tmp_path, [SEED_ROWS[2], missing]))
    with pytest.raises(FileNotFoundError, match=r"row s1: gold article .*zzz\.txt not found"):
        load_seed_set(*seed_files(tmp_path, [dict(SEED_ROWS[0], gold_doc_ids=["zzz"])]))
    with pytest.raises(ValueError, match=r"questions\.jsonl:2: missing key 'answerable'"):
        load_seed_set(*seed_files(tmp_path, [SEED_ROWS[0], {"id": "x", "question": "Why?"}]))
    with pytest.raises(ValueError, match=r"questions\.jsonl:1: .*answerable questions need"):
        load_seed_set(*seed_files(tmp_path, [dict(SEED_ROWS[2], answerable=True)]))
    with pytest.raises(ValueError, match="type must be one of"):
        load_seed_set(*seed_files(tmp_path, [dict(SEED_ROWS[2], type="which")]))
    with pytest.raises(ValueError, match="ids in seed must be unique"):
        load_seed_set(*seed_files(tmp_path, [SEED_ROWS[2], SEED_ROWS[2]]))
    path, corpus = seed_files(tmp_path, SEED_ROWS)
    path.write_text(json.dumps(SEED_ROWS[0]) + "\n[1, 2]\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"questions\.jsonl:2: expected a JSON object"):
        load_seed_set(path, corpus)
    with pytest.raises(FileNotFoundError):
        load_seed_set(tmp_path / "nope.jsonl", corpus)


# --- subsets and question types --------------------------------------------------------


def make_set(n: int) -> EvalSet:
    qs = tuple(
        EvalQuestion(f"q{i}", "Why?", (), (), False, (), (), "why", ()) for i in range(n)
    )
    return EvalSet("toy", Path("corpus"), qs)


def test_sample_is_deterministic_and_keeps_order() -> None:
    full = make_set(20)
    a, b = sample(full, 5, seed=3), sample(full, 5, seed=3)
    assert a == b and a.name == "toy-sample5-seed3" and len(a.questions) == 5
    positions = [full.questions.index(q) for q in a.questions]
    assert positions == sorted(positions)
    assert sample(full, 5, seed=4).questions != a.questions
    assert sample(full, 50).questions == full.questions
    assert limit(full, 3).questions == full.questions[:3] and limit(full, 99).questions == full.questions
    with pytest.raises(ValueError):
        sample(full, -1)


def test_question_type() -> None:
    assert question_type("Who won?") == "who"
    assert question_type("In which year did it open?") == "when"
    assert question_type("How much did it gross?") == "how_many"
    assert question_type("How did it end?") == "how"
    assert question_type("Which team won?") == "what"
    assert question_type("Name the winner.") == "other"


# --- the real shared data --------------------------------------------------------------


@pytest.mark.skipif(not REAL_SQUAD.is_file(), reason="shared SQuAD file absent")
def test_real_squad_loads_with_every_span_verified(tmp_path: Path) -> None:
    evalset = load_squad(REAL_SQUAD, tmp_path / "squad")
    assert len(list((tmp_path / "squad").glob("*.txt"))) == 24
    assert len(evalset.questions) == 4961
    assert assert_spans_hold(evalset) >= 4961
    train, heldout = squad_split_titles(REAL_SQUAD)
    assert len(train) == len(heldout) == 12 and not set(train) & set(heldout)
    n_train = len(load_squad(REAL_SQUAD, tmp_path / "squad", split="train").questions)
    n_heldout = len(load_squad(REAL_SQUAD, tmp_path / "squad", split="heldout").questions)
    assert n_train + n_heldout == 4961


@pytest.mark.skipif(not REAL_SQUAD2.is_file(), reason="shared SQuAD v2.0 file absent")
def test_real_squad2_holds_out_the_v1_held_out_articles(tmp_path: Path) -> None:
    heldout = load_squad2(REAL_SQUAD2, REAL_SQUAD, tmp_path / "squad")
    train = load_squad2(REAL_SQUAD2, REAL_SQUAD, tmp_path / "squad", split="train")
    assert len(heldout.questions) + len(train.questions) == 6440
    assert sum(not q.answerable for q in heldout.questions + train.questions) == 3363
    held_docs = {q.gold_doc_ids[0] for q in load_squad(REAL_SQUAD, tmp_path / "squad", split="heldout").questions}
    assert {d for q in heldout.questions for d in q.gold_doc_ids} <= held_docs
    assert not {d for q in train.questions for d in q.gold_doc_ids} & held_docs
    assert assert_spans_hold(heldout) > 0


@pytest.mark.skipif(not REAL_NEWSQA.is_dir(), reason="shared NewsQA fragment absent")
def test_real_newsqa_fragment(tmp_path: Path) -> None:
    evalset = load_newsqa(REAL_NEWSQA, tmp_path / "newsqa")
    assert len(evalset.questions) == 50
    assert len(list((tmp_path / "newsqa").glob("*.txt"))) == 470
    verbatim = [q for q in evalset.questions if q.evidence and "answer_not_verbatim" not in q.tags]
    for q in verbatim:
        text = {d: (tmp_path / "newsqa" / f"{d}.txt").read_text(encoding="utf-8") for d in q.gold_doc_ids}
        for span in q.evidence:
            assert text[span.doc_id][span.start : span.end].lower() in {a.lower() for a in q.answers}


# --- RealTime QA -------------------------------------------------------------------------


def _realtimeqa_data(folder: Path) -> Path:
    import gzip

    folder.mkdir()
    articles = [{"id": f"a{i}", "title": f"Story {i}", "outlet": "x.com", "published": "2023/01/0%d" % (1 + i % 9),
                 "text": f"Story {i}. The Buffalo Bills won on Sunday." if i < 2 else f"Story {i} is about weather."}
                for i in range(30)]
    with gzip.open(folder / "articles.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.writelines(json.dumps(a) + "\n" for a in articles)
    questions = [  # 2023-01-06 is in ISO week 1 (odd: held out), 2023-01-13 in week 2
        {"id": "q1", "question": "Which team won this week?", "question_date": "2023-01-06", "answer": "Buffalo Bills",
         "choices": [], "docs": ["a0", "a1"], "source": "quiz"},
        {"id": "q2", "question": "Which team won?", "question_date": "2023-01-13", "answer": "buffalo bills",
         "choices": [], "docs": ["a1"], "source": "quiz"},
    ]
    write_jsonl(folder / "questions.jsonl", questions)
    return folder


def test_realtimeqa_is_split_by_week_asked_as_of_its_day_over_the_dump(tmp_path: Path) -> None:
    from eval.realtimeqa import load_realtimeqa, week_split

    data = _realtimeqa_data(tmp_path / "data")
    heldout = load_realtimeqa(data, tmp_path / "work")
    assert [q.id for q in heldout.questions] == ["q1"] and week_split(__import__("datetime").date(2023, 1, 6)) == "heldout"
    q1 = heldout.questions[0]
    assert q1.as_of == "2023-01-06" and q1.gold_doc_ids == ("articles#a0", "articles#a1")
    dump = heldout.corpus_dir / "articles.jsonl"
    rows = [json.loads(line) for line in dump.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 30  # the whole dump, one JSON-lines file the product reads as it would a user's
    texts = {f"articles#{r['id']}": r["text"] for r in rows}
    assert [texts[s.doc_id][s.start : s.end] for s in q1.evidence] == ["Buffalo Bills", "Buffalo Bills"]
    train = load_realtimeqa(data, tmp_path / "work", split="train")
    assert [q.id for q in train.questions] == ["q2"] and train.questions[0].evidence[0].doc_id == "articles#a1"


def test_a_realtimeqa_sample_holds_its_questions_articles_and_ten_distractors_each(tmp_path: Path) -> None:
    from eval.realtimeqa import DISTRACTORS_PER_QUESTION, load_realtimeqa

    data = _realtimeqa_data(tmp_path / "data")
    sampled = load_realtimeqa(data, tmp_path / "work", split="all", sample=1, seed=3)
    ids = [json.loads(line)["id"] for line in (sampled.corpus_dir / "articles.jsonl").read_text().splitlines()]
    gold = {d.split("#")[1] for q in sampled.questions for d in q.gold_doc_ids}
    assert len(sampled.questions) == 1 and gold <= set(ids) and len(ids) == len(gold) + DISTRACTORS_PER_QUESTION
    again = load_realtimeqa(data, tmp_path / "work", split="all", sample=1, seed=3)
    assert again.questions == sampled.questions  # reproducible


def test_a_realtimeqa_id_used_again_a_week_later_is_named_by_its_day_too(tmp_path: Path) -> None:
    from eval.realtimeqa import load_realtimeqa

    data = _realtimeqa_data(tmp_path / "data")
    rows = [json.loads(line) for line in (data / "questions.jsonl").read_text(encoding="utf-8").splitlines()]
    again = {**rows[1], "id": "q2", "question_date": "2023-01-27", "question": "Which team won at home?"}
    write_jsonl(data / "questions.jsonl", [*rows, again])  # the quiz's file reuses ids this way
    train = load_realtimeqa(data, tmp_path / "work", split="train")
    assert [q.id for q in train.questions] == ["q2", "q2@2023-01-27"]
    assert train.questions[1].as_of == "2023-01-27"


def test_realtimeqa_without_its_data_says_where_it_comes_from(tmp_path: Path) -> None:
    from eval.realtimeqa import load_realtimeqa

    with pytest.raises(FileNotFoundError, match="realtimeqa-2023"):
        load_realtimeqa(tmp_path / "nowhere", tmp_path / "work")


@pytest.mark.parametrize(
    ("args", "needed"),
    [
        (["--dataset", "newsqa", "--newsqa-dir", "NOWHERE"], "../shared/data/newsqa-fragment/chunks.jsonl"),
        (["--dataset", "squad", "--squad-file", "NOWHERE/squad.json"], "../shared/data/squad-v1.1-dev-half.json"),
        (["--dataset", "squad2", "--squad2-file", "NOWHERE/v2.json"], "../shared/data/squad-v2.0-dev-half.json"),
    ],
)
def test_a_missing_data_set_says_which_file_is_needed_and_where_it_comes_from(
    args: list[str], needed: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [a.replace("NOWHERE", str(tmp_path / "nowhere")) for a in args]
    from eval.cli import main

    assert main([*args, "--out", str(tmp_path / "out"), "--quiet"]) == 1
    error = capsys.readouterr().err
    assert str(tmp_path / "nowhere") in error and needed in error and "README.md" in error, error


@pytest.mark.skipif(not (SHARED_DATA / "realtimeqa-2023").is_dir(), reason="shared RealTime QA data absent")
def test_real_realtimeqa_questions_split_into_two_halves(tmp_path: Path) -> None:
    from eval.realtimeqa import load_realtimeqa

    heldout = load_realtimeqa(SHARED_DATA / "realtimeqa-2023", tmp_path, sample=5)
    train = load_realtimeqa(SHARED_DATA / "realtimeqa-2023", tmp_path, split="train", sample=5)
    assert len(heldout.questions) == len(train.questions) == 5
    assert not {q.id for q in heldout.questions} & {q.id for q in train.questions}
    assert all(q.as_of and q.gold_doc_ids for q in heldout.questions)
