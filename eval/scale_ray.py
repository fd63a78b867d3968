"""Scale benchmark, distributed figures (`python -m eval.scale --ray`; needs the `[distributed]` extra).

For a corpus the scale benchmark has built (`eval.scale.build_stage`), in one fresh process:

- the sharded build (`qa index CORPUS --ray`) on a local Ray cluster of 1 CPU with 1
  shard, then of 2 CPUs with 2 shards: wall time of each and the speed-up (each worker
  starts, loads spaCy and its own embedding model and runs one thread, so the times
  include that), and the longest shard's own parse-and-embed time;
- the sharded path's query cost against the single index: the same questions asked of
  both, interleaved, hybrid retrieval and whole answers timed, and the share of answers
  that are the same (it should be all of them).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any


def ray_stage(folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Sharded build with 1 and 2 workers, then sharded against single query timings."""
    import ray

    from qa.api import answer_with_index
    from qa.config import settings_from_env
    from qa.distributed.build import build_sharded
    from qa.distributed.layout import sharded_home
    from qa.distributed.serving import open_sharded
    from qa.indexing import catalog
    from qa.indexing.manifest import read_manifest
    from qa.indexing.embedder import embedder_for
    from qa.retrieve.retriever import Query, retrieve

    settings = settings_from_env(index_dir=folder / "index")
    corpus = folder / "corpus"
    home = sharded_home(corpus, settings)
    builds, longest = {}, {}
    counts = sorted(int(w) for w in args.ray_workers.split(","))
    for workers in counts:
        ray.init(num_cpus=workers, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
        started = time.perf_counter()
        listing = build_sharded(corpus, settings, shards=workers)
        builds[workers] = time.perf_counter() - started
        # the longest shard's own build (parse and embed, no worker start or model load)
        longest[workers] = max(read_manifest(home / s["name"])["build_seconds"] for s in listing["shards"])
        if workers != counts[-1]:
            ray.shutdown()
    single = catalog.ensure_index(corpus, settings)
    started = time.perf_counter()
    served = open_sharded(corpus, settings)
    sharded = served.index
    load_s = time.perf_counter() - started
    embedder = embedder_for(settings)
    questions = json.loads((folder / "questions.json").read_text(encoding="utf-8"))[::7][: args.queries]
    answer_with_index(sharded, questions[0], settings)  # warm up both paths
    answer_with_index(single, questions[0], settings)
    timings: dict[str, list[float]] = {"single_hybrid": [], "sharded_hybrid": [], "single_ask": [], "sharded_ask": []}
    same = 0
    for question in questions:
        query = Query.of(question, embedder.encode([question])[0])
        for name, index in (("single", single), ("sharded", sharded)):
            timings[f"{name}_hybrid"].append(_time(lambda: retrieve(index, query, settings, 8)))
        started = time.perf_counter()
        mine = answer_with_index(sharded, question, settings)
        timings["sharded_ask"].append(time.perf_counter() - started)
        started = time.perf_counter()
        theirs = answer_with_index(single, question, settings)
        timings["single_ask"].append(time.perf_counter() - started)
        same += (mine.answer, mine.citations) == (theirs.answer, theirs.citations)
    served.close()
    ray.shutdown()
    p50 = {key: _median_ms(values) for key, values in timings.items()}
    return {
        **{f"ray_build_{w}w_s": round(builds[w], 2) for w in counts},
        **({"ray_speedup": round(builds[1] / builds[2], 2)} if {1, 2} <= builds.keys() else {}),
        **{f"ray_longest_shard_{w}w_s": longest[w] for w in counts},
        "sharded_load_s": round(load_s, 2),
        **{f"{key}_p50_ms": value for key, value in p50.items()},
        "sharded_ask_overhead_ms": round(p50["sharded_ask"] - p50["single_ask"], 1),
        "sharded_same_answers": f"{same}/{len(questions)}",
    }


def _time(action) -> float:  # noqa: ANN001
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _median_ms(seconds: list[float]) -> float:
    ordered = sorted(seconds)
    return round(1000 * ordered[len(ordered) // 2], 1) if ordered else 0.0
