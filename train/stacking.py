"""Learn the answerer's weights from the training half of SQuAD; write them to qa/models/.

    python -m train.stacking            # the six logistic models: sentence, span, confidence,
                                    # rerank, reader_span, reader_confidence (and thresholds)

Only the training articles' questions are used (see `eval.squad.squad_split_titles`);
the held-out half and the project's own seed questions are never seen here. The corpus
is still all 24 articles, as in the benchmark, so the ranker learns to find the right
article among distractors. Unanswerable examples for the confidence models come from
asking the same training questions with their source article hidden from the index, and
from trick questions asked over the whole index (`trick_questions`: SQuAD v2.0's
unanswerable questions of the training articles, and as many made by `train.negatives`).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from eval.abstention import MOST_ANSWERABLE_DECLINED, bounded_threshold, format_trade_offs, trade_offs_of
from eval.metrics import contains_answer, hit_at_1, token_f1
from eval.records import EvalQuestion, question_type
from eval.squad import load_squad, squad_split_titles
from qa.answer.candidates import SENTENCE_FEATURES
from qa.answer.confidence import CONFIDENCE_FEATURES
from qa.answer.decide import answer_part
from qa.answer.question import analyse
from qa.answer.ranking import rank_sentences
from qa.answer.span_features import SPAN_FEATURES
from qa.answer.span_sources import (
    READER_SPAN_FEATURES, RERANK_FEATURES, PassageReaderSpans, RuleSpans, SpanSource, read_and_rerank,
)
from qa.api import build_index
from qa.config import Settings, settings_from_env
from qa.indexing.embedder import embedder_for
from qa.indexing.memory import SearchIndex
from qa.indexing.store import StoredIndex
from qa.errors import ModelError
from qa.models import MODELS_DIR, LinearModel, clear_cache, load_model
from qa.retrieve.retriever import Query

SQUAD = Path(__file__).resolve().parents[2] / "shared" / "data" / "squad-v1.1-dev-half.json"  # ../shared
SQUAD2 = SQUAD.with_name("squad-v2.0-dev-half.json")
QUESTION_KINDS = ("swap", "antonym")  # the kinds of train.negatives that change the question itself
WORK = Path(__file__).resolve().parent / ".work" / "squad"
SPAN_GOOD_F1 = 0.5  # a span counts as a right answer from this token F1 on


def main(argv: list[str] | None = None) -> int:
    """Fit the six models in order (each uses the ones before it) and save them."""
    parser = argparse.ArgumentParser(prog="python -m train.stacking", description=__doc__.split("\n")[0])
    parser.add_argument("--squad", type=Path, default=SQUAD)
    parser.add_argument("--stages", default="sentence,span,confidence,rerank,reader_span,reader_confidence")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N training questions")
    parser.add_argument(
        "--negatives", choices=("article", "same-event"), default="article",
        help="unanswerable examples for the confidence models: the question's article hidden (the shipped "
        "models), or also only its paragraph hidden, the rest of the article kept (see _hidden_indexes)",
    )
    parser.add_argument("--out", type=Path, default=MODELS_DIR)
    parser.add_argument(
        "--fold-readers",
        default="",
        help="A,B: passage readers trained without the even-/odd-numbered training articles; "
        "each question is read by the one that never saw its article (cross-fitting)",
    )
    args = parser.parse_args(argv)
    settings = settings_from_env()
    evalset = load_squad(args.squad, WORK, split="train")
    questions = [q for q in evalset.questions if len(analyse(q.question).parts) == 1]
    if args.limit:
        questions = questions[: args.limit]
    index = build_index(evalset.corpus_dir, settings=settings)
    queries = queries_of(questions, settings)
    readers = _fold_readers(args.fold_readers, folds(questions)[0])
    print(f"training on {len(questions)} SQuAD training questions", file=sys.stderr)
    for stage in args.stages.split(","):
        _placeholder_if_unloadable(stage, args.out)
        model = STAGES[stage](index, questions, queries, settings, readers, negatives=args.negatives)
        _save(model, args.out)
        clear_cache()
    return 0


def sentence_stage(index, questions, queries, settings, readers, negatives="article") -> LinearModel:
    """Label each candidate sentence by whether it holds a gold answer."""
    rows, labels = [], []
    for question, query in zip(questions, queries):
        ranking = rank_sentences(index, analyse(question.question).parts[0], query, settings)
        for candidate in ranking.candidates:
            rows.append(candidate.features)
            labels.append(contains_answer(index.sentences[candidate.sentence].text, question.answers))
    return fit("sentence", rows, labels, SENTENCE_FEATURES)


def span_stage(index, questions, queries, settings, readers, negatives="article") -> LinearModel:
    """Label each span option by its token F1 against the gold answers."""

    return _fit_spans("span", index, questions, queries, settings, lambda question: RuleSpans(), SPAN_FEATURES)


def _fit_spans(name, index, questions, queries, settings, source_of, features) -> LinearModel:
    """Fit model `name` on the span options of source_of(question), labelled by token F1."""
    rows, labels = [], []
    for question, query in zip(questions, queries):
        part = analyse(question.question).parts[0]
        _, options = source_of(question).spans(index, part, rank_sentences(index, part, query, settings))
        for option in options:
            rows.append(option.features)
            labels.append(token_f1(option.text, question.answers) >= SPAN_GOOD_F1)
    return fit(name, rows, labels, features)


def confidence_stage(index, questions, queries, settings, readers, negatives="article") -> LinearModel:
    """Right answers are positives; wrong ones, and answers with the source hidden, negatives."""
    return _confidence("confidence", index, questions, queries, settings, lambda question: RuleSpans(), negatives)


def _confidence(name, index, questions, queries, settings, source_of, negatives) -> LinearModel:
    """Answerable rows labelled by hit@1, then unanswerable rows (see `_hidden_indexes`)."""
    rows, labels = [], []
    for question, query in zip(questions, queries):
        features, answer, first = _decision(index, question, query, settings, source_of(question))
        rows.append(features)
        labels.append(hit_at_1(answer, first, question.answers, question.answer_parts))
    answerable = len(rows)
    for hidden, members in _hidden_indexes(index, questions, negatives):
        for i in members:
            features, _, _ = _decision(hidden, questions[i], queries[i], settings, source_of(questions[i]))
            rows.append(features)
            labels.append(False)
    hidden_rows = len(rows) - answerable
    tricks = trick_questions()
    for question, query in zip(tricks, queries_of(tricks, settings)):
        features, _, _ = _decision(index, question, query, settings, source_of(question))
        rows.append(features)
        labels.append(False)
    print(f"{name}: {answerable} answerable rows, {hidden_rows} with the article hidden, "
          f"{len(tricks)} trick questions", file=sys.stderr)
    # Every row weighs the same, so two unanswerable rows stand beside each answerable one and
    # the probability is calibrated for a mix rich in trick questions: an unanswerable question
    # is then almost never given 0.8 or more (3.6% of SQuAD v2.0's held out), while an answer
    # to a set of answerable questions is rated below how often it is right (seeds: ECE 0.26).
    # Weighing them as a third of all (a user's mix) would reverse both (19.8% and 0.08): trust first.
    _keep_rows(name, rows, labels, answerable, hidden_rows)
    model = fit(name, rows, labels, CONFIDENCE_FEATURES)
    threshold = print_abstention_tradeoff([model.probability(r) for r in rows], labels, answerable)
    return replace(model, threshold=round(threshold, 2))


def _keep_rows(name: str, rows: list[dict], labels: list[bool], answerable: int, hidden: int) -> None:
    """The confidence rows, for a look at other models (train/.work/<name>-rows.json)."""
    kinds = ["answerable"] * answerable + ["hidden"] * hidden + ["trick"] * (len(rows) - answerable - hidden)
    WORK.parent.mkdir(parents=True, exist_ok=True)
    (WORK.parent / f"{name}-rows.json").write_text(json.dumps(
        [{"features": r, "label": bool(y), "kind": k} for r, y, k in zip(rows, labels, kinds)]), encoding="utf-8")


def _hidden_indexes(index: SearchIndex, questions: list[EvalQuestion], negatives: str):  # noqa: ANN201
    """(index with something hidden, questions it makes unanswerable), one index at a time.

    "article" negatives: every other question of each article asked with the article hidden.
    "same-event" negatives: every other question asked with only the paragraph that holds
    its answer hidden, the rest of the article kept (the event is covered, the fact is
    not; a question whose answer still occurs elsewhere in its article is left out), and
    every fourth with its article hidden.
    """
    by_passage: dict[tuple[str, int, int], list[int]] = {}
    by_doc: dict[str, list[int]] = {}
    for i, question in enumerate(questions):
        if negatives == "article":
            for doc in question.gold_doc_ids:
                by_doc.setdefault(doc, []).append(i)
        elif i % 2 == 0 and question.evidence:
            span = question.evidence[0]
            text = index.articles[span.doc_id].text
            start, end = text.rfind("\n\n", 0, span.start) + 1, text.find("\n\n", span.end)
            by_passage.setdefault((span.doc_id, start, len(text) if end < 0 else end), []).append(i)
        elif i % 4 == 1:
            for doc in question.gold_doc_ids:
                by_doc.setdefault(doc, []).append(i)
    for (doc, start, end), members in sorted(by_passage.items()):
        stored = without_passage(index.stored, doc, start, end)
        rest = [s.text for s in stored.sentences if s.doc_id == doc]
        gone = [i for i in members if not any(contains_answer(t, questions[i].answers) for t in rest)]
        if gone:
            yield SearchIndex(stored), gone
    for doc, members in sorted(by_doc.items()):
        # every other question keeps the two kinds of example balanced
        yield SearchIndex(without_docs(index.stored, {doc})), members[::2] if negatives == "article" else members


@lru_cache(maxsize=1)
def trick_questions() -> list[EvalQuestion]:
    """Unanswerable questions that look answerable, asked with every article in the index:
    SQuAD v2.0's crowd-written ones of the training articles, and as many again made from the
    training half's own answerable questions by `train.negatives` (a name, number or date of
    the question swapped for another of its type from the article, or a word turned into its
    opposite). Never from a held-out article."""
    import random

    from eval.squad import load_squad2
    from train.negatives import make_negatives
    from train.reader_data import load_articles

    real = [q for q in load_squad2(SQUAD2, SQUAD, WORK, split="train").questions if not q.answerable]
    train_titles, _ = squad_split_titles(SQUAD)
    made = [n for n in make_negatives(load_articles(SQUAD, set(train_titles)), random.Random(0))
            if n.kind in QUESTION_KINDS]
    random.Random(1).shuffle(made)
    generated = [
        EvalQuestion(f"made-{i}", n.question, (), (), False, (), (), question_type(n.question), ("made", n.kind))
        for i, n in enumerate(made[: len(real)])
    ]
    return [q for q in real + generated if len(analyse(q.question).parts) == 1]


def print_abstention_tradeoff(confidences: list[float], right: list[bool], answerable: int) -> float:
    """Print the abstention trade-off on the training questions; return the threshold that declines
    the most unanswerable questions with at most MOST_ANSWERABLE_DECLINED of the answerable ones.

    The first `answerable` rows were asked with their source in the index, the rest with
    it hidden (unanswerable).
    """
    points = [(c, i < answerable, r) for i, (c, r) in enumerate(zip(confidences, right))]
    rows = trade_offs_of(points, [round(t, 2) for t in np.arange(0.01, 0.96, 0.01)])  # chosen to a hundredth
    best = bounded_threshold(rows)
    shown = [r for r in rows if round(r.threshold * 100) % 5 == 0 or r is best]
    print("\n".join(format_trade_offs("the training questions", shown)), file=sys.stderr)
    print(f"threshold {best.threshold:.2f}: the most unanswerable declined with at most "
          f"{MOST_ANSWERABLE_DECLINED:.0%} of the answerable", file=sys.stderr)
    return best.threshold


def rerank_stage(index, questions, queries, settings, readers, negatives="article") -> LinearModel:
    """Label each read sentence by whether it holds a gold answer."""
    rows, labels = [], []
    for question, query in zip(questions, queries):
        part = analyse(question.question).parts[0]
        ranking = rank_sentences(index, part, query, settings)
        reranked, read = read_and_rerank(index, part, ranking, readers(question), settings.read_sentences)
        for candidate in reranked.candidates[: len(read)]:
            rows.append({k: candidate.features[k] for k in RERANK_FEATURES})
            labels.append(contains_answer(index.sentences[candidate.sentence].text, question.answers))
    return fit("rerank", rows, labels, RERANK_FEATURES)


def reader_span_stage(index, questions, queries, settings, readers, negatives="article") -> LinearModel:
    """Label the reader's and the rules' spans by their token F1 against the gold answers."""

    def source_of(question):
        return PassageReaderSpans(settings.read_sentences, readers(question))

    return _fit_spans("reader_span", index, questions, queries, settings, source_of, READER_SPAN_FEATURES)


def reader_confidence_stage(index, questions, queries, settings, readers, negatives="article") -> LinearModel:
    """As `confidence_stage`, on the reader's answers."""
    def source_of(question):
        return PassageReaderSpans(settings.read_sentences, readers(question))

    return _confidence("reader_confidence", index, questions, queries, settings, source_of, negatives)


