"""Every index file is checked before it is trusted; any damage means a rebuild, never a crash."""

from __future__ import annotations

import json
import os
import threading
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.errors import IndexCorruptError
from qa.indexing import durable, folder
from qa.indexing.manifest import manifest_checksum, manifest_problem, read_manifest
from qa.indexing.catalog import IndexWarning, ensure_index, forget_cached, index_home

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)


def home_of(corpus: Path, settings_) -> Path:
    return index_home(corpus, settings_)


def current_build(corpus: Path, settings_) -> Path:
    home = home_of(corpus, settings_)
    return home / (home / "CURRENT").read_text().strip()


def rewrite_manifest(build: Path, change, *, reseal: bool = True) -> None:
    """Change the manifest as a careless tool would; `reseal` recomputes its own checksum."""
    manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    change(manifest)
    if reseal:
        manifest["checksum"] = manifest_checksum(manifest)
    (build / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def leftovers(home: Path) -> list[str]:
    return sorted(p.name for p in home.iterdir() if p.name.endswith((".tmp", ".partial")))


def rebuilt_after(damage, corpus: Path, settings_, embedder, match: str = "damaged") -> None:
    first = ensure_index(corpus, settings_, embedder=embedder)
    damage(home_of(corpus, settings_))
    forget_cached()
    with pytest.warns(IndexWarning, match=match):
        again = ensure_index(corpus, settings_, embedder=embedder)
    assert set(again.articles) == set(first.articles)
    forget_cached()
    with warnings.catch_warnings():
        warnings.simplefilter("error", IndexWarning)  # the new build is whole: no second rebuild
        ensure_index(corpus, settings_, embedder=embedder)
    assert leftovers(home_of(corpus, settings_)) == []


@pytest.mark.parametrize(
    "pointer",
    [b"\xff\xfe\x80not utf-8\n", b"build-" + b"a" * 5000, b"", b"build-XYZ\n", b"build-0123456789ab\n", b"\x00" * 8],
    ids=["not-utf8", "huge", "empty", "bad-name", "no-such-build", "nul"],
)
def test_a_malformed_current_means_a_rebuild(tiny_corpus, fake_settings, fake_embedder, pointer: bytes) -> None:
    rebuilt_after(lambda home: (home / "CURRENT").write_bytes(pointer), tiny_corpus, fake_settings, fake_embedder)


def test_current_replaced_by_a_folder_is_replaced_back(tiny_corpus, fake_settings, fake_embedder) -> None:
    def folder_instead(home: Path) -> None:
        (home / "CURRENT").unlink()
        (home / "CURRENT").mkdir()
        (home / "CURRENT" / "junk").write_text("x")

    rebuilt_after(folder_instead, tiny_corpus, fake_settings, fake_embedder)
    assert (home_of(tiny_corpus, fake_settings) / "CURRENT").is_file()


def test_current_as_a_link_elsewhere_is_not_followed(tiny_corpus, fake_settings, fake_embedder, tmp_path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("build-0123456789ab\n")

    def link(home: Path) -> None:
        (home / "CURRENT").unlink()
        (home / "CURRENT").symlink_to(elsewhere)

    rebuilt_after(link, tiny_corpus, fake_settings, fake_embedder)
    assert elsewhere.read_text() == "build-0123456789ab\n"  # replaced the link, not what it pointed at


@pytest.mark.parametrize(
    ("change", "reseal", "match"),
    [
        (lambda m: m.__setitem__("filez", m.pop("files")), True, "malformed"),
        (lambda m: m.__setitem__("files", list(m["files"])), True, "malformed"),
        (lambda m: m["files"]["storm.txt"].pop("size"), True, "malformed"),
        (lambda m: m.__setitem__("dimension", "64"), True, "malformed"),
        (lambda m: m.__setitem__("settings", []), True, "malformed"),
        (lambda m: m["checksums"].pop(next(iter(m["vectors"]["files"]))), True, "malformed"),
        (lambda m: m["vectors"]["sentences"][0].__setitem__(2, 10**6), True, "malformed"),
        (lambda m: m["vectors"]["files"].__setitem__("../sentences-0123456789ab.npy", 1), True, "malformed"),
        (lambda m: m["files"]["storm.txt"].__setitem__("size", 1), False, "own checksum"),
        (lambda m: m.pop("checksum"), False, "own checksum"),
    ],
    ids=["renamed-key", "files-list", "record-key", "dimension-text", "settings-list", "checksum-gone",
         "run-outside-segment", "segment-elsewhere",
         "unsealed-edit", "no-checksum"],
)
def test_a_manifest_that_still_parses_is_checked(tiny_corpus, fake_settings, fake_embedder, change, reseal, match) -> None:
    def damage(home: Path) -> None:
        build = home / (home / "CURRENT").read_text().strip()
        rewrite_manifest(build, change, reseal=reseal)

    rebuilt_after(damage, tiny_corpus, fake_settings, fake_embedder, match=match)


def test_the_manifest_carries_its_own_checksum(tiny_corpus, fake_settings, fake_embedder) -> None:
    first = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    build = current_build(tiny_corpus, fake_settings)
    manifest = read_manifest(build)
    assert manifest["checksum"] == manifest_checksum(manifest)
    assert all("ctime_ns" in record for record in manifest["files"].values())
    # The checksum is over the content, not the layout: the same JSON written compactly still loads.
    (build / "manifest.json").write_text(json.dumps(manifest, separators=(",", ":")), encoding="utf-8")
    forget_cached()
    with warnings.catch_warnings():
        warnings.simplefilter("error", IndexWarning)
        again = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    assert again is not first and [s.id for s in again.sentences] == [s.id for s in first.sentences]


@settings(max_examples=150, deadline=None)
@given(JSON)
def test_any_json_manifest_is_either_valid_or_refused(tmp_path_factory, value) -> None:
    folder = tmp_path_factory.mktemp("manifest")
    for seal in (False, True):
        if seal and isinstance(value, dict):
            try:
                value = {**value, "checksum": manifest_checksum(value)}
            except ValueError:
                pass
        (folder / "manifest.json").write_text(json.dumps(value), encoding="utf-8")
        try:
            manifest = read_manifest(folder)
        except IndexCorruptError:
            continue
        assert manifest_problem(manifest) is None  # only a wholly valid manifest gets through


@pytest.fixture(scope="module")
def built_manifest(tmp_path_factory) -> dict:
    from conftest import ARTICLES, FakeEmbedder
    from qa.config import Settings

    corpus = tmp_path_factory.mktemp("corpus")
    for name, text in ARTICLES.items():
        (corpus / name).write_text(text, encoding="utf-8")
    settings_ = Settings(model="fake", index_dir=tmp_path_factory.mktemp("index"), annotator="rules")
    ensure_index(corpus, settings_, embedder=FakeEmbedder())
    return read_manifest(current_build(corpus, settings_))


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):  # into lists too: a run of a vector table is [file, start, stop]
        for position, child in enumerate(value):
            yield from _paths(child, (*prefix, position))


@pytest.mark.parametrize(
    "where, value",
    [
        (("vectors", "chunks"), [[[], None, None]]),  # once a TypeError (unhashable list), not a refusal
        (("vectors", "sentences", 0, 0), ["segment"]),
        (("vectors", "chunks", 0, 1), True),  # a bool is not a row number
    ],
)
def test_a_resealed_manifest_with_a_malformed_vector_run_is_refused(built_manifest, tmp_path, where, value) -> None:
    manifest = json.loads(json.dumps(built_manifest))
    parent = manifest
    for key in where[:-1]:
        parent = parent[key]
    parent[where[-1]] = value
    manifest["checksum"] = manifest_checksum(manifest)
    (tmp_path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="vectors"):
        read_manifest(tmp_path)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_a_resealed_mutation_of_a_real_manifest_is_valid_or_refused(built_manifest, tmp_path_factory, data) -> None:
    manifest = json.loads(json.dumps(built_manifest))
    paths = [p for p in _paths(manifest) if p and p != ("checksum",)]
    path = data.draw(st.sampled_from(paths))
    parent = manifest
    for key in path[:-1]:
        parent = parent[key]
    if data.draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(JSON)
    try:
        manifest["checksum"] = manifest_checksum(manifest)
    except ValueError:
        pass
    folder = tmp_path_factory.mktemp("mutated")
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    try:
        loaded = read_manifest(folder)
    except IndexCorruptError:
        return
    assert manifest_problem(loaded) is None


def test_qa_index_force_recovers_from_anything(tiny_corpus, fake_settings, fake_embedder) -> None:
    ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    home = home_of(tiny_corpus, fake_settings)
    build = current_build(tiny_corpus, fake_settings)
    (build / "manifest.json").write_text('{"format_version": 3, "checksums": {}, "files": []}')
    (home / "CURRENT").write_bytes(b"\xff\xfe")
    (home / ".CURRENT.123.deadbeef.tmp").write_text("left by a crash")
    (home / ".build-0123456789ab.partial").mkdir()
    (home / ".lock").unlink()
    (home / ".lock").mkdir()
    forget_cached()
    with pytest.warns(IndexWarning):
        index = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder, force=True)
    assert set(index.articles) == {"harbour", "festival", "storm"}
    assert leftovers(home) == []
    assert [p.name for p in home.iterdir() if p.name.startswith("build-")] == [current_build(tiny_corpus, fake_settings).name]


