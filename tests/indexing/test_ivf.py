"""The inverted-file clustering: learned once, stored with the build, reused by updates."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from qa.errors import IndexCorruptError
from qa.indexing import catalog, ivf, ivf_codes, store
from qa.indexing.manifest import manifest_checksum
from qa.indexing.catalog import IndexWarning, ensure_index, forget_cached, index_home
from qa.indexing.nearest import flat_ip
from qa.indexing.rows import StackedRows
from qa.retrieve.backends import DENSE, searcher
from qa.retrieve.searcher import Query

from tests.indexing.test_dense import clustered


def nearest_sentences(index, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    """(rows, scores) of the index's `k` nearest sentences, through its registered dense searcher."""
    hits = searcher(index, "sentences", DENSE).search(Query("", (), vector), k)
    return hits.rows, hits.scores


def recall_at_10(exact, approximate, queries: np.ndarray) -> float:
    hits = [
        len(set(exact.search(q.reshape(1, -1), 10)[1][0]) & set(approximate.search(q.reshape(1, -1), 10)[1][0])) / 10
        for q in queries
    ]
    return float(np.mean(hits))


@pytest.fixture
def small_flat_limit(monkeypatch) -> None:
    monkeypatch.setattr(ivf, "FLAT_MAX_VECTORS", 8)


def test_small_tables_need_no_clustering() -> None:
    assert ivf.coarse_lists(clustered(100)) is None


def test_an_index_filed_by_stored_lists_finds_what_exact_search_finds(monkeypatch) -> None:
    monkeypatch.setattr(ivf, "FLAT_MAX_VECTORS", 1000)
    vectors = clustered(20000)
    lists = ivf.coarse_lists(vectors)
    assert lists is not None and lists.trained_on == 20000 and lists.problem(20000, 32) is None
    assert len(lists.centroids) == int(2 * np.sqrt(20000))
    again = ivf.coarse_lists(vectors)
    assert np.array_equal(again.centroids, lists.centroids) and np.array_equal(again.groups, lists.groups)
    index = ivf.IvfSearch.filed(vectors, lists)  # the file's candidates, ranked by their exact scores
    assert index.ntotal == 20000 and index.nprobe == ivf.PROBES
    assert recall_at_10(flat_ip(vectors)[0], index, clustered(50, seed=1)) >= 0.95


def test_the_coded_file_ranks_by_exact_scores_as_a_float_file_would(monkeypatch, tmp_path: Path) -> None:
    import faiss
    from faiss.contrib.ivf_tools import add_preassigned

    monkeypatch.setattr(ivf, "FILE_BLOCK", 3000)  # filed in blocks, from a memory-mapped table
    np.save(tmp_path / "table.npy", clustered(20000))
    vectors = np.load(tmp_path / "table.npy", mmap_mode="r")
    lists = ivf.learned_lists(np.asarray(vectors))
    search = ivf.IvfSearch.filed(vectors, lists)
    assert search.base.code_size == vectors.shape[1] // 2  # half a byte a dimension, not four bytes
    quantizer = faiss.IndexFlatIP(vectors.shape[1])
    quantizer.add(lists.centroids)
    floats = faiss.IndexIVFFlat(quantizer, vectors.shape[1], len(lists.centroids), faiss.METRIC_INNER_PRODUCT)
    floats.is_trained = True
    add_preassigned(floats, np.asarray(vectors), lists.groups)
    floats.nprobe = ivf.PROBES
    for query in clustered(40, seed=2):
        scores, rows = search.search(query.reshape(1, -1), 10)
        expected_scores, expected_rows = floats.search(query.reshape(1, -1), 10)
        assert rows.tolist() == expected_rows.tolist()
        assert np.allclose(scores, expected_scores, atol=1e-5)
        assert np.allclose(scores[0], np.asarray(vectors[rows[0]]) @ query, atol=1e-6)  # exact, from the table
    assert np.asarray(vectors[123]).tolist() == clustered(20000)[123].tolist()  # pages handed back are read again