STAGE_FEATURES = {
    "sentence": SENTENCE_FEATURES,
    "span": SPAN_FEATURES,
    "confidence": CONFIDENCE_FEATURES,
    "rerank": RERANK_FEATURES,
    "reader_span": READER_SPAN_FEATURES,
    "reader_confidence": CONFIDENCE_FEATURES,
}


def _placeholder_if_unloadable(name: str, folder: Path) -> None:
    """Training a stage runs the product, which loads that stage's own model (to order or
    rate what it then ignores). When the file is missing or its features changed, write a
    zero-weight placeholder first; the stage overwrites it."""
    try:
        load_model(name, STAGE_FEATURES[name], folder)
    except ModelError:
        _save(LinearModel(name, {f: 0.0 for f in STAGE_FEATURES[name]}, threshold=0.5), folder)
        clear_cache()


STAGES: dict[str, Callable[..., LinearModel]] = {
    "sentence": sentence_stage,
    "span": span_stage,
    "confidence": confidence_stage,
    "rerank": rerank_stage,
    "reader_span": reader_span_stage,
    "reader_confidence": reader_confidence_stage,
}


def _decision(index: SearchIndex, question: EvalQuestion, query: Query, settings: Settings, source: SpanSource):
    """The confidence features of the answer the product gives, the answer and its first quote."""
    # the threshold does not matter here: only the features and the answer are used
    result = answer_part(index, analyse(question.question).parts[0], query, settings.with_(abstain_below=0.0), source)
    first = index.sentences[result.evidence[0]].text if result.evidence else ""
    return result.features, result.answer if result.span_found else "", first


