"""Unanswerable (question, sentence) pairs made from answerable SQuAD questions, as SQuAD v2.0's
writers made theirs: questions that name a passage's people, places and dates but ask for
something the passage does not say.

    python -m train.negatives                        # all of SQuAD v1.1 train -> train/.work/negatives.jsonl.gz
    python -m train.negatives --show 50 --seed 7     # print 50 at random, to judge by eye

Four kinds, each from a question and its gold sentence (the sentence holding its answer):

- `swap`: a named entity, number or date of the question that the gold sentence names is
  replaced by another of the same type from the same article that the sentence does not
  name ("When did Chopin leave Warsaw?" -> "When did Chopin leave Vienna?");
- `antonym`: a word of the question that the sentence does not contain is turned into its
  opposite ("first" -> "last", "before" -> "after", "largest" -> "smallest"), or "not" put
  after a leading "is/was/are/were" ("What was not ...");
- `lacking`: the question is paired with a sentence of its paragraph that names the same
  entities but holds nothing of the type it asks for (no date for "when", no number for
  "how many", no person or organisation for "who", no place for "where");
- `neighbour`: the question is paired with the sentence of its paragraph that shares most
  of its rare words without containing any gold answer.

Each pair keeps the source question and answer, so a reader of the file can judge it.
Entities come from spaCy's small English pipeline (named entities only; no parser), read
over the paragraphs and questions in one stream: all 87,599 questions in about ten minutes
on one core. Nothing here reads the SQuAD dev file.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import random
import re
import sys
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from qa.ingest.sentences import split_sentences

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SQUAD_TRAIN = DATA / "squad-v1.1-train.json.gz"
WORK = Path(__file__).resolve().parent / ".work"
DEFAULT_OUT = WORK / "negatives.jsonl.gz"
KINDS = ("swap", "antonym", "lacking", "neighbour")

# Entity types that can stand in for one another when swapped (spaCy's OntoNotes labels).
SWAP_TYPES = {
    "PERSON": "PERSON", "ORG": "ORG", "GPE": "PLACE", "LOC": "PLACE", "FAC": "PLACE", "NORP": "NORP",
    "DATE": "DATE", "CARDINAL": "NUMBER", "QUANTITY": "NUMBER", "MONEY": "MONEY", "PERCENT": "PERCENT",
    "EVENT": "EVENT", "WORK_OF_ART": "WORK_OF_ART", "LAW": "LAW", "LANGUAGE": "LANGUAGE", "PRODUCT": "PRODUCT",
}
# What a question word asks for, as the entity types that would answer it.
WANTED = (
    (re.compile(r"^\s*(when|what year|in what year|which year|what date|on what date)\b", re.I), {"DATE", "TIME"}),
    (re.compile(r"^\s*how (many|much)\b", re.I), {"CARDINAL", "QUANTITY", "MONEY", "PERCENT"}),
    (re.compile(r"^\s*(who|whom|whose)\b", re.I), {"PERSON", "ORG", "NORP"}),
    (re.compile(r"^\s*where\b", re.I), {"GPE", "LOC", "FAC"}),
)
ANTONYMS = {
    "first": "last", "last": "first", "before": "after", "after": "before", "largest": "smallest",
    "smallest": "largest", "biggest": "smallest", "most": "least", "least": "most", "highest": "lowest",
    "lowest": "highest", "earliest": "latest", "latest": "earliest", "oldest": "youngest", "youngest": "oldest",
    "longest": "shortest", "shortest": "longest", "increase": "decrease", "decrease": "increase",
    "increased": "decreased", "decreased": "increased", "north": "south", "south": "north", "east": "west",
    "west": "east", "northern": "southern", "southern": "northern", "eastern": "western", "western": "eastern",
    "won": "lost", "lost": "won", "win": "lose", "maximum": "minimum", "minimum": "maximum", "above": "below",
    "below": "above", "more": "fewer", "fewer": "more", "larger": "smaller", "smaller": "larger",
    "higher": "lower", "lower": "higher", "start": "end", "began": "ended", "begin": "end", "open": "close",
    "opened": "closed", "allowed": "banned", "banned": "allowed", "support": "oppose", "supported": "opposed",
    "opposed": "supported", "accepted": "rejected", "rejected": "accepted", "rise": "fall", "entered": "left",
    "born": "buried", "founded": "dissolved", "built": "demolished", "private": "public", "public": "private",
}
_COPULA_LEAD = re.compile(r"^(\s*\w+(?:\s+\w+)?\s+(?:is|was|are|were))\s+(?!not\b)", re.I)
_WORD = re.compile(r"\w+")
_STOP = frozenset(
    "a an the of in on at to for from by with and or is was are were be been did does do what which who whom "
    "whose when where why how many much that this these those it its as into than".split()
)


@dataclass(frozen=True)
class Negative:
    """One unanswerable pair: `question` cannot be answered from `sentence`.

    `source_question` and `answer` are the SQuAD question it was made from and its answer
    (which `sentence`, for `swap` and `antonym`, does hold for the source question).
    """

    kind: str
    question: str
    sentence: str
    source_question: str
    answer: str
    article: str
    change: str  # what was changed, for a reader of the file ("Warsaw -> Vienna")


@dataclass(frozen=True)
class _Sentence:
    paragraph: int
    start: int
    end: int
    text: str
    entities: tuple[tuple[str, str], ...]  # (text, spaCy label)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.negatives", description=__doc__.split("\n")[0])
    parser.add_argument("--squad", type=Path, default=SQUAD_TRAIN, help="SQuAD v1.1 JSON(.gz) to make them from")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--articles", type=int, default=0, help="use only the first N articles (0: all)")
    parser.add_argument("--show", type=int, default=0, help="print N pairs of --out at random and stop")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.show:
        pairs = list(read_negatives(args.out))
        for number, pair in enumerate(random.Random(args.seed).sample(pairs, min(args.show, len(pairs))), 1):
            print(f"{number}. [{pair.kind}] {pair.question}\n   sentence: {pair.sentence}\n"
                  f"   from: {pair.source_question} -> {pair.answer}   ({pair.change})")
        return 0
    articles = _load(args.squad)
    if args.articles:
        articles = articles[: args.articles]
    pairs = make_negatives(articles, random.Random(args.seed), progress=sys.stderr)
    write_negatives(pairs, args.out)
    counts = Counter(p.kind for p in pairs)
    print(f"wrote {len(pairs)} pairs to {args.out}: " + ", ".join(f"{k} {counts[k]}" for k in KINDS), file=sys.stderr)
    return 0


def make_negatives(articles: list[dict], rng: random.Random, progress: Any = None) -> list[Negative]:
    """Every kind of negative that each question of `articles` allows (at most one of each kind)."""
    nlp = _entity_pipeline()
    out: list[Negative] = []
    for number, article in enumerate(articles):
        sentences = _sentences_of(article, nlp)
        questions = [qa for paragraph in article["paragraphs"] for qa in paragraph["qas"]]
        docs = nlp.pipe([qa["question"] for qa in questions], batch_size=256)
        paragraph_of = [p for p, paragraph in enumerate(article["paragraphs"]) for _ in paragraph["qas"]]
        pool = _entity_pool(sentences)
        idf = _idf(sentences)
        for qa, doc, paragraph in zip(questions, docs, paragraph_of):
            entities = tuple((e.text, e.label_) for e in doc.ents)
            out.extend(negatives_of(qa, entities, paragraph, sentences, pool, idf, article["title"], rng))
        if progress is not None and (number + 1) % 20 == 0:
            print(f"{number + 1}/{len(articles)} articles, {len(out)} pairs", file=progress, flush=True)
    return out


def negatives_of(
    qa: dict,
    question_entities: tuple[tuple[str, str], ...],
    paragraph: int,
    sentences: list[_Sentence],
    pool: dict[str, list[str]],
    idf: dict[str, float],
    title: str,
    rng: random.Random,
) -> list[Negative]:
    """The negatives one question allows, each kind at most once."""
    answer = qa["answers"][0]
    start, end = answer["answer_start"], answer["answer_start"] + len(answer["text"])
    gold = next((s for s in sentences if s.paragraph == paragraph and s.start <= start and end <= s.end), None)
    if gold is None or not answer["text"].strip():
        return []
    answers = {a["text"].lower() for a in qa["answers"] if a["text"].strip()}
    question = qa["question"].strip()
    made = []

    def add(kind: str, new_question: str, sentence: _Sentence, change: str) -> None:
        made.append(Negative(kind, new_question, sentence.text, question, answer["text"], title, change))

    swapped = _swap(question, question_entities, gold, pool, answers, rng)
    if swapped:
        add("swap", *swapped[:1], gold, swapped[1])
    turned = _antonym(question, gold.text)
    if turned:
        add("antonym", turned[0], gold, turned[1])
    others = [s for s in sentences if s.paragraph == paragraph and s is not gold
              and not any(a in s.text.lower() for a in answers)]
    lacking = _lacking(question, question_entities, others)
    if lacking:
        add("lacking", question, lacking, "a sentence of the paragraph with nothing of the type asked for")
    neighbour = _neighbour(question, [s for s in others if s is not lacking], idf)
    if neighbour:
        add("neighbour", question, neighbour, "another sentence of the paragraph, without the answer")
    return made


def _swap(
    question: str, entities: tuple[tuple[str, str], ...], gold: _Sentence, pool: dict[str, list[str]],
    answers: set[str], rng: random.Random,
) -> tuple[str, str] | None:
    """The question with one entity the gold sentence names replaced by another of its type."""
    sentence = gold.text.lower()
    candidates = [(text, label) for text, label in entities
                  if label in SWAP_TYPES and text.lower() in sentence and text.lower() not in answers]
    rng.shuffle(candidates)
    for text, label in candidates:
        options = [o for o in pool.get(SWAP_TYPES[label], ())
                   if o.lower() not in sentence and text.lower() not in o.lower() and o.lower() not in text.lower()
                   and not any(o.lower() in a or a in o.lower() for a in answers) and o.lower() not in question.lower()
                   and _has_digit(o) == _has_digit(text)]  # "2010" -> "1998", never "2010" -> "centuries"
        if options:
            other = rng.choice(options)
            return question.replace(text, other, 1), f"{text} -> {other}"
    return None


def _has_digit(text: str) -> bool:
    return any(c.isdigit() for c in text)


def _antonym(question: str, sentence: str) -> tuple[str, str] | None:
    """The question with a word turned into its opposite (one the sentence does not hold), or negated."""
    sentence_words = {w.lower() for w in _WORD.findall(sentence)}
    for match in _WORD.finditer(question):
        word = match.group(0)
        opposite = ANTONYMS.get(word.lower())
        if opposite and opposite not in sentence_words:
            if word[0].isupper():
                opposite = opposite.capitalize()
            return question[: match.start()] + opposite + question[match.end() :], f"{word} -> {opposite}"
    lead = _COPULA_LEAD.match(question)
    if lead and "not" not in sentence_words and "never" not in sentence_words:
        return question[: lead.end(1)] + " not" + question[lead.end(1) :], "negated"
    return None


def _lacking(question: str, entities: tuple[tuple[str, str], ...], others: list[_Sentence]) -> _Sentence | None:
    """A sentence naming one of the question's entities that holds nothing of the type asked for."""
    wanted = next((types for pattern, types in WANTED if pattern.search(question)), None)
    if wanted is None:
        return None
    names = [text.lower() for text, _ in entities]
    for sentence in others:
        lowered = sentence.text.lower()
        if any(n in lowered for n in names) and not any(label in wanted for _, label in sentence.entities):
            return sentence
    return None


