"""The scale benchmark's news dump (`python -m eval.scale --dump ROWS`): one JSON-lines file of
short rows, one article each (a sentence of SQuAD v1.1 train with its article's title, a
publication date and an outlet: about 150 bytes a row, like a feed of headlines and leads),
read and indexed as a user's dump is.

Past the sentences SQuAD train holds, copies drop one word of each (`eval.scale_corpus`) and
are numbered ("Update 3: ..."), so their texts differ; a row whose text repeats an earlier
one's (SQuAD repeats a few sentences) is skipped by the product (each article counts once)
and counted as such. Three stages, each in a fresh process:
reading the rows into the articles a build holds (rows/s before any parsing, peak memory),
the build from nothing (time, peak memory of the build and its parser processes, then
reading the paragraphs it left, `Settings.parse`), and loading the built index (time and
memory held).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import time
from pathlib import Path
from typing import Any

from eval.memory import PeakMemory

OUTLETS = ("Wire", "Daily", "Herald", "Courier")


def write_dump(articles: list[tuple[str, list[str], list[str]]], rows: int, folder: Path) -> dict[str, Any]:
    """`rows` rows into `folder/corpus/rows.jsonl` from the sentences of `articles` (SQuAD's
    (title, paragraphs, questions)); returns the file's size and how many copies it took."""
    from qa.ingest.sentences import split_sentences

    from eval.scale_corpus import _perturbed

    sentences = [
        (title, paragraph[start:end])
        for title, paragraphs, _ in articles
        for paragraph in paragraphs
        for start, end in split_sentences(paragraph)
        if 40 <= end - start <= 160
    ]
    corpus = folder / "corpus"
    shutil.rmtree(corpus, ignore_errors=True)
    corpus.mkdir(parents=True)
    rng = random.Random(0)
    path = corpus / "rows.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        for n in range(rows):
            copy, (title, text) = divmod(n, len(sentences))[0], sentences[n % len(sentences)]
            if copy:  # a later edition of the same report: one word dropped, and numbered
                text = f"Update {copy}: {_perturbed(text, rng)}"
            day = f"2023-{1 + n % 12:02d}-{1 + n % 28:02d}"
            handle.write(json.dumps({"id": f"r{n}", "title": title, "outlet": OUTLETS[n % 4], "published": day, "text": text}) + "\n")
    return {"rows": rows, "dump_mb": round(path.stat().st_size / 2**20, 1), "copies": 1 + (rows - 1) // len(sentences)}


def read_stage(folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The rows read into the columns a build keeps (`qa.indexing.article_table`), timed,
    before any sentence is split or parsed."""
    import warnings

    from qa.indexing.article_table import ArticleTable
    from qa.ingest.corpus import each_article

    started = time.perf_counter()
    with PeakMemory() as peak, warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        articles = ArticleTable.of(each_article(folder / "corpus"))
    seconds = time.perf_counter() - started
    return {
        "articles": len(articles),
        "skipped_rows": sum("skipped" in str(w.message) for w in said),
        "read_s": round(seconds, 2),
        "rows_per_s": round(len(articles) / seconds),
        "read_peak_mb": peak.mb,
        "articles_mb": round(articles.nbytes() / 2**20, 1),
    }


def build_stage(folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The scale benchmark's build stage on the dump, its figures named for it."""
    from eval.scale import build_stage as build

    built = build(folder, args)
    return {
        "sentences": built["sentences"], "chunks": built["chunks"], "build_s": built["build_s"],
        "parse_after_s": built["read_s"], "build_peak_mb": built["build_peak_mb"], "index_mb": built["index_mb"],
    }


def load_stage(folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The built index loaded in a fresh process: time and what it holds (no model loaded)."""
    from qa.indexing import catalog

    from eval.scale import _settings

    settings = _settings(folder, args)
    started = time.perf_counter()
    with PeakMemory() as peak:
        catalog.ensure_index(folder / "corpus", settings)
    seconds = time.perf_counter() - started
    held = int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) // 1024
    return {"load_s": round(seconds, 2), "load_peak_mb": peak.mb, "loaded_mb": held}
