"""The pure logic behind sharding: corpus-wide BM25 counts, shard plans, aligned embedding
batches, stacked rows, and the shard listing's checks.

No Ray needed: these modules of `qa.distributed` do not import it.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import ARTICLES, FakeEmbedder
from qa.distributed.embedding import Precomputed, aligned_vectors
from qa.distributed.plan import balanced_runs, covering, neighbours
from qa.distributed.layout import SHARDS, check_shard, listed_names, read_listing, remove_unlisted, write_listing
from qa.errors import IndexCorruptError
from qa.indexing import store
from qa.indexing.build import build
from qa.indexing.sentence_vectors import EMBED_BATCH
from qa.indexing.postings import Postings, merged_counts
from qa.ingest.corpus import load_corpus

DOCUMENTS = (
    ("harbour", "bridge", "reopen"), ("bridge", "bridge", "repair", "cost"), ("festival", "crowd"),
    ("storm", "port", "close", "port"), ("bridge", "storm"), ("crowd", "record", "festival", "lantern"),
    ("port", "ellis"),
)


def test_shards_scored_with_merged_counts_give_the_whole_corpus_scores_exactly() -> None:
    whole = Postings(DOCUMENTS)
    cuts = [(0, 2), (2, 5), (5, 7)]
    corpus = merged_counts([Postings(DOCUMENTS[a:b]).counts() for a, b in cuts])
    assert corpus == whole.counts()
    for query in (["bridge"], ["port", "storm", "port"], ["festival", "unknown"], ["ellis", "crowd"]):
        joined = np.concatenate([Postings(DOCUMENTS[a:b], corpus).scores(query) for a, b in cuts])
        assert np.array_equal(joined, whole.scores(query))  # the same floats, not merely close
    alone = np.concatenate([Postings(DOCUMENTS[a:b]).scores(["bridge"]) for a, b in cuts])
    assert not np.array_equal(alone, whole.scores(["bridge"]))  # shard-local figures would differ


def test_shards_are_runs_of_articles_balanced_by_sentences() -> None:
    assert balanced_runs([100, 100, 100, 100], 2) == [(0, 2), (2, 4)]
    assert balanced_runs([500, 10, 10, 10, 500], 2) == [(0, 3), (3, 5)]  # 520 and 510 sentences
    assert balanced_runs([1000, 1, 1], 3) == [(0, 1), (1, 2), (2, 3)]  # never an empty shard
    assert balanced_runs([5, 5], 4) == [(0, 1), (1, 2)]
    for counts in ([3, 1, 4, 1, 5, 9, 2, 6], [0, 0, 7], [1]):
        for parts in (1, 2, 3):
            runs = balanced_runs(counts, parts)
            assert runs[0][0] == 0 and runs[-1][1] == len(counts)
            assert all(a < b for a, b in runs) and all(runs[i][1] == runs[i + 1][0] for i in range(len(runs) - 1))


def test_a_shard_embeds_the_corpus_batches_around_its_range() -> None:
    counts = [100, 200, 50, 30, 300]  # sentences per article; batches of 256
    assert neighbours(counts, 0, 2) == (0, 256 * 2 - 300)
    before, after = neighbours(counts, 2, 4)  # sentences 300..380
    assert (before, after) == (300 - 256, 512 - 380)
    assert covering(counts, 2, 4, before, after) == (range(1, 2), range(4, 5))
    assert neighbours(counts, 4, 5) == (380 - 256, 0)  # the corpus ends inside the batch
    assert neighbours([0, 5], 0, 1) == (0, 0)


def test_aligned_vectors_are_the_rows_of_the_whole_corpus_batches() -> None:
    class BatchAware(FakeEmbedder):
        """Like int8 ONNX: a vector depends on the batch it is embedded in."""

        def encode(self, texts: list[str]) -> np.ndarray:
            return super().encode(texts) + len(texts) * 1e-3 + sum(map(len, texts)) * 1e-6

    texts = [f"sentence number {i} about {'bridge' if i % 3 else 'storm'}" for i in range(700)]
    model = BatchAware()
    whole = np.concatenate([model.encode(texts[i : i + EMBED_BATCH]) for i in range(0, len(texts), EMBED_BATCH)])
    start, end = 300, 600
    counts = [start, end - start, len(texts) - end]
    before, after = neighbours(counts, 1, 2)
    mine = aligned_vectors(model, texts[start - before : start], texts[start:end], texts[end : end + after])
    assert np.array_equal(mine, whole[start:end])
    handed = Precomputed(model, texts[start:end], mine)
    assert np.array_equal(handed.encode(texts[start:400]), whole[start:400])
    assert np.array_equal(handed.encode(texts[450:460]), whole[450:460])  # skips what the build left out


def test_the_shard_listing_is_checked_before_it_is_trusted(tmp_path, fake_settings) -> None:
    corpus = tmp_path / "articles"
    corpus.mkdir()
    for name, text in ARTICLES.items():
        (corpus / name).write_text(text, encoding="utf-8")
    home = tmp_path / "home"
    manifest = store.save(home / "shard-0123456789ab", build(load_corpus(corpus), fake_settings, FakeEmbedder(), {}))
    (home / "shard-ba9876543210").mkdir()  # a shard no listing names: left by a failed build
    (home / ".shard-ffffffffffff.partial").mkdir()  # half-written by a worker that died
    with pytest.raises(IndexCorruptError, match="qa index CORPUS --ray"):
        read_listing(home)
    listing = write_listing(home, [{"name": "shard-0123456789ab", "checksum": manifest["checksum"]}], fake_settings, 64)
    assert read_listing(home) == listing and listed_names(home) == {"shard-0123456789ab"}
    remove_unlisted(home)
    assert sorted(p.name for p in home.iterdir() if p.is_dir()) == ["shard-0123456789ab"]
    check_shard(home / "shard-0123456789ab", manifest["checksum"])
    with pytest.raises(IndexCorruptError, match="not the one"):
        check_shard(home / "shard-0123456789ab", "0" * 64)
    altered = json.loads((home / SHARDS).read_text())
    altered["shards"][0]["name"] = "shard-ba9876543210"
    (home / SHARDS).write_text(json.dumps(altered))
    with pytest.raises(IndexCorruptError, match="checksum"):
        read_listing(home)