def _neighbour(question: str, others: list[_Sentence], idf: dict[str, float]) -> _Sentence | None:
    """The sentence sharing most rare words with the question (at least two content words)."""
    words = {w for w in _WORD.findall(question.lower()) if w not in _STOP}
    scored = []
    for sentence in others:
        shared = words & {w.lower() for w in _WORD.findall(sentence.text)}
        if len(shared) >= 2:
            scored.append((sum(idf.get(w, 0.0) for w in shared), sentence.start, sentence))
    return max(scored, key=lambda x: (x[0], -x[1]))[2] if scored else None


def _sentences_of(article: dict, nlp: Any) -> list[_Sentence]:
    """Every sentence of the article's paragraphs, with its named entities."""
    cut = []
    for number, paragraph in enumerate(article["paragraphs"]):
        context = paragraph["context"]
        cut.extend((number, a, b, context[a:b]) for a, b in split_sentences(context))
    docs = nlp.pipe([text for *_, text in cut], batch_size=256)
    return [_Sentence(p, a, b, text, tuple((e.text, e.label_) for e in doc.ents)) for (p, a, b, text), doc in zip(cut, docs)]


def _entity_pool(sentences: list[_Sentence]) -> dict[str, list[str]]:
    """The article's entities by swap type, each once, in order of first mention."""
    pool: dict[str, dict[str, None]] = {}
    for sentence in sentences:
        for text, label in sentence.entities:
            if label in SWAP_TYPES and len(text) > 1:
                pool.setdefault(SWAP_TYPES[label], {})[text] = None
    return {kind: list(texts) for kind, texts in pool.items()}


