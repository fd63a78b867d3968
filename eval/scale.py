"""Scale benchmark: build, load, query and update the index as the corpus grows.

    python -m eval.scale                                  # about 1k and 10k sentences
    python -m eval.scale --sizes 1000,10000,100000 --million
    python -m eval.scale --sizes 1000000                  # a million sentences built and served
    python -m eval.scale --sizes 1000 --ray                # + sharded build and serving on Ray
    python -m eval.scale --dump 1000000                   # a JSON-lines dump of a million rows
    qa scale ...                                          # the same

Corpora are cut from SQuAD v1.1 train (real text, one article per file, whole articles
until the size is reached; past its ~100k sentences, perturbed copies: `eval.scale_corpus`),
so `--sizes 1000000` builds and serves a million sentences end to end (about an hour on
2 cores; its baselines embed a 20,000-sentence sample and leave the hand-written pipeline
out). Each size is built and served in fresh processes, so peak memory is that stage's own
(a build's counts its parser processes: `eval.memory`). `--million` measures retrieval alone
at 1M sentences from ten perturbed copies of the largest built corpus's records and vectors
(`eval.scale_million`), in minutes. Prints a table and writes JSON plus a log-log PNG of
time against corpus size to eval/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from eval.cli import DEFAULT_OUT, DEFAULT_WORK, SHARED_DATA
from eval.memory import PeakMemory
from eval.scale_corpus import squad_articles, write_corpus
from eval.scale_dump import build_stage as dump_build_stage, load_stage as dump_load_stage, read_stage as dump_read_stage, write_dump

SQUAD_TRAIN = SHARED_DATA / "squad-v1.1-train.json.gz"
DEFAULT_SIZES = (1000, 10000)
MILLION = 1_000_000
BASELINE_SENTENCES = 100_000  # above it the baselines embed a sample and skip the hand-written pipeline
EMBED_SAMPLE = 20_000


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Run the benchmark as the command line asks; 0 on success."""
    parser = argparse.ArgumentParser(prog=prog or "python -m eval.scale", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)), help="sentence counts, comma-separated")
    parser.add_argument("--million", action="store_true", help="also retrieval at 1M sentences (from the largest size)")
    parser.add_argument("--queries", type=int, default=100, help="questions timed per size (default 100)")
    parser.add_argument("--squad-train", type=Path, default=SQUAD_TRAIN)
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK / "scale")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--threads", type=int, default=None, help="torch threads in the child processes")
    parser.add_argument(
        "--ray", action="store_true",
        help="also the sharded build on Ray with 2 workers against 1, and the sharded query overhead ([distributed] extra)",
    )
    parser.add_argument(
        "--ray-workers", default="1,2",
        help="worker counts of the sharded builds (default 1,2; '2' alone skips the one-worker build and the speed-up)",
    )
    parser.add_argument(
        "--serve-only", action="store_true",
        help="time loading, questions and updates of the index already built for each size (no new build)",
    )
    parser.add_argument(
        "--dump", type=int, default=0, metavar="ROWS",
        help="instead: a JSON-lines dump of ROWS short rows read, built and loaded (eval.scale_dump)",
    )
    parser.add_argument("--child", nargs=2, metavar=("STAGE", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(CHILD_STAGES[args.child[0]](Path(args.child[1]), args)))
        return 0
    if not args.squad_train.is_file():
        print(f"error: {args.squad_train} not found; pass --squad-train PATH", file=sys.stderr)
        return 1
    articles = squad_articles(args.squad_train)
    if args.dump:
        return _dump(articles, args)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    rows = []
    for size in sizes:
        folder = args.work_dir / f"s{size}"
        info = write_corpus(articles, size, folder)
        print(f"{size}: {info['articles']} articles, {info['sentences']} sentences; building …", file=sys.stderr)
        built = {} if args.serve_only else {**_child("build", folder, args), **_child("baselines", folder, args)}
        if built:  # the build against its baselines, timed in this run (machines differ up to 2.5x)
            if "handwritten_s" in built:
                built["handwritten_over_build"] = round(built["handwritten_s"] / built["build_s"], 2)
            built["build_over_embed"] = round(built["build_s"] / built["embed_alone_s"], 2)
            built["build_and_read_over_embed"] = round((built["build_s"] + built["read_s"]) / built["embed_alone_s"], 2)
        row = {"target": size, **info, **built, **_child("serve", folder, args)}
        if args.ray:
            row.update(_child("ray", folder, args))
        rows.append(row)
        print(format_row(row), file=sys.stderr)
    if args.million and rows:
        rows.append({"target": MILLION, **_child("million", args.work_dir / f"s{sizes[-1]}", args)})
    return report(rows, args.out)


def _dump(articles: list, args: argparse.Namespace) -> int:
    """A news dump of `args.dump` rows read, built and loaded, each in a fresh process (`eval.scale_dump`)."""
    folder = args.work_dir / f"dump{args.dump}"
    row = {"target": f"dump {args.dump}", **write_dump(articles, args.dump, folder)}
    print(f"dump: {row['rows']} rows, {row['dump_mb']} MB; reading …", file=sys.stderr)
    for stage in ("dump-read", "dump-build", "dump-load"):
        row.update(_child(stage, folder, args))
        print(format_row(row), file=sys.stderr)
    row["build_rows_per_s"] = round(row["articles"] / row["build_s"], 1)
    return report([row], args.out)


# ---- child processes -----------------------------------------------------------------


def _child(stage: str, folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, "-m", "eval.scale", "--child", stage, str(folder), "--queries", str(args.queries),
               "--ray-workers", args.ray_workers]
    if args.threads:
        command += ["--threads", str(args.threads)]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    if done.returncode != 0:
        raise SystemExit(f"the {stage} stage failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _settings(folder: Path, args: argparse.Namespace):  # noqa: ANN202
    from qa.config import settings_from_env

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    return settings_from_env(index_dir=folder / "index")


def _recalls_at_10(index, query) -> list[float]:  # noqa: ANN001
    """Recall@10 of the index's dense search of chunks and of sentences against exact search."""
    import numpy as np

    from qa.retrieve.backends import DENSE, searcher

    found = []
    for table, vectors in (("chunks", index.stored.chunk_vectors), ("sentences", index.stored.sentence_vectors)):
        exact = set(np.argsort(-(np.asarray(vectors) @ query.vector), kind="stable")[:10].tolist())
        hits = searcher(index, table, DENSE).search(query, 10)
        found.append(len(exact & set(hits.rows.tolist())) / max(min(10, len(exact)), 1))
    return found


def build_stage(folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Build from nothing; time per stage from the progress reports; peak memory. `build_s`
    is the time until the index is in use; `read_s` the time then taken to read the
    paragraphs it left for questions (`Settings.parse`, "demand" by default; 0 for "build")."""
    from qa.api import build_index, read_articles
    from qa.indexing.embedder import embedder_for

    settings = _settings(folder, args)
    shutil.rmtree(folder / "index", ignore_errors=True)
    embedder_for(settings)
    stages: dict[str, list[float]] = {}

    def progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        stages.setdefault(stage, [now, now])[1] = now

    started = time.perf_counter()
    with PeakMemory() as peak:
        index = build_index(folder / "corpus", settings=settings, progress=progress, read_all=False)
        seconds = time.perf_counter() - started
        read_s = _time(lambda: read_articles(index))  # what the build left for questions, read now
    sentences = len(index.sentences)
    return {
        "sentences": sentences,
        "chunks": len(index.chunks),
        "build_s": round(seconds, 2),
        "read_s": round(read_s, 2),
        "sentences_per_s": round(sentences / seconds, 1),
        "stage_s": {k: round(v[1] - v[0], 2) for k, v in stages.items()},
        "index_mb": round(_folder_bytes(folder / "index") / 2**20, 1),
        "build_peak_mb": peak.mb,  # the build and its parser processes together, sampled (eval.memory)
        "build_peak_rusage_mb": _peak_mb(children=True),  # its own peak + its largest child's: an upper bound
    }


def serve_stage(folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Load the built index in a fresh process, time queries, then add and remove an article."""
    from qa.api import answer_with_index
    from qa.indexing import catalog
    from qa.indexing.embedder import embedder_for
    from qa.retrieve.backends import DENSE, LEXICAL, searcher
    from qa.retrieve.retriever import Query, retrieve

    settings = _settings(folder, args)
    embedder = embedder_for(settings)
    corpus = folder / "corpus"
    started = time.perf_counter()
    index = catalog.ensure_index(corpus, settings)
    load_s = time.perf_counter() - started
    questions = json.loads((folder / "questions.json").read_text(encoding="utf-8"))[:: 7][: args.queries]
    answer_with_index(index, questions[0], settings)  # warm up
    timings: dict[str, list[float]] = {"bm25": [], "dense": [], "hybrid": [], "ask": []}
    recalls: list[float] = []
    queries = []
    for question in questions:
        query = Query.of(question, embedder.encode([question])[0])
        queries.append(query)
        timings["bm25"].append(_time(lambda: searcher(index, "chunks", LEXICAL).search(query, 40)))
        timings["dense"].append(_time(lambda: searcher(index, "chunks", DENSE).search(query, 40)))
        timings["hybrid"].append(_time(lambda: retrieve(index, query, settings, 8)))
        timings["ask"].append(_time(lambda: answer_with_index(index, question, settings)))
    serve_peak = _peak_mb()  # before the exact searches below read every vector
    for query in queries:
        recalls += _recalls_at_10(index, query)
    if settings.annotator == "spacy":  # a server parses an upload with a parser already loaded (after its first)
        from qa.ingest.annotate import load_spacy

        load_spacy()
    spare = corpus / "zz_spare_article.txt"
    shutil.copy(folder / "spare.txt", spare)
    add_s = _time(lambda: catalog.ensure_index(corpus, settings))
    spare.unlink()
    remove_s = _time(lambda: catalog.ensure_index(corpus, settings))
    return {
        "load_s": round(load_s, 2),
        "dense_search": index.dense_search,
        "dense_recall_at_10": round(sum(recalls) / max(len(recalls), 1), 3),
        **{f"{k}_p50_ms": _ms(v, 50) for k, v in timings.items()},
        **{f"{k}_p95_ms": _ms(v, 95) for k, v in timings.items()},
        "serve_peak_mb": serve_peak,
        "add_s": round(add_s, 2),
        "remove_s": round(remove_s, 2),
    }


def baselines_stage(folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    """What the build is measured against, on the same corpus in the same run: embedding
    the product's sentences alone with the product's embedder (batches as a build makes
    them, on as many threads), and the pipeline a user would write by hand with the same
    model: sentences cut at sentence ends by a regular expression, sentence-transformers on
    torch with its default threads (every core), rank-bm25 and a flat FAISS index, no parsing."""
    import re as regex
    from concurrent.futures import ThreadPoolExecutor

    import faiss
    import torch
    from rank_bm25 import BM25Okapi
    from sentence_transformers import SentenceTransformer

    from qa.indexing.embedder import embedder_for, resolve_model
    from qa.indexing.sentence_vectors import EMBED_BATCH, EMBED_WORKERS
    from qa.ingest.chunker import sentences_of
    from qa.ingest.corpus import load_corpus

    settings = _settings(folder, args)
    texts = [s.text for a in load_corpus(folder / "corpus") for s in sentences_of(a)]
    sampled = len(texts) > BASELINE_SENTENCES
    if sampled:  # a spread sample, timed and scaled up; the hand-written pipeline is left out
        step = len(texts) / EMBED_SAMPLE
        everything, texts = len(texts), [texts[int(i * step)] for i in range(EMBED_SAMPLE)]
    embedder = embedder_for(settings)
    embedder.encode(["warm up"])
    batches = [texts[i : i + EMBED_BATCH] for i in range(0, len(texts), EMBED_BATCH)]
    with ThreadPoolExecutor(EMBED_WORKERS) as pool:  # as many threads as a build embeds on
        embed_s = _time(lambda: list(pool.map(embedder.encode, batches)))
    if sampled:
        return {"embed_alone_s": round(embed_s * everything / EMBED_SAMPLE, 2), "embed_sampled": EMBED_SAMPLE}
    torch.set_num_threads(os.cpu_count() or 1)  # by hand, torch's default: every core
    model = SentenceTransformer(resolve_model(settings.model), device="cpu")
    model.encode(["warm up"])

    def by_hand() -> None:
        files = sorted((folder / "corpus").iterdir())
        sentences = [s for f in files for s in regex.split(r"(?<=[.!?])\s+", f.read_text(encoding="utf-8")) if s.strip()]
        vectors = model.encode(sentences, batch_size=64, normalize_embeddings=True)
        BM25Okapi([s.lower().split() for s in sentences])
        flat = faiss.IndexFlatIP(vectors.shape[1])
        flat.add(vectors)

    return {"embed_alone_s": round(embed_s, 2), "handwritten_s": round(_time(by_hand), 2)}


def million_stage(folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Retrieval over ten perturbed copies of a built corpus (`eval.scale_million`)."""
    from eval.scale_million import million_stage as million

    return million(folder, args)


def ray_stage(folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The distributed figures (`eval.scale_ray`), imported only when asked for."""
    from eval.scale_ray import ray_stage as distributed

    return distributed(folder, args)


CHILD_STAGES = {
    "build": build_stage, "baselines": baselines_stage, "serve": serve_stage, "million": million_stage, "ray": ray_stage,
    "dump-read": dump_read_stage, "dump-build": dump_build_stage, "dump-load": dump_load_stage,
}


# ---- measuring and reporting ---------------------------------------------------------


def _time(action) -> float:  # noqa: ANN001
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _ms(seconds: list[float], percent: int) -> float:
    ordered = sorted(seconds)
    if not ordered:
        return 0.0
    return round(1000 * ordered[min(len(ordered) - 1, int(round(percent / 100 * (len(ordered) - 1))))], 1)


def _peak_mb(children: bool = False) -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if children:  # parser worker processes, if the build used them
        peak += resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(peak / 1024, 1)


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


COLUMNS = (
    "target", "rows", "dump_mb", "articles", "rows_per_s", "read_peak_mb", "articles_mb", "build_rows_per_s",
    "parse_after_s", "load_peak_mb", "loaded_mb", "sentences", "copies", "build_s", "read_s", "embed_alone_s", "handwritten_s",
    "handwritten_over_build",
    "build_over_embed", "build_and_read_over_embed", "sentences_per_s", "build_peak_mb", "build_peak_rusage_mb", "index_mb", "load_s", "bm25_p50_ms",
    "dense_p50_ms", "dense_recall_at_10", "hybrid_p50_ms", "ask_p50_ms", "ask_p95_ms", "retrieval_p50_ms", "serve_peak_mb", "add_s",
    "remove_s", "ray_build_1w_s", "ray_build_2w_s", "ray_speedup", "single_ask_p50_ms", "sharded_ask_p50_ms",
    "single_hybrid_p50_ms", "sharded_hybrid_p50_ms", "sharded_ask_overhead_ms",
)


def format_row(row: dict[str, Any]) -> str:
    return "  ".join(f"{c}={row[c]}" for c in COLUMNS if c in row)


def report(rows: list[dict[str, Any]], out: Path) -> int:
    """Print the table, write JSON and the log-log chart."""
    from eval.report import CHART_NEEDS, machine_info, utc_stamp

    out.mkdir(parents=True, exist_ok=True)
    stamp = utc_stamp()
    header = " ".join(f"{c:>14}" for c in COLUMNS)
    print(header)
    for row in rows:
        print(" ".join(f"{row.get(c, '-')!s:>14}" for c in COLUMNS))
    for row in rows:
        if "stage_s" in row:
            print(f"{row['target']}: stages " + ", ".join(f"{k} {v} s" for k, v in row["stage_s"].items()))
    payload = json.dumps({"machine": machine_info(), "rows": rows}, indent=2)
    path = out / f"scale-{stamp}.json"
    path.write_text(payload, encoding="utf-8")
    (out / "latest-scale.json").write_text(payload, encoding="utf-8")
    print(f"results: {path}")
    chart = _chart(rows, out / f"scale-{stamp}.png")
    print(f"chart:   {chart}" if chart else f"chart:   skipped; {CHART_NEEDS}")
    return 0


def _chart(rows: list[dict[str, Any]], path: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    figure, axis = plt.subplots(figsize=(7, 4.5))
    series = {
        "build (s)": "build_s", "load (s)": "load_s", "ask p50 (s)": "ask_p50_ms", "hybrid retrieval p50 (s)": "hybrid_p50_ms",
        "retrieval at 1M p50 (s)": "retrieval_p50_ms", "add one article (s)": "add_s",
    }
    for label, key in series.items():
        points = [(r["sentences"], r[key] / (1000 if key.endswith("_ms") else 1)) for r in rows if r.get(key)]
        if points:
            axis.plot(*zip(*points), marker="o", label=label)
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("sentences in the corpus")
    axis.set_ylabel("seconds")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    shutil.copy(path, path.with_name("latest-scale.png"))
    return path


if __name__ == "__main__":
    raise SystemExit(main())
