"""Builds never block questions: the last good index answers while one shared build runs."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from pathlib import Path

import pytest

from conftest import FakeEmbedder
from qa.indexing.catalog import IndexWarning, building, ensure_index, index_home, wait_for_build

NEW_TEXT = "A museum opened in Riverton on Friday. It has two floors."


class GatedEmbedder(FakeEmbedder):
    """The fake embedder, held at a gate while `closed`: a build that takes as long as we like."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.gate.set()
        self.waiting = threading.Event()  # set once a build is held at the gate
        self.texts: list[str] = []
        self.fail_on: str | None = None

    def encode(self, texts: list[str]):
        if not self.gate.is_set():
            self.waiting.set()
            if not self.gate.wait(timeout=60):
                raise TimeoutError("the test never opened the gate")
        if self.fail_on and any(self.fail_on in t for t in texts):
            raise RuntimeError("the embedder broke on this article")
        self.texts.extend(texts)
        return super().encode(texts)


@pytest.fixture
def gated() -> GatedEmbedder:
    return GatedEmbedder()


def start_blocked_build(corpus: Path, settings, gated: GatedEmbedder):
    """Index the corpus, then add an article and start its build, held at the gate."""
    first = ensure_index(corpus, settings, embedder=gated)
    gated.gate.clear()
    (corpus / "museum.txt").write_text(NEW_TEXT, encoding="utf-8")
    started = time.perf_counter()
    served = ensure_index(corpus, settings, embedder=gated, wait=False)
    assert gated.waiting.wait(timeout=30), "the background build did not start"
    return first, served, time.perf_counter() - started


def test_questions_get_the_last_good_index_while_a_build_runs(tiny_corpus, fake_settings, gated) -> None:
    first, served, seconds = start_blocked_build(tiny_corpus, fake_settings, gated)
    try:
        assert served is first and seconds < 5
        assert building(tiny_corpus, fake_settings)
        for _ in range(5):  # more questions: still served at once, and no second build starts
            assert ensure_index(tiny_corpus, fake_settings, embedder=gated, wait=False) is first
    finally:
        gated.gate.set()
    assert wait_for_build(tiny_corpus, fake_settings, timeout=30)
    assert not building(tiny_corpus, fake_settings)
    swapped = ensure_index(tiny_corpus, fake_settings, embedder=gated, wait=False)
    assert swapped is not first and "museum" in swapped.articles
    assert gated.texts.count("A museum opened in Riverton on Friday.") == 1  # one shared build embedded it once


def test_an_explicit_build_joins_the_build_under_way(tiny_corpus, fake_settings, gated) -> None:
    first, _, _ = start_blocked_build(tiny_corpus, fake_settings, gated)
    result: list = []
    joiner = threading.Thread(target=lambda: result.append(ensure_index(tiny_corpus, fake_settings, embedder=gated)))
    joiner.start()
    time.sleep(0.2)
    assert joiner.is_alive(), "an explicit build must wait for the new index"
    gated.gate.set()
    joiner.join(timeout=30)
    assert result and result[0] is not first and "museum" in result[0].articles
    assert gated.texts.count("A museum opened in Riverton on Friday.") == 1  # one build embedded it once