def test_an_update_keeps_centroids_and_the_groups_of_kept_vectors(monkeypatch) -> None:
    monkeypatch.setattr(ivf, "FLAT_MAX_VECTORS", 1000)
    old = clustered(6000)
    lists = ivf.coarse_lists(old)
    new_vectors = clustered(500, seed=3)
    # drop the first 1000, keep the rest in order, append 500 new ones
    table = np.concatenate([old[1000:], new_vectors])
    kept = np.concatenate([np.arange(1000, 6000), np.full(500, -1)])
    updated = ivf.coarse_lists(table, lists, kept)
    assert updated.centroids is lists.centroids and updated.trained_on == 6000
    unchanged = np.flatnonzero(kept >= 0)
    assert np.array_equal(updated.groups[unchanged], lists.groups[kept[unchanged]])
    fresh = np.flatnonzero(kept < 0)
    assert np.array_equal(updated.groups[fresh], ivf.nearest_centroid(lists.centroids, table[fresh]))


def test_a_table_grown_past_twice_its_learned_size_is_clustered_again(monkeypatch) -> None:
    monkeypatch.setattr(ivf, "FLAT_MAX_VECTORS", 100)
    old = clustered(1000)
    lists = ivf.coarse_lists(old)
    grown = np.concatenate([old, clustered(1500, seed=4)])
    kept = np.concatenate([np.arange(1000), np.full(1500, -1)])
    again = ivf.coarse_lists(grown, lists, kept)
    assert again.trained_on == 2500 and len(again.centroids) == int(2 * np.sqrt(2500))


def build_of(corpus: Path, settings_) -> Path:
    home = index_home(corpus, settings_)
    return home / (home / "CURRENT").read_text().strip()


def test_builds_store_the_clustering_and_updates_reuse_it(
    small_flat_limit, tiny_corpus, fake_settings, fake_embedder
) -> None:
    first = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    assert len(first.sentences) > ivf.FLAT_MAX_VECTORS
    folder = build_of(tiny_corpus, fake_settings)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["coarse"]["sentences"]["trained_on"] == len(first.sentences)
    loaded = store.load(folder)
    built = first.stored.sentence_lists
    assert np.array_equal(loaded.sentence_lists.centroids, built.centroids)
    assert np.array_equal(loaded.sentence_lists.groups, built.groups)
    # the search in use is the inverted file, and it finds a sentence by its own vector
    vector = np.asarray(first.sentence_vectors[3])
    assert hasattr(first.tables["sentences"].vectors_index, "nprobe")
    assert nearest_sentences(first, vector, 1)[1][0] == pytest.approx(1.0)

    (tiny_corpus / "late.txt").write_text(
        "Late Report\n\nThe harbour reopened on Friday. Ferries ran again to the islands.", encoding="utf-8"
    )
    after = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    lists = after.stored.sentence_lists
    assert np.array_equal(lists.centroids, built.centroids)
    old_row = {sid: row for row, sid in enumerate(s.id for s in first.sentences)}
    for row, sentence in enumerate(after.sentences):
        if sentence.id in old_row:
            assert lists.groups[row] == built.groups[old_row[sentence.id]]


def test_a_build_stores_its_file_codes_and_a_load_files_them_as_making_them_would(
    small_flat_limit, tiny_corpus, fake_settings, fake_embedder
) -> None:
    first = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    folder = build_of(tiny_corpus, fake_settings)
    manifest = json.loads((folder / "manifest.json").read_text())
    (codes_file,) = manifest["codes"]["files"]
    assert codes_file.startswith("sentences-") and codes_file.endswith(".codes.npy") and "chunks" not in manifest["coarse"]
    loaded = store.load(folder).sentence_lists
    built = first.stored.sentence_lists
    assert np.array_equal(loaded.ranges, built.ranges) and loaded.codes.shape == (len(first.sentences), ivf_codes.code_size(fake_embedder.dimension))
    # each stored code is the one FAISS makes for the vector under the stored ranges
    made = np.concatenate(list(ivf_codes.encoded(np.asarray(first.sentence_vectors), built.ranges)))
    assert np.array_equal(np.asarray(loaded.codes), made)
    # filed from the codes, the file holds what filing the vectors makes: the same lists, ids and codes
    vectors = np.asarray(first.sentence_vectors)
    from_codes = ivf.ivf_index(vectors, loaded)
    from_vectors = ivf.ivf_index(vectors, ivf.CoarseLists(built.centroids, built.groups, built.trained_on, built.ranges))
    assert from_codes.ntotal == from_vectors.ntotal == len(vectors)
    for group in range(from_codes.nlist):
        assert list_contents(from_codes, group) == list_contents(from_vectors, group)
    queries = fake_embedder.encode(["Who cut the ribbon?", "When did the storm close the port?"])
    assert np.array_equal(from_codes.search(queries, 5)[1], from_vectors.search(queries, 5)[1])


