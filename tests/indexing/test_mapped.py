"""NumPy archives read in place (`qa.indexing.mapped`), and a loaded index's columns read so."""

from __future__ import annotations

import mmap
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from qa.indexing import store
from qa.indexing.mapped import MappedArchive, mapped_arrays

_DTYPES = st.sampled_from([np.int8, np.uint8, np.int32, np.int64, np.uint16, np.float32, np.float64, np.bool_])


def _mapping_of(array: np.ndarray) -> mmap.mmap | None:
    base = array
    while isinstance(base, np.ndarray):
        base = base.base
    return base if isinstance(base, mmap.mmap) else None


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(
    st.from_regex(r"[a-z]{1,6}(\.[a-z]{1,6}){0,2}", fullmatch=True),
    _DTYPES.flatmap(lambda dtype: hnp.arrays(dtype, hnp.array_shapes(min_dims=1, max_dims=2, min_side=0, max_side=20))),
    min_size=1, max_size=6,
))
def test_an_archive_reads_in_place_as_np_load_reads_it(tmp_path_factory, arrays) -> None:
    path = tmp_path_factory.mktemp("npz") / "columns.npz"
    np.savez(path, **arrays)
    mapped = mapped_arrays(path)
    with np.load(path, allow_pickle=False) as loaded:
        assert sorted(mapped) == sorted(loaded.files)
        for name in loaded.files:
            expected = loaded[name]
            assert mapped[name].dtype == expected.dtype and mapped[name].shape == expected.shape
            assert np.array_equal(mapped[name], expected, equal_nan=expected.dtype.kind == "f")
            if expected.size:
                assert _mapping_of(mapped[name]) is not None and not mapped[name].flags.writeable


def test_a_compressed_member_is_read_as_np_load_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "mixed.npz"
    np.savez_compressed(path, squeezed=np.arange(1000, dtype=np.int64))
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_STORED) as archive:
        with archive.open("plain.npy", "w") as out:
            np.lib.format.write_array(out, np.arange(7, dtype=np.int32))
    arrays = MappedArchive(path).arrays
    assert np.array_equal(arrays["squeezed"], np.arange(1000)) and _mapping_of(arrays["squeezed"]) is None
    assert np.array_equal(arrays["plain"], np.arange(7)) and _mapping_of(arrays["plain"]) is not None


def test_a_member_cut_short_or_not_an_archive_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "short.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        with archive.open("cut.npy", "w") as out:
            np.lib.format.write_array(out, np.arange(100, dtype=np.int64))
    raw = path.read_bytes()
    header = np.lib.format.header_data_from_array_1_0(np.arange(50, dtype=np.int64))
    # the same member claiming 50 rows while it holds 100: its bytes do not match its array
    with zipfile.ZipFile(tmp_path / "claims.npz", "w", compression=zipfile.ZIP_STORED) as archive:
        with archive.open("cut.npy", "w") as out:
            np.lib.format.write_array_header_1_0(out, header)
            out.write(np.arange(100, dtype=np.int64).tobytes())
    with pytest.raises(ValueError, match="holds"):
        mapped_arrays(tmp_path / "claims.npz")
    (tmp_path / "junk.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="not a NumPy archive"):
        mapped_arrays(tmp_path / "junk.npz")


def test_a_loaded_index_reads_its_columns_in_place_and_keeps_them_after_its_folder_goes(
    tiny_corpus, fake_settings, fake_embedder, tmp_path: Path
) -> None:
    import shutil

    from qa.indexing.catalog import ensure_index
    from tests.indexing.test_index import current_build

    ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    copy = tmp_path / "build"
    shutil.copytree(current_build(fake_settings, tiny_corpus), copy)
    loaded = store.load(copy)
    words, chunk_words = loaded.sentence_tokens.ids, loaded.chunk_tokens.ids
    assert _mapping_of(words) is not None and _mapping_of(chunk_words) is not None
    assert not words.flags.writeable
    assert {type(loaded.articles.text_column("text").data)} == {memoryview}
    before = [(s.text, s.entities) for s in loaded.sentences]
    tokens = [tuple(t) for t in loaded.sentence_tokens]
    assert len(loaded.mappings) == 3  # sentences, chunks, the one article segment
    shutil.rmtree(copy)  # as an update removes the build it replaced while questions still read it
    for archive in loaded.mappings:
        archive.release()
    fresh = store.load(current_build(fake_settings, tiny_corpus))
    assert [(s.text, s.entities) for s in fresh.sentences] == before
    assert [tuple(t) for t in loaded.sentence_tokens] == tokens
    loaded.sentences._made = [None] * len(loaded.sentences)  # make every record again from the columns
    assert [(s.text, s.entities) for s in loaded.sentences] == before