def fit(
    name: str, rows: list[dict[str, float]], labels: list[bool], features: tuple[str, ...],
    weights: list[float] | None = None,
) -> LinearModel:
    """Logistic regression on standardised `features`; prints its training log-loss.

    Every declared feature gets a weight (one no row sets gets 0), so the model file
    lists exactly the features the product computes (see `qa.models.load_model`).
    """
    from sklearn.linear_model import LogisticRegression

    names = sorted(set(features))
    matrix = np.array([[row.get(n, 0.0) for n in names] for row in rows], dtype=np.float64)
    y = np.array(labels, dtype=int)
    means = matrix.mean(axis=0)
    scales = matrix.std(axis=0)
    scales[scales == 0] = 1.0
    model = LogisticRegression(C=1.0, max_iter=2000)
    model.fit((matrix - means) / scales, y, sample_weight=weights)
    probabilities = model.predict_proba((matrix - means) / scales)[:, 1]
    w = np.ones(len(y)) if weights is None else np.asarray(weights)
    loss = -np.sum(w * (y * np.log(probabilities + 1e-12) + (1 - y) * np.log(1 - probabilities + 1e-12))) / w.sum()
    print(f"{name}: {len(y)} examples, {y.mean():.3f} positive, log-loss {loss:.4f}", file=sys.stderr)
    return LinearModel(
        name=name,
        card=_card(name, len(y), float(loss)),
        weights={n: round(float(w), 6) for n, w in zip(names, model.coef_[0])},
        bias=round(float(model.intercept_[0]), 6),
        means={n: round(float(m), 6) for n, m in zip(names, means)},
        scales={n: round(float(s), 6) for n, s in zip(names, scales)},
    )