def list_contents(index, group: int) -> tuple[list[int], bytes]:  # noqa: ANN001
    """The ids and the codes of one list of an inverted file."""
    import faiss

    size = index.invlists.list_size(group)
    if not size:
        return [], b""
    ids = faiss.rev_swig_ptr(index.invlists.get_ids(group), size).tolist()
    return ids, faiss.rev_swig_ptr(index.invlists.get_codes(group), size * index.code_size).tobytes()


def test_an_update_links_the_codes_and_makes_only_its_new_rows(small_flat_limit, tiny_corpus, fake_settings, fake_embedder) -> None:
    import os

    before = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    first = build_of(tiny_corpus, fake_settings)
    (old,) = json.loads((first / "manifest.json").read_text())["codes"]["files"]
    inode, ranges = os.stat(first / old).st_ino, np.load(first / "sentences.ranges.npy")
    (tiny_corpus / "late.txt").write_text(
        "Late Report\n\nThe harbour reopened on Friday. Ferries ran again to the islands.", encoding="utf-8"
    )
    after = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    second = build_of(tiny_corpus, fake_settings)
    codes = json.loads((second / "manifest.json").read_text())["codes"]
    assert os.stat(second / old).st_ino == inode  # linked, not written again
    assert sorted(codes["files"].values()) == [len(after.sentences) - len(before.sentences), len(before.sentences)]  # the new rows coded
    forget_cached()
    lists = store.load(second).sentence_lists
    assert np.array_equal(lists.ranges, ranges)  # kept with the centroids
    made = np.concatenate(list(ivf_codes.encoded(np.asarray(after.sentence_vectors), ranges)))
    assert np.array_equal(np.asarray(lists.codes), made)


@pytest.mark.parametrize("damage", ["shape", "ranges"])
def test_codes_that_do_not_fit_are_refused_even_when_resealed(
    small_flat_limit, tiny_corpus, fake_settings, fake_embedder, damage
) -> None:
    ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    folder = build_of(tiny_corpus, fake_settings)
    manifest = json.loads((folder / "manifest.json").read_text())
    if damage == "shape":
        (name,) = manifest["codes"]["files"]
        np.save(folder / name, np.load(folder / name)[:, :-1])
    else:
        name = "sentences.ranges.npy"
        np.save(folder / name, np.load(folder / name)[:-2])
    manifest["checksums"][name] = store.file_checksum(folder / name)
    manifest["checksum"] = manifest_checksum(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexCorruptError, match="not uint8|code ranges of the wrong shape"):
        store.load(folder)
    catalog.forget_cached()


def test_a_damaged_clustering_means_a_rebuild(small_flat_limit, tiny_corpus, fake_settings, fake_embedder) -> None:
    ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    folder = build_of(tiny_corpus, fake_settings)
    groups = np.load(folder / "sentences.groups.npy")
    np.save(folder / "sentences.groups.npy", groups + 1000)
    forget_cached()
    with pytest.warns(IndexWarning, match="damaged"):
        again = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    assert again.stored.sentence_lists.problem(len(again.sentences), fake_embedder.dimension) is None


def test_groups_outside_the_centroids_are_refused_even_when_resealed(
    small_flat_limit, tiny_corpus, fake_settings, fake_embedder
) -> None:
    ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    folder = build_of(tiny_corpus, fake_settings)
    groups = np.load(folder / "sentences.groups.npy")
    np.save(folder / "sentences.groups.npy", groups + 1000)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["checksums"]["sentences.groups.npy"] = store.file_checksum(folder / "sentences.groups.npy")
    manifest["checksum"] = manifest_checksum(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexCorruptError, match="groups outside the centroids"):
        store.load(folder)
    catalog.forget_cached()


