"""Resumable builds: a build cut short leaves its finished work in the journal, and the next
run takes it and makes the very index an uninterrupted build makes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, SEEDS, FakeEmbedder
from qa.config import Settings
from qa.indexing import journal
from qa.indexing.catalog import ensure_index, forget_cached, index_home
from qa.indexing.sentence_vectors import EMBED_BATCH


class Failing(FakeEmbedder):
    """Embeds `batches` batches, then fails as a killed process would stop."""

    def __init__(self, batches: int) -> None:
        super().__init__()
        self.left = batches

    def encode(self, texts):  # noqa: ANN001, ANN201
        if self.left == 0:
            raise KeyboardInterrupt("cut short")
        self.left -= 1
        return super().encode(texts)


def _corpus(folder: Path, copies: int) -> Path:
    folder.mkdir()
    for copy in range(copies):
        for path in sorted(SEEDS.iterdir()):
            text = f"Edition {copy} of the wire.\n\n" + path.read_text(encoding="utf-8")  # each copy its own article
            (folder / f"{copy:02d}-{path.name}").write_text(text, encoding="utf-8")
    return folder


def _same(first, second) -> None:  # noqa: ANN001
    assert [s.id for s in first.sentences] == [s.id for s in second.sentences]
    assert [s.entities for s in first.sentences] == [s.entities for s in second.sentences]
    assert np.array_equal(np.asarray(first.sentence_vectors), np.asarray(second.sentence_vectors))
    chunks = [getattr(getattr(x, "stored", x), "chunk_vectors") for x in (first, second)]
    assert np.array_equal(np.asarray(chunks[0]), np.asarray(chunks[1]))


def test_a_build_cut_short_resumes_from_its_journal_and_makes_the_same_index(tmp_path) -> None:
    corpus = _corpus(tmp_path / "corpus", 6)  # about 600 sentences: three batches
    settings = Settings(model="fake", index_dir=tmp_path / "index", annotator="rules")
    with pytest.raises(KeyboardInterrupt):
        ensure_index(corpus, settings, embedder=Failing(batches=2))
    home = index_home(corpus, settings)
    assert len(list((home / journal.FOLDER).glob("vectors-*.npy"))) == 2
    assert not list(home.glob("build-*"))  # nothing was swapped in
    forget_cached()
    again = FakeEmbedder()
    resumed = ensure_index(corpus, settings, embedder=again)
    total = len(resumed.sentences)
    assert again.texts_seen == total - 2 * EMBED_BATCH  # only the batches not finished are embedded
    assert not (home / journal.FOLDER).exists()  # saved: the journal is gone
    straight = ensure_index(corpus, settings.with_(index_dir=tmp_path / "straight"), embedder=FakeEmbedder())
    _same(resumed, straight)


def test_a_forced_build_clears_the_journal_and_another_settings_journal_is_not_read(tmp_path) -> None:
    corpus = _corpus(tmp_path / "corpus", 3)
    settings = Settings(model="fake", index_dir=tmp_path / "index", annotator="rules")
    with pytest.raises(KeyboardInterrupt):
        ensure_index(corpus, settings, embedder=Failing(batches=1))
    home = index_home(corpus, settings)
    assert list((home / journal.FOLDER).glob("vectors-*.npy"))
    stale = journal.Journal(home, {"settings": "other"})  # opening with another key clears it
    assert not list(stale.folder.glob("vectors-*.npy")) and not stale.entities
    with pytest.raises(KeyboardInterrupt):
        ensure_index(corpus, settings, embedder=Failing(batches=1))
    forget_cached()
    again = FakeEmbedder()
    ensure_index(corpus, settings, embedder=again, force=True)
    assert again.texts_seen > 0 and not (home / journal.FOLDER).exists()


BUILD = """
import sys
from pathlib import Path
from qa.config import settings_from_env
from qa.indexing.catalog import ensure_index
ensure_index(Path(sys.argv[1]), settings_from_env(index_dir=Path(sys.argv[2])))
"""


@pytest.mark.slow
def test_a_real_build_killed_half_way_resumes_and_makes_the_index_an_uninterrupted_build_makes(tmp_path) -> None:
    """kill -9 at about half the embedding batches, then run again: the same index, bit for bit,
    with the real (int8, batch-dependent) embedder and parser; only batches in flight are redone."""
    from qa.indexing.store import load

    corpus = _corpus(tmp_path / "corpus", 10)  # about 1,000 sentences: four batches
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-c", BUILD, str(corpus), str(tmp_path / "index")]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    folder = None
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and process.poll() is None:
        homes = list((tmp_path / "index").glob("*/" + journal.FOLDER))
        if homes and len(list(homes[0].glob("vectors-*.npy"))) >= 2:
            folder = homes[0]
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.05)
    process.wait(timeout=60)
    assert folder is not None, "the build ended before it could be killed"
    done_before = {p.name for p in folder.glob("vectors-*.npy")}
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=600)
    home = folder.parent
    resumed = load(home / (home / "CURRENT").read_text(encoding="utf-8").strip())
    subprocess.run([sys.executable, "-c", BUILD, str(corpus), str(tmp_path / "straight")], env=env, check=True,
                   capture_output=True, timeout=600)
    other = next((tmp_path / "straight").iterdir())
    straight = load(other / (other / "CURRENT").read_text(encoding="utf-8").strip())
    _same(resumed, straight)
    batches = -(-len(straight.sentences) // EMBED_BATCH)
    assert len(done_before) >= 2 and len(done_before) < batches
    shutil.rmtree(tmp_path / "straight", ignore_errors=True)