def folds(questions: list[EvalQuestion]) -> tuple[set[str], set[str]]:
    """The training articles in two folds: even and odd positions in doc-id order."""
    ids = sorted({doc for q in questions for doc in q.gold_doc_ids})
    return set(ids[0::2]), set(ids[1::2])


def _fold_readers(spec: str, even: set[str]):
    """question -> the passage reader to read it with; the shipped one without folds.

    With "A,B", A was trained without the even fold and reads its questions, B the odd.
    """
    from qa.read.passage import PassageReader, get_passage_reader

    if not spec:
        return lambda question: get_passage_reader()
    first, second = (PassageReader(Path(p)) for p in spec.split(","))
    return lambda question: first if set(question.gold_doc_ids) & even else second


def without_passage(stored: StoredIndex, doc: str, start: int, end: int) -> StoredIndex:
    """The same index without the sentences of `doc` inside [start, end) and the chunks touching them."""
    keep_s = [i for i, s in enumerate(stored.sentences) if not (s.doc_id == doc and start <= s.start < end)]
    keep_c = [i for i, c in enumerate(stored.chunks) if not (c.doc_id == doc and c.start < end and start < c.end)]
    return _keep(stored, keep_s, keep_c, stored.articles)


def without_docs(stored: StoredIndex, hidden: set[str]) -> StoredIndex:
    """The same index with some articles taken out (no re-embedding needed)."""
    keep_s = [i for i, s in enumerate(stored.sentences) if s.doc_id not in hidden]
    keep_c = [i for i, c in enumerate(stored.chunks) if c.doc_id not in hidden]
    return _keep(stored, keep_s, keep_c, tuple(a for a in stored.articles if a.doc_id not in hidden))