def test_a_forced_build_embeds_everything_again(tiny_corpus, fake_settings, fake_embedder) -> None:
    """A forced build takes nothing over from the last one, so a true build time is measured
    and a bad build cannot pass anything on."""
    first = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    embedded = fake_embedder.texts_seen
    ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    assert fake_embedder.texts_seen == embedded  # current: nothing to do
    forced = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder, force=True)
    assert fake_embedder.texts_seen - embedded == len(first.sentences) == len(forced.sentences)


def test_an_index_home_that_is_a_file_is_replaced(tiny_corpus, fake_settings, fake_embedder) -> None:
    home = home_of(tiny_corpus, fake_settings)
    home.parent.mkdir(parents=True)
    home.write_text("not a folder")
    with pytest.warns(IndexWarning, match="not an index folder"):
        index = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    assert set(index.articles) == {"harbour", "festival", "storm"} and home.is_dir()


def test_write_atomic_leaves_no_temporary_file_when_it_fails(tmp_path: Path) -> None:
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / "inside").write_text("x")
    with pytest.raises(OSError):
        durable.write_atomic(tmp_path / "target", b"data")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["target"]


def test_same_size_edit_with_the_mtime_put_back_is_noticed(tiny_corpus, fake_settings, fake_embedder) -> None:
    first = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    path = tiny_corpus / "storm.txt"
    before = path.stat()
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("Tuesday", "Thursda"), encoding="utf-8")  # same size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size and path.stat().st_mtime_ns == before.st_mtime_ns
    second = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    assert second is not first and "Thursda" in second.articles["storm"].text


