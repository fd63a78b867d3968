"""Typed settings with defaults in code; a few environment variables for deployment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# Run from a clone of the repository (an editable install included), the bundled articles
# and the index folder sit beside the package. Installed from a wheel, there is no default
# corpus (a folder is given, or env QA_CORPUS) and indexes live in the user's cache.
FROM_CHECKOUT = (REPO_ROOT / "pyproject.toml").is_file() and (REPO_ROOT / "qa").is_dir()
DEFAULT_CORPUS: Path | None = REPO_ROOT / "seeds" if FROM_CHECKOUT else None
DEFAULT_MODEL = "all-MiniLM-L6-v2"

FUSION_MODES = ("rrf", "weighted", "bm25", "dense")
EMBEDDING_RUNTIMES = ("onnx-int8", "torch")
# What the int8 export is (`qa.indexing.onnx_embedder.quantise`), named in its cached file and
# in every index built with it: a change of quantisation makes a new file and rebuilds indexes.
ONNX_QUANTISATION = "int8-w7"
ANNOTATORS = ("spacy", "rules")
PARSE_MODES = ("demand", "build")

# Settings that change what is stored in an index; recorded in its manifest.
INDEX_SHAPING = ("model", "embedding_runtime", "chunk_sentences", "chunk_overlap", "annotator")


@dataclass(frozen=True)
class Settings:
    """Everything that shapes an index or an answer.

    Args:
        model: sentence-transformers model name or local path (env `QA_MODEL`).
        embedding_runtime: "onnx-int8" (the model exported to ONNX with int8 weights, run by
            ONNX Runtime; faster on a CPU) or "torch" (sentence-transformers as is)
            (env `QA_EMBEDDING_RUNTIME`).
        index_dir: root folder of built indexes (env `QA_INDEX_DIR`; default index/ in a
            clone of the repository, else `~/.cache/newsqa-assistant/index`).
        chunk_sentences: sentences per chunk.
        chunk_overlap: sentences shared by neighbouring chunks.
        annotator: "spacy" (en_core_web_sm) or "rules" for entities and dates.
        parse: "demand" (a build stores what retrieval needs; the annotator reads a
            paragraph when a question first needs its entities, kept on disk beside the
            index, and `qa index` reads the rest once the index is in use) or "build"
            (every paragraph is read before the index is in use) (env `QA_PARSE`).
            The answers are the same; only when the parsing is done differs.
        fusion: "rrf", "weighted", or a single retriever, "bm25" or "dense".
        rrf_k: the constant of reciprocal rank fusion.
        dense_weight: share of the dense score in weighted fusion.
        top_chunks: chunks handed from the retriever to the answerer.
        max_citations: citations returned per answer.
        passage_reader: re-rank the best sentences and score spans with the built-in reader
            (on by default; env `QA_PASSAGE_READER=0` leaves the span choice to the rules).
        reader_model: optional local transformers extractive-QA model (env `QA_READER_MODEL`);
            when set, its spans replace the built-in ones.
        read_sentences: how many of the best sentences a reader reads per question part
            (env `QA_READ_SENTENCES`).
        question_seconds: time budget for answering one question; parts not started
            by then are left out with a `QuestionWarning` (the first part is always answered).
        abstain_below: confidence under which the answer is "not in these articles";
            None: the threshold stored with the confidence model in use, the one declining
            the most unanswerable questions of the SQuAD training half while declining at
            most 10% of its answerable ones (the table `python -m train.stacking` prints).
    """

    model: str = DEFAULT_MODEL
    embedding_runtime: str = "onnx-int8"
    index_dir: Path = field(default_factory=lambda: default_index_dir())
    chunk_sentences: int = 3
    chunk_overlap: int = 1
    annotator: str = "spacy"
    parse: str = "demand"
    fusion: str = "weighted"
    rrf_k: int = 60
    dense_weight: float = 0.5
    top_chunks: int = 8
    max_citations: int = 4
    passage_reader: bool = True
    reader_model: str | None = None
    read_sentences: int = 5
    abstain_below: float | None = None
    question_seconds: float = 10.0

    def __post_init__(self) -> None:
        if self.fusion not in FUSION_MODES:
            raise ValueError(f"fusion must be one of {FUSION_MODES}, not {self.fusion!r}")
        if self.embedding_runtime not in EMBEDDING_RUNTIMES:
            raise ValueError(f"embedding_runtime must be one of {EMBEDDING_RUNTIMES}, not {self.embedding_runtime!r}")
        if self.annotator not in ANNOTATORS:
            raise ValueError(f"annotator must be one of {ANNOTATORS}, not {self.annotator!r}")
        if self.parse not in PARSE_MODES:
            raise ValueError(f"parse must be one of {PARSE_MODES}, not {self.parse!r}")
        if self.chunk_sentences < 1:
            raise ValueError(f"chunk_sentences must be at least 1, not {self.chunk_sentences}")
        if not 0 <= self.chunk_overlap < self.chunk_sentences:
            raise ValueError(
                f"chunk_overlap must be at least 0 and below chunk_sentences "
                f"({self.chunk_sentences}), not {self.chunk_overlap}"
            )
        if self.top_chunks < 1 or self.max_citations < 1 or self.read_sentences < 1:
            raise ValueError("top_chunks, max_citations and read_sentences must be at least 1")
        if not 0.0 <= self.dense_weight <= 1.0:
            raise ValueError(f"dense_weight must lie in [0, 1], not {self.dense_weight}")
        if self.rrf_k < 1:
            raise ValueError(f"rrf_k must be at least 1, not {self.rrf_k}")
        if not self.question_seconds > 0:
            raise ValueError(f"question_seconds must be above 0, not {self.question_seconds}")

    def with_(self, **changes: object) -> "Settings":
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def index_shape(self) -> dict[str, object]:
        """The settings an index was built with, as stored in its manifest; the ONNX runtime is
        recorded with its quantisation, so vectors of another export are never reused."""
        shape = {name: getattr(self, name) for name in INDEX_SHAPING}
        if self.embedding_runtime == "onnx-int8":
            shape["embedding_runtime"] = f"onnx-{ONNX_QUANTISATION}"
        return shape


def cache_dir() -> Path:
    """Where exported models (and an installed package's indexes) are kept: env `QA_CACHE_DIR`,
    else ~/.cache/newsqa-assistant."""
    return Path(os.environ.get("QA_CACHE_DIR") or Path.home() / ".cache" / "newsqa-assistant")


def default_index_dir() -> Path:
    """index/ beside the package in a clone of the repository, else the cache's index/."""
    return REPO_ROOT / "index" if FROM_CHECKOUT else cache_dir() / "index"


def settings_from_env(**overrides: object) -> Settings:
    """Defaults, then `QA_MODEL`, `QA_EMBEDDING_RUNTIME`, `QA_INDEX_DIR`, `QA_READER_MODEL`,
    `QA_PASSAGE_READER`, `QA_READ_SENTENCES`, `QA_QUESTION_SECONDS`, `QA_PARSE`, then `overrides`."""
    env: dict[str, object] = {}
    if os.environ.get("QA_MODEL"):
        env["model"] = os.environ["QA_MODEL"]
    if os.environ.get("QA_INDEX_DIR"):
        env["index_dir"] = Path(os.environ["QA_INDEX_DIR"])
    if os.environ.get("QA_EMBEDDING_RUNTIME"):
        env["embedding_runtime"] = os.environ["QA_EMBEDDING_RUNTIME"].strip()
    if os.environ.get("QA_READ_SENTENCES", "").strip():
        env["read_sentences"] = _positive_int("QA_READ_SENTENCES")
    if os.environ.get("QA_QUESTION_SECONDS", "").strip():
        env["question_seconds"] = _positive_int("QA_QUESTION_SECONDS")
    if os.environ.get("QA_PARSE", "").strip():
        env["parse"] = os.environ["QA_PARSE"].strip().lower()
    if os.environ.get("QA_READER_MODEL"):
        env["reader_model"] = os.environ["QA_READER_MODEL"]
    if os.environ.get("QA_PASSAGE_READER"):
        env["passage_reader"] = os.environ["QA_PASSAGE_READER"].strip().lower() in ("1", "true", "yes", "on")
    known = {f.name for f in fields(Settings)}
    unknown = set(overrides) - known
    if unknown:
        raise ValueError(f"unknown settings {sorted(unknown)}; known: {sorted(known)}")
    env.update({k: v for k, v in overrides.items() if v is not None})
    if "index_dir" in env:
        env["index_dir"] = Path(env["index_dir"])  # type: ignore[arg-type]
    return Settings(**env)  # type: ignore[arg-type]


def _positive_int(name: str) -> int:
    value = os.environ[name].strip()
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, not {value!r}")
    return int(value)