def _keep(stored: StoredIndex, keep_s: list[int], keep_c: list[int], articles) -> StoredIndex:  # noqa: ANN001
    return replace(
        stored,
        articles=articles,
        sentences=tuple(stored.sentences[i] for i in keep_s),
        sentence_tokens=tuple(stored.sentence_tokens[i] for i in keep_s),
        chunks=tuple(stored.chunks[i] for i in keep_c),
        chunk_tokens=tuple(stored.chunk_tokens[i] for i in keep_c),
        chunk_vectors=stored.chunk_vectors[keep_c],
        sentence_vectors=stored.sentence_vectors[keep_s],
    )


def _card(name: str, examples: int, loss: float) -> dict[str, object]:
    trained_on = f"SQuAD v1.1 dev, training half (12 articles, see eval.squad); {examples} examples"
    if name in STAGE_FEATURES and STAGE_FEATURES[name] == CONFIDENCE_FEATURES:
        trained_on += (": its answerable questions, the same asked with their article hidden, and trick questions "
                       "asked over every article (SQuAD v2.0's unanswerable questions of the training articles and "
                       "as many made by train.negatives)")
    return {
        "trained_on": trained_on + "; never a held-out article, SQuAD v2.0's held-out half, or the seed questions",
        "training_log_loss": round(loss, 4),
        "reproduce": f"python -m train.stacking --stages {name} (after the stages before it)",
        "held_out": "docs/benchmarks.md: qa eval --dataset squad and squad2 measure the whole pipeline",
    }


def queries_of(questions: list[EvalQuestion], settings: Settings) -> list[Query]:
    """The retrieval query of each question's single part, embedded in one batch."""
    parts = [analyse(q.question).parts[0] for q in questions]
    vectors = embedder_for(settings).encode([p.search_text for p in parts])
    return [Query.of(p.search_text, v, p.lexical_text) for p, v in zip(parts, vectors)]


def _save(model: LinearModel, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{model.name}.json"
    path.write_text(model.to_json() + "\n", encoding="utf-8")
    top = sorted(model.weights.items(), key=lambda kv: -abs(kv[1]))[:8]
    print(f"wrote {path}: " + ", ".join(f"{k}={v:+.2f}" for k, v in top), file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