def test_a_reader_never_sees_a_false_alarm_while_builds_are_swapped(tiny_corpus, fake_settings, fake_embedder) -> None:
    ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    home = home_of(tiny_corpus, fake_settings)
    stop = threading.Event()
    loaded: list[bool] = []

    def read_again_and_again() -> None:
        while not stop.is_set():
            loaded.append(folder.load_current(home) is not None)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reader = threading.Thread(target=read_again_and_again)
        reader.start()
        try:
            for round_ in range(12):
                (tiny_corpus / "extra.txt").write_text(f"A ferry sailed {round_} times on Friday.", encoding="utf-8")
                ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
        finally:
            stop.set()
            reader.join(timeout=60)
    assert loaded and all(loaded)
    assert [str(w.message) for w in caught if issubclass(w.category, IndexWarning)] == []


def test_current_naming_a_build_removed_meanwhile_is_read_again_not_called_damage(
    tiny_corpus, fake_settings, fake_embedder, monkeypatch
) -> None:
    # What made the test above fail at random on a busy machine: CURRENT read, then a build
    # swapped in and the named one removed before its folder was checked, on the first try
    ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    home = home_of(tiny_corpus, fake_settings)
    read_pointer = folder._read_pointer
    calls: list[Path] = []

    def swapped_meanwhile(where: Path) -> str | None:
        calls.append(where)
        if len(calls) == 1:
            pointer = where / folder.POINTER
            pointer.write_bytes(pointer.read_bytes().strip())  # another build's swap rewrote CURRENT
            raise IndexCorruptError(f"{pointer} names build-000000000000, which is not a build folder")
        return read_pointer(where)

    monkeypatch.setattr(folder, "_read_pointer", swapped_meanwhile)
    with warnings.catch_warnings():
        warnings.simplefilter("error", IndexWarning)
        entry = folder.load_current(home)
    assert entry is not None and len(calls) == 2


@pytest.mark.slow
def test_qa_index_force_and_qa_ask_recover_from_a_current_of_garbage(tiny_corpus, tmp_path) -> None:
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "QA_INDEX_DIR": str(tmp_path / "i"), "HF_HUB_OFFLINE": "1"}

    def qa(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "qa.cli", *args], cwd=repo, env=env,
                              capture_output=True, text=True, timeout=600)

    assert qa("index", str(tiny_corpus)).returncode == 0
    (homes,) = list((tmp_path / "i").iterdir())
    for garbage in (b"\xff\xfe\x81 not utf-8", None):
        pointer = homes / "CURRENT"
        pointer.unlink()
        if garbage is None:
            pointer.mkdir()
        else:
            pointer.write_bytes(garbage)
        asked = qa("ask", "Who cut the ribbon?", "--corpus", str(tiny_corpus))
        assert asked.returncode == 0 and "warning: the index in" in asked.stderr, asked.stderr
        assert "Traceback" not in asked.stderr
    (homes / "CURRENT").write_bytes(b"\x00\xff")
    forced = qa("index", str(tiny_corpus), "--force")
    assert forced.returncode == 0 and "indexed 3 articles" in forced.stdout, forced.stderr
    assert leftovers(homes) == [] and (homes / "CURRENT").is_file()