def _idf(sentences: list[_Sentence]) -> dict[str, float]:
    counts = Counter(w for s in sentences for w in {w.lower() for w in _WORD.findall(s.text)})
    return {w: math.log(1 + len(sentences) / n) for w, n in counts.items()}


def _entity_pipeline() -> Any:
    """spaCy's small English pipeline with only what named entities need."""
    import spacy

    from qa.ingest.annotate import SPACY_PACKAGES

    for name in SPACY_PACKAGES:
        try:
            return spacy.load(name, disable=["parser", "lemmatizer", "attribute_ruler", "tagger", "senter"])
        except OSError:
            continue
    raise SystemExit(f"no spaCy English pipeline installed (one of {SPACY_PACKAGES}); pip install -e .")


def _load(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            return json.load(handle)["data"]
    except FileNotFoundError:
        raise SystemExit(f"{path} not found: SQuAD v1.1 train comes with ../shared/data (see its README)") from None


def write_negatives(pairs: Iterable[Negative], path: Path) -> None:
    """The pairs as gzipped JSON lines, written atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with gzip.open(partial, "wt", encoding="utf-8") as handle:
        for pair in pairs:
            handle.write(json.dumps(asdict(pair), ensure_ascii=False) + "\n")
    partial.replace(path)


def read_negatives(path: Path) -> Iterator[Negative]:
    """The pairs `write_negatives` wrote, in order."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            yield Negative(**json.loads(line))


if __name__ == "__main__":
    raise SystemExit(main())
