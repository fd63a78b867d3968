"""`qa index CORPUS --ray`: reading, parsing and embedding as Ray tasks, one index shard per task.

Two rounds of tasks. First, batches of files are read on the workers and only a key of
each (doc id, text hash, SHA-256) comes back, so the driver applies the corpus rule
that each article counts once (`qa.ingest.corpus.distinct_articles`) without holding
the text. Then each worker reads its contiguous run of articles again, parses, embeds
and writes one shard (`qa.indexing.build.build`, `qa.indexing.store.save`) under a
temporary name, renames it into place and returns its manifest's checksum. Only when
every shard is back is `shards.json` written, so a worker that dies mid-build leaves at
most an unlisted folder; Ray retries the task, and if it fails for good the last
listing stays in use.

A shard is named after what it is made from (`shard_name`: its articles' keys and
hashes, the neighbours its edge batches borrow from, the settings and the parser code),
so a build that was cut short (the driver killed, a task failed for good) and is run
again finds the shards it finished in place and builds only the others.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import ray

from qa.config import Settings
from qa.errors import CorpusError, IndexCorruptError
from qa.indexing import build as single_build
from qa.indexing import store
from qa.indexing.build import Progress
from qa.indexing.embedder import embedder_for
from qa.indexing.folder import file_lock, file_records
from qa.indexing.manifest import read_manifest
from qa.indexing.sentence_vectors import EMBED_BATCH
from qa.ingest.chunker import sentences_of
from qa.ingest.corpus import FileState, distinct_articles, read_articles, scan, text_key
from qa.types import Article
from qa.distributed.embedding import Precomputed, aligned_vectors
from qa.distributed.plan import balanced_runs, covering, neighbours
from qa.distributed.layout import remove_partial, remove_unlisted, sharded_home, write_listing

# A test sets this to a file path: the first shard task to find the file missing creates
# it and kills its worker process after writing its shard, before renaming it into place.
CRASH_FLAG = "QA_TEST_KILL_SHARD_WORKER"
TASK_RETRIES = 2  # a shard task whose worker died is run again this many times


def build_sharded(
    corpus: Path, settings: Settings, shards: int | None = None, progress: Progress | None = None
) -> dict[str, Any]:
    """Build the sharded index of `corpus` on the connected Ray cluster (`qa.distributed.cluster.connect`).

    Args:
        corpus: the folder of articles.
        settings: model, chunking and index location, as for a single index.
        shards: how many shards (and build tasks); default: the cluster's CPU count.
        progress: called as progress("building shards", done, total).

    Returns:
        The listing written to `shards.json` (see `qa.distributed.layout`).

    Raises:
        CorpusError: the corpus folder is missing or holds no readable article.
        ray.exceptions.RayError: a shard task failed for good; the previous listing stays.
    """
    corpus = Path(corpus).resolve()
    home = sharded_home(corpus, settings)
    report = progress or (lambda stage, done, total: None)
    with file_lock(home):
        remove_partial(home)  # (whole shards a cut-short build left stay: they are reused below)
        states = scan(corpus)
        if not states:
            raise CorpusError(f"corpus folder {corpus} holds no .txt or .md files; add news articles")
        count = max(1, shards or int(ray.cluster_resources().get("CPU", 1)))
        articles, sentence_counts = _distinct(corpus, states, count)
        by_path = {s.relpath: s for s in states}
        crash = os.environ.get(CRASH_FLAG)
        pending: list[Any] = []
        for first, last in balanced_runs(sentence_counts, count):
            before, after = neighbours(sentence_counts, first, last)
            lead_in, lead_out = covering(sentence_counts, first, last, before, after)
            group = articles[first:last]
            around = _Neighbours([articles[i] for i in lead_in], before, [articles[i] for i in lead_out], after)
            name = shard_name(group, around, settings)
            finished = _finished(home, name)
            if finished is not None:  # built by a run that was cut short: not built again
                pending.append(finished)
                continue
            task = _build_shard.options(max_retries=TASK_RETRIES)
            states_of_group = [by_path[relpath] for relpath, _, _ in group]
            pending.append(task.remote(str(corpus), str(home), name, group, states_of_group, settings, around, crash))
        done = _gather(pending, report)
        listing = write_listing(home, done, settings, done[0]["dimension"])
        remove_unlisted(home)
    return listing


def shard_name(group: list[tuple[str, str, str]], around: _Neighbours, settings: Settings) -> str:
    """The name of the shard made from `group` (with its neighbours) under `settings`: the same
    inputs always give the same shard, so a finished one is known by its name."""
    digest = hashlib.sha1(json.dumps(
        [group, around.before, around.before_sentences, around.after, around.after_sentences,
         settings.index_shape(), single_build.pipeline_fingerprint(), EMBED_BATCH],
        sort_keys=True, default=str,
    ).encode("utf-8"))
    return f"shard-{digest.hexdigest()[:12]}"


def _finished(home: Path, name: str) -> dict[str, Any] | None:
    """The result of shard `name` if it lies whole in `home` (its manifest checks out), else None."""
    if not (home / name).is_dir():
        return None
    try:
        manifest = read_manifest(home / name)
    except IndexCorruptError:
        return None
    return {key: manifest[key] for key in ("checksum", "counts", "dimension")} | {"name": name}


def _gather(pending: list[Any], report: Progress) -> list[dict[str, Any]]:
    """The shard tasks' results in shard order (a shard found finished is its result already);
    if one fails for good, the others are stopped."""
    done: list[dict[str, Any]] = [p if isinstance(p, dict) else {} for p in pending]
    order = {ref: number for number, ref in enumerate(pending) if not isinstance(ref, dict)}
    waiting = list(order)
    report("building shards", 0, len(pending))
    try:
        while waiting:
            ready, waiting = ray.wait(waiting, num_returns=1)  # (an empty `waiting` never gets here)
            done[order[ready[0]]] = ray.get(ready[0])
            report("building shards", len(pending) - len(waiting), len(pending))
    except BaseException:
        for ref in waiting:  # nothing will be listed: stop the others
            ray.cancel(ref, force=True)
        raise
    return done


@dataclass(frozen=True)
class _Neighbours:
    """The articles around a shard whose sentences share its first and last embedding batch."""

    before: list[tuple[str, str, str]]  # (relpath, doc id, SHA-256) of each
    before_sentences: int  # how many of their last sentences
    after: list[tuple[str, str, str]]
    after_sentences: int  # how many of their first sentences


def _distinct(corpus: Path, states: list[FileState], tasks: int) -> tuple[list[tuple[str, str, str]], list[int]]:
    """(relpath, doc id, SHA-256) of each article in file order, read on the workers, and its sentence count."""
    relpaths = [s.relpath for s in states]
    size = -(-len(relpaths) // tasks)
    batches = [relpaths[i : i + size] for i in range(0, len(relpaths), size)]
    keys = [key for batch in ray.get([_read_keys.remote(str(corpus), b) for b in batches]) for key in batch]
    found = [(corpus / relpath, doc_id, text) for relpath, doc_id, text, _, _ in keys]
    kept = distinct_articles(found, corpus)
    if not kept:
        raise CorpusError(
            f"corpus folder {corpus} holds {len(relpaths)} file(s), none readable; add UTF-8 .txt or .md articles"
        )
    return [(keys[p][0], doc_id, keys[p][3]) for p, doc_id in kept], [keys[p][4] for p, _ in kept]


@ray.remote(num_cpus=1)
def _read_keys(corpus: str, relpaths: list[str]) -> list[tuple[str, str, str, str, int]]:
    """(relpath, doc id, text key, SHA-256, sentence count) of each readable file of the batch."""
    folder = Path(corpus)
    out = []
    for relpath in relpaths:
        for article in read_articles(folder / relpath, folder):  # a dump holds many
            out.append((relpath, article.doc_id, text_key(article.text), article.sha256, len(sentences_of(article))))
    return out


def _read(folder: Path, members: list[tuple[str, str, str]]) -> list[Article]:
    """The articles as the first round saw them.

    Raises:
        CorpusError: a file changed or went away since.
    """
    articles, files = [], {}
    for relpath, doc_id, sha256 in members:
        if relpath not in files:
            files[relpath] = read_articles(folder / relpath, folder)
        article = next((a for a in files[relpath] if a.sha256 == sha256), None)  # a dump's rows have their own
        if article is None:
            raise CorpusError(f"{relpath} changed while the index was being built; run the build again")
        articles.append(replace(article, doc_id=doc_id))
    return articles


def _texts(articles: list[Article]) -> list[str]:
    return [s.text for a in articles for s in sentences_of(a)]


@ray.remote(num_cpus=1)
def _build_shard(
    corpus: str,
    home: str,
    name: str,
    members: list[tuple[str, str, str]],
    states: list[FileState],
    settings: Settings,
    around: _Neighbours,
    crash: str | None,
) -> dict[str, Any]:
    """Read, parse and embed one run of articles and write it as a shard; its name, checksum and counts."""
    # One task holds one CPU: parallelism comes from Ray's tasks, not from parser processes.
    single_build.PARSER_PROCESSES = 1
    folder = Path(corpus)
    articles = _read(folder, members)
    own = _texts(articles)
    lead_in = _texts(_read(folder, around.before))
    before = lead_in[len(lead_in) - around.before_sentences :]
    after = _texts(_read(folder, around.after))[: around.after_sentences]
    model = embedder_for(settings)
    embedder = Precomputed(model, own, aligned_vectors(model, before, own, after))
    stored = single_build.build(articles, settings, embedder, file_records(folder, states, articles))
    staging = Path(home) / f".{name}.{uuid.uuid4().hex[:8]}.partial"
    manifest = store.save(staging, stored)
    if crash and not os.path.exists(crash):
        Path(crash).write_text(staging.name)
        os._exit(1)  # a worker lost mid-build, as a test asks: the shard is written but not in place
    target = Path(home) / name
    if target.exists():  # the same shard, made by a run of the same inputs: keep one
        shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return {key: manifest[key] for key in ("checksum", "counts", "dimension")} | {"name": name}