def test_concurrent_builders_share_one_build(tiny_corpus, fake_settings, gated) -> None:
    ensure_index(tiny_corpus, fake_settings, embedder=gated)
    gated.gate.clear()
    (tiny_corpus / "museum.txt").write_text(NEW_TEXT, encoding="utf-8")
    results: list = []
    threads = [
        threading.Thread(target=lambda: results.append(ensure_index(tiny_corpus, fake_settings, embedder=gated)))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    assert gated.waiting.wait(timeout=30)
    time.sleep(0.2)
    gated.gate.set()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 4 and all(r is results[0] for r in results)
    assert gated.texts.count("A museum opened in Riverton on Friday.") == 1  # one build embedded it once


def test_many_first_questions_read_the_index_from_disk_once(tiny_corpus, fake_settings, fake_embedder) -> None:
    from qa.indexing.catalog import forget_cached

    ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    forget_cached()
    start = threading.Barrier(8)
    results: list = []

    def first_question() -> None:
        start.wait(timeout=30)
        results.append(ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder, wait=False))

    threads = [threading.Thread(target=first_question) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 8 and all(r is results[0] for r in results)


def test_the_first_build_is_waited_for_even_without_waiting(tiny_corpus, fake_settings, gated) -> None:
    index = ensure_index(tiny_corpus, fake_settings, embedder=gated, wait=False)
    assert set(index.articles) == {"harbour", "festival", "storm"}


def test_a_failed_background_build_keeps_serving_and_is_not_retried_in_a_loop(tiny_corpus, fake_settings, gated) -> None:
    first = ensure_index(tiny_corpus, fake_settings, embedder=gated)
    gated.fail_on = "museum"
    (tiny_corpus / "museum.txt").write_text(NEW_TEXT, encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert ensure_index(tiny_corpus, fake_settings, embedder=gated, wait=False) is first
        assert wait_for_build(tiny_corpus, fake_settings, timeout=30)
        for _ in range(3):
            assert ensure_index(tiny_corpus, fake_settings, embedder=gated, wait=False) is first
            assert not building(tiny_corpus, fake_settings)  # the same corpus state is not retried
    failures = [w for w in caught if issubclass(w.category, IndexWarning)]
    assert len(failures) == 1 and "last good index" in str(failures[0].message)
    with pytest.raises(RuntimeError, match="broke"):  # an explicit build still tries, and says why
        ensure_index(tiny_corpus, fake_settings, embedder=gated)
    gated.fail_on = None
    (tiny_corpus / "museum.txt").write_text(NEW_TEXT + " It opens at nine.", encoding="utf-8")
    ensure_index(tiny_corpus, fake_settings, embedder=gated, wait=False)  # a new state: tried again
    assert wait_for_build(tiny_corpus, fake_settings, timeout=30)
    assert "museum" in ensure_index(tiny_corpus, fake_settings, embedder=gated, wait=False).articles


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="threads have their own nice value on Linux only")
def test_builds_run_at_a_lower_cpu_priority_than_questions(tiny_corpus, fake_settings) -> None:
    seen: list[int] = []

    class Recording(FakeEmbedder):
        def encode(self, texts):
            seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
            return super().encode(texts)

    ensure_index(tiny_corpus, fake_settings, embedder=Recording())
    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert seen and all(nice == min(19, mine + 10) for nice in seen)


BUILDER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, sys.argv[1])
    from conftest import FakeEmbedder
    from qa.config import Settings
    from qa.indexing.catalog import ensure_index

    class Slow(FakeEmbedder):
        def encode(self, texts):
            time.sleep(0.5)
            return super().encode(texts)

    embedder = Slow()
    ensure_index(sys.argv[2], Settings(model="fake", index_dir=sys.argv[3], annotator="rules"), embedder=embedder)
    print(embedder.texts_seen)
    """
)


@pytest.mark.slow
def test_two_processes_building_one_index_share_the_build(tiny_corpus, fake_settings) -> None:
    tests = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(tests.parent)}
    command = [sys.executable, "-c", BUILDER, str(tests), str(tiny_corpus), str(fake_settings.index_dir)]
    processes = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
    outputs = [p.communicate(timeout=240) for p in processes]
    assert all(p.returncode == 0 for p in processes), [err for _, err in outputs]
    embedded = sorted(int(out.strip()) for out, _ in outputs)
    assert embedded[0] == 0 and embedded[1] > 0, embedded  # the second found the first's build under the lock
    home = index_home(tiny_corpus, fake_settings)
    assert len([p for p in home.iterdir() if p.name.startswith("build-")]) == 1