def _updated_table(current: np.ndarray, rng: np.random.Generator, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`current` with a block of 40 rows removed and 30 new rows inserted somewhere: the new
    table, and each of its rows' row in `current` (-1: new)."""
    drop_at = int(rng.integers(0, len(current) - 40))
    kept_old = np.r_[0:drop_at, drop_at + 40 : len(current)]
    insert_at = int(rng.integers(0, len(kept_old)))
    kept = np.concatenate([kept_old[:insert_at], np.full(30, -1), kept_old[insert_at:]])
    table = np.concatenate([current[kept_old[:insert_at]], clustered(30, seed=seed), current[kept_old[insert_at:]]])
    return table, kept


def test_an_updated_search_finds_what_a_search_filed_afresh_finds(monkeypatch) -> None:
    monkeypatch.setattr(ivf, "FLAT_MAX_VECTORS", 100)
    monkeypatch.setattr(ivf, "REFILE_SHARE", 1.0)
    table = clustered(3000)
    lists = ivf.coarse_lists(table)
    search = first = ivf.IvfSearch.filed(table, lists)
    rng = np.random.default_rng(5)
    queries = clustered(40, seed=99)
    for step in range(4):
        table, kept = _updated_table(table, rng, seed=10 + step)
        lists = ivf.coarse_lists(table, lists, kept)
        search = search.updated(table, lists, kept)
        assert search.base is first.base  # carried over, not filed again
        fresh = ivf.IvfSearch.filed(table, lists)
        assert search.ntotal == fresh.ntotal == len(table)
        scores, rows = search.search(queries, 10)
        fresh_scores, fresh_rows = fresh.search(queries, 10)
        assert np.array_equal(rows, fresh_rows)
        np.testing.assert_allclose(scores, fresh_scores, rtol=1e-6)
        assert np.allclose(scores[:, 0], np.einsum("ij,ij->i", table[rows[:, 0]], queries), atol=1e-5)


def test_an_update_past_the_refile_share_or_with_new_centroids_files_the_table_afresh(monkeypatch) -> None:
    monkeypatch.setattr(ivf, "FLAT_MAX_VECTORS", 100)
    table = clustered(600)
    lists = ivf.coarse_lists(table)
    search = ivf.IvfSearch.filed(table, lists)
    small, kept = _updated_table(table, np.random.default_rng(1), seed=3)  # 70 rows of 600 changed: past 10%
    again = search.updated(small, ivf.coarse_lists(small, lists, kept), kept)
    assert again.base is not search.base and again.delta is None and again.ntotal == len(small)
    relearned = ivf.learned_lists(np.concatenate([table, clustered(20, seed=8)]))
    kept = np.concatenate([np.arange(600), np.full(20, -1)])
    assert search.updated(np.concatenate([table, clustered(20, seed=8)]), relearned, kept).base is not search.base


def test_an_updated_index_answers_as_its_build_read_back_does(
    small_flat_limit, tiny_corpus, fake_settings, fake_embedder, monkeypatch
) -> None:
    from qa.api import answer_with_index

    monkeypatch.setattr(ivf, "REFILE_SHARE", 1.0)
    questions = ["Who cut the ribbon?", "When did the storm close the port?", "How many visitors came?"]
    before = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    vectors = fake_embedder.encode(questions)
    found_before = [nearest_sentences(before, v, len(before.sentences)) for v in vectors]
    (tiny_corpus / "late.txt").write_text(
        "Late Report\n\nThe harbour reopened on Friday. Ferries ran again to the islands.", encoding="utf-8"
    )
    during = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    carried, earlier = during.tables["sentences"].vectors_index, before.tables["sentences"].vectors_index
    assert carried.base is earlier.base and carried.delta is not None
    # the kept vectors are read where the last build holds them, not copied
    assert isinstance(during.sentence_vectors, StackedRows)
    assert any(array is before.sentence_vectors for array, _, _ in during.sentence_vectors.pieces)
    # the index in use before the update (a question may still be reading it) is left as it was
    for vector, (rows, scores) in zip(vectors, found_before):
        again = nearest_sentences(before, vector, len(before.sentences))
        assert np.array_equal(again[0], rows) and np.array_equal(again[1], scores)
    forget_cached()
    read_back = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    assert read_back is not during and read_back.tables["sentences"].vectors_index.delta is None
    for question in questions + ["When did the harbour reopen?"]:
        vector = fake_embedder.encode([question])[0]
        every = len(during.sentences)  # all of them: which of several equal scores make a cut is FAISS's choice
        assert np.array_equal(nearest_sentences(during, vector, every)[0], nearest_sentences(read_back, vector, every)[0])
        assert answer_with_index(during, question, fake_settings, embedder=fake_embedder) == answer_with_index(
            read_back, question, fake_settings, embedder=fake_embedder
        )


def test_a_search_among_kept_rows_finds_only_them_and_what_exact_search_among_them_finds(monkeypatch) -> None:
    from qa.retrieve.dense import DenseSearcher

    monkeypatch.setattr("qa.retrieve.dense.EXACT_AMONG_MAX", 100)  # this view keeps more: the file is searched
    vectors = clustered(20000)
    search = ivf.IvfSearch.filed(vectors, ivf.learned_lists(vectors))
    keep = np.random.default_rng(3).random(20000) < 0.7
    view = DenseSearcher(search, vectors, keep)
    among = np.flatnonzero(keep)
    found = []
    for query in clustered(40, seed=4):
        hits = view.search(Query("", (), query), 10)
        assert keep[hits.rows].all() and len(hits.rows) == 10
        assert np.allclose(hits.scores, vectors[hits.rows] @ query, atol=1e-6)
        exact = among[np.argsort(-(vectors[among] @ query), kind="stable")[:10]]
        found.append(len(set(exact.tolist()) & set(hits.rows.tolist())) / 10)
    assert np.mean(found) >= 0.95


def resident_kb(folder: Path, prefix: str) -> int:
    """KB of this process's mappings of the build's files named `prefix`... that are resident."""
    resident, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        fields = line.split()
        if "-" in fields[0] and len(fields) >= 5:  # a mapping's header: address range, ..., path
            inside = len(fields) >= 6 and fields[5].startswith(str(folder / prefix))
        elif inside and fields[0] == "Rss:":
            resident += int(fields[1])
    return resident


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="reads Linux's /proc/self/smaps")
def test_a_question_hands_back_the_pages_of_the_vector_tables_it_read(
    small_flat_limit, tiny_corpus, fake_settings, fake_embedder
) -> None:
    from qa.api import answer_with_index

    ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    forget_cached()
    index = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)  # read back: tables memory-mapped
    folder = build_of(tiny_corpus, fake_settings)
    assert isinstance(index.sentence_vectors, np.memmap)  # (the few chunks are held by an exact index)
    np.array(index.sentence_vectors)  # every row read (copied)
    assert resident_kb(folder, "sentences-") > 0
    answer = answer_with_index(index, "When did the Harbour Bridge reopen?", fake_settings, embedder=fake_embedder)
    assert answer.citations  # it did read the tables
    assert resident_kb(folder, "sentences-") == 0


