"""Sharded builds and serving on a real local Ray cluster (the `[distributed]` extra).

Real embedding model, real FAISS, real Ray (a local one-node cluster, `ray.init(num_cpus=2)`, shut
down at the end of the module). The corpus is the seeds plus three SQuAD articles.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import SEEDS

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install -e '.[distributed]'")

from eval.cli import DEFAULT_SQUAD  # noqa: E402
from qa.api import answer_with_index  # noqa: E402
from qa.config import settings_from_env  # noqa: E402
from qa.distributed.build import CRASH_FLAG, build_sharded  # noqa: E402
from qa.distributed.layout import SHARDS, read_listing, sharded_home  # noqa: E402
from qa.distributed.serving import ShardedIndex, open_sharded  # noqa: E402
from qa.indexing import store  # noqa: E402
from qa.indexing.catalog import ensure_index  # noqa: E402

pytestmark = pytest.mark.slow
SQUAD_DEV = DEFAULT_SQUAD
SQUAD_ARTICLES = 3
SQUAD_QUESTIONS = 30
SHARDS_BUILT = 3


@pytest.fixture(scope="module", autouse=True)
def local_cluster():
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """Seeds and a few SQuAD dev articles in one folder, with questions about both."""
    if not SQUAD_DEV.is_file():
        pytest.skip(f"{SQUAD_DEV} is missing")
    from eval.seedset import load_seed_set
    from eval.squad import load_squad

    root = tmp_path_factory.mktemp("sharded")
    data = json.loads(SQUAD_DEV.read_text(encoding="utf-8"))
    data["data"] = data["data"][:SQUAD_ARTICLES]
    (root / "squad.json").write_text(json.dumps(data), encoding="utf-8")
    squad = load_squad(root / "squad.json", root / "squad")
    folder = root / "articles"
    shutil.copytree(SEEDS, folder)
    for path in (root / "squad").glob("*.txt"):
        shutil.copy(path, folder / path.name)
    seeds = load_seed_set(corpus_dir=SEEDS)
    every = max(1, len(squad.questions) // SQUAD_QUESTIONS)
    questions = [q.question for q in seeds.questions] + [q.question for q in squad.questions[::every]]
    return folder, questions


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory):
    return settings_from_env(index_dir=tmp_path_factory.mktemp("index"))


@pytest.fixture(scope="module")
def sharded(corpus, settings) -> ShardedIndex:
    build_sharded(corpus[0], settings, shards=SHARDS_BUILT)
    index = open_sharded(corpus[0], settings)
    yield index
    index.close()


def _essentials(answer) -> tuple:
    return answer.answer, answer.answerable, round(answer.confidence, 9), [
        (c.doc_id, c.start, c.end, c.quote, round(c.score, 9), c.also_in) for c in answer.citations
    ]


def test_answers_over_shards_equal_answers_over_one_index(corpus, settings, sharded) -> None:
    folder, questions = corpus
    single = ensure_index(folder, settings)
    assert sharded.shard_count == SHARDS_BUILT
    assert [s.id for s in sharded.index.sentences] == [s.id for s in single.sentences]
    assert sharded.index.aliases == single.aliases  # every shard's acronyms (shard 0's alone were taken once)
    differ = []
    for question in questions:
        mine, theirs = answer_with_index(sharded.index, question, settings), answer_with_index(single, question, settings)
        if _essentials(mine) != _essentials(theirs):
            differ.append((question, _essentials(mine)[:2], _essentials(theirs)[:2]))
    assert len(questions) > 150 and differ == []


def test_a_shard_actor_that_dies_is_restarted_from_its_files_and_the_question_retried(corpus, settings, sharded) -> None:
    question = "Who accepted the pledge and when?"
    before = _essentials(answer_with_index(sharded.index, question, settings))
    dead = sharded.actors[1]
    ray.kill(dead, no_restart=True)
    after = answer_with_index(sharded.index, question, settings)
    assert sharded.actors[1] is not dead and sharded.actors[0] is not dead
    assert _essentials(after) == before
    ray.kill(sharded.actors[0], no_restart=True)
    ray.kill(sharded.actors[2], no_restart=True)
    assert _essentials(answer_with_index(sharded.index, question, settings)) == before


def test_a_filtered_view_of_the_shards_searches_only_its_articles(corpus, settings, sharded) -> None:
    # The shards' tables are searched by the same searchers as one index's, so a filter
    # (every other article: some in each shard) masks their hits the same way.
    from qa.indexing.embedder import embedder_for
    from qa.retrieve.backends import DENSE, LEXICAL, searcher
    from qa.retrieve.searcher import Query

    single = ensure_index(corpus[0], settings)
    admitted = set(sorted(single.articles)[::2])
    mine_view, their_view = sharded.index.within(admitted), single.within(admitted)
    question = "Who accepted the pledge and when?"
    query = Query.of(question, embedder_for(settings).encode([question])[0])
    for table in ("chunks", "sentences"):
        for kind in (LEXICAL, DENSE):
            mine = searcher(mine_view, table, kind).search(query, 20)
            theirs = searcher(their_view, table, kind).search(query, 20)
            assert mine.rows.tolist() == theirs.rows.tolist() and np.array_equal(mine.scores, theirs.scores)
            assert len(mine) and {getattr(single, table)[r].doc_id for r in mine.rows} <= admitted
    assert _essentials(answer_with_index(mine_view, question, settings)) == _essentials(
        answer_with_index(their_view, question, settings)
    )


@pytest.fixture
def seeds_settings(tmp_path: Path):
    return settings_from_env(index_dir=tmp_path / "index")


def _listed_shards_load(home: Path) -> dict:
    listing = read_listing(home)
    for shard in listing["shards"]:
        assert store.load(home / shard["name"]).manifest["checksum"] == shard["checksum"]
    return listing


def test_a_worker_killed_mid_build_leaves_no_half_written_shard_listed(tmp_path, seeds_settings, monkeypatch) -> None:
    marker = tmp_path / "killed"
    monkeypatch.setenv(CRASH_FLAG, str(marker))
    listing = build_sharded(SEEDS, seeds_settings, shards=2)  # Ray runs the killed task again
    home = sharded_home(SEEDS, seeds_settings)
    killed = marker.read_text()  # the temporary folder the dead worker had written its shard in
    assert killed.startswith(".shard-") and killed.endswith(".partial")
    assert not (home / killed).exists() and not list(home.glob("*.partial"))
    assert len(_listed_shards_load(home)["shards"]) == 2
    assert sum(s["counts"]["articles"] for s in listing["shards"]) == 4

    # No retries left: the build fails, and the last complete listing stays in use.
    marker.unlink()
    monkeypatch.setattr("qa.distributed.build.TASK_RETRIES", 0)
    with pytest.raises(ray.exceptions.RayError):  # (three shards: other shards than the finished two)
        build_sharded(SEEDS, seeds_settings, shards=3)
    assert _listed_shards_load(home) == listing
    assert marker.read_text() not in {s["name"] for s in listing["shards"]}


def test_a_sharded_build_cut_short_builds_only_the_shards_it_had_not_finished(tmp_path, seeds_settings) -> None:
    first = build_sharded(SEEDS, seeds_settings, shards=2)
    home = sharded_home(SEEDS, seeds_settings)
    (home / SHARDS).unlink()  # the driver killed after its shards were written, before the listing
    kept = home / first["shards"][0]["name"]
    built_at = kept.stat().st_mtime_ns
    shutil.rmtree(home / first["shards"][1]["name"])  # and one shard never finished
    again = build_sharded(SEEDS, seeds_settings, shards=2)
    assert [s["name"] for s in again["shards"]] == [s["name"] for s in first["shards"]]
    assert [s["checksum"] for s in again["shards"]][0] == first["shards"][0]["checksum"]
    assert kept.stat().st_mtime_ns == built_at  # found finished: not built again
    assert _listed_shards_load(home)["shards"][1]["counts"] == first["shards"][1]["counts"]


def test_qa_index_ray_builds_shards_from_the_command_line(tmp_path, seeds_settings) -> None:
    from qa.cli import main

    assert main(["index", "--ray", str(SEEDS), "--shards", "2", "--index-dir", str(seeds_settings.index_dir)]) == 0
    assert len(read_listing(sharded_home(SEEDS, seeds_settings))["shards"]) == 2
    assert (sharded_home(SEEDS, seeds_settings) / SHARDS).is_file()


def test_the_chat_answers_from_the_sharded_index_and_refuses_uploads(corpus, settings, sharded) -> None:
    import sys

    sys.path.insert(0, str(SEEDS.parent))
    from webchat.assistant import SHARDED_UPLOADS, Assistant

    assistant = Assistant(corpus[0], settings, index=sharded.index)
    answer, _ = assistant.ask("Who accepted the pledge and when?")
    assert _essentials(answer) == _essentials(answer_with_index(sharded.index, "Who accepted the pledge and when?", settings))
    assert assistant.add([("new.txt", b"A new article.")], lambda *a: None)[0] == SHARDED_UPLOADS
    assert not (corpus[0] / "new.txt").exists()