def test_a_memory_mapped_table_is_assigned_by_blocks_with_the_same_groups(tmp_path) -> None:
    from qa.indexing.ivf import learned_lists, nearest_centroid
    from qa.indexing.rows import MAPPED_BLOCK

    rng = np.random.default_rng(3)
    rows = 2 * MAPPED_BLOCK + 4097 + 7  # three blocks, the last with a short tail
    table = np.lib.format.open_memmap(tmp_path / "t.npy", mode="w+", dtype=np.float32, shape=(rows, 8))
    table[:] = rng.standard_normal((rows, 8)).astype(np.float32)
    centroids = rng.standard_normal((50, 8)).astype(np.float32)
    assert np.array_equal(nearest_centroid(centroids, table), nearest_centroid(centroids, np.array(table)))
    learned, held = learned_lists(table), learned_lists(np.array(table))  # its sample read a block at a time
    assert np.array_equal(learned.centroids, held.centroids) and np.array_equal(learned.groups, held.groups)


def test_a_memory_mapped_table_is_saved_as_the_bytes_numpy_writes(tmp_path) -> None:
    from qa.indexing.rows import MAPPED_BLOCK
    from qa.indexing.durable import write_array as _write_array

    rows = MAPPED_BLOCK + 13
    table = np.lib.format.open_memmap(tmp_path / "t.npy", mode="w+", dtype=np.float32, shape=(rows, 4))
    table[:] = np.arange(rows * 4, dtype=np.float32).reshape(rows, 4)
    _write_array(tmp_path / "mapped.npy", table)
    np.save(tmp_path / "plain.npy", np.array(table))
    assert (tmp_path / "mapped.npy").read_bytes() == (tmp_path / "plain.npy").read_bytes()
    # so is any other array it saves: in memory, one-dimensional (groups), empty, a transposed view
    for k, array in enumerate([np.array(table), np.arange(9, dtype=np.int64), np.zeros((0, 4), np.float32), np.array(table).T]):
        _write_array(tmp_path / f"{k}.npy", array)
        np.save(tmp_path / f"{k}-plain.npy", np.ascontiguousarray(array))
        assert (tmp_path / f"{k}.npy").read_bytes() == (tmp_path / f"{k}-plain.npy").read_bytes()
