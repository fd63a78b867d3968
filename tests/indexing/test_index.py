"""Index build, save, load and refresh, with a deterministic fake embedder."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from qa.indexing import store
from qa.api import answer_with_index
from qa.config import Settings
from qa.indexing.catalog import IndexWarning, ensure_index, forget_cached, index_home

QUESTIONS = [
    "When did the Harbour Bridge reopen?",
    "How many visitors attended the lantern festival?",
    "Why were residents evacuated?",
]


def answers(index, settings, embedder):
    return [answer_with_index(index, q, settings, embedder=embedder) for q in QUESTIONS]


def current_build(settings: Settings, corpus: Path) -> Path:
    home = index_home(corpus, settings)
    return home / (home / "CURRENT").read_text().strip()


def test_round_trip_gives_identical_answers(tiny_corpus, fake_settings, fake_embedder) -> None:
    built = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    before = answers(built, fake_settings, fake_embedder)
    forget_cached()
    loaded = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    assert loaded is not built
    assert [s.id for s in loaded.sentences] == [s.id for s in built.sentences]
    assert (loaded.stored.chunk_vectors == built.stored.chunk_vectors).all()
    after = answers(loaded, fake_settings, fake_embedder)
    assert [(a.text, a.citations, a.confidence) for a in after] == [(a.text, a.citations, a.confidence) for a in before]


def test_index_folder_is_documented_and_pickle_free(tiny_corpus, fake_settings, fake_embedder) -> None:
    ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    build = current_build(fake_settings, tiny_corpus)
    manifest = json.loads((build / "manifest.json").read_text())
    segments = sorted([*manifest["vectors"]["files"], *manifest["article_files"]["files"]])
    assert [name.split("-")[0] for name in segments] == ["articles", "chunks", "sentences"]  # a fresh build: one segment each
    assert sorted(p.name for p in build.iterdir()) == sorted([store.MANIFEST, *store.DATA_FILES, *segments])
    assert manifest["format_version"] == store.FORMAT_VERSION
    assert manifest["model"] == "fake" and manifest["dimension"] == 64
    assert manifest["settings"] == fake_settings.index_shape()
    assert set(manifest["files"]) == {"festival.md", "harbour.txt", "storm.txt"}
    assert all(len(f["sha256"]) == 64 for f in manifest["files"].values())
    for path in build.iterdir():
        assert not path.read_bytes().startswith(b"\x80")  # no pickle protocol header anywhere


def test_citation_offsets_match_the_article(tiny_corpus, fake_settings, fake_embedder) -> None:
    index = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    for answer in answers(index, fake_settings, fake_embedder):
        assert answer.citations
        for c in answer.citations:
            assert index.articles[c.doc_id].text[c.start : c.end] == c.quote
            for source in c.also_in:
                assert index.articles[source.doc_id].text[source.start : source.end]


@pytest.mark.parametrize("change", ["add", "edit", "remove"])
def test_changes_to_the_corpus_are_noticed(tiny_corpus, fake_settings, fake_embedder, change) -> None:
    first = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    assert ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder) is first  # nothing changed
    if change == "add":
        (tiny_corpus / "new.txt").write_text("A new museum opened in Riverton on Friday.", encoding="utf-8")
    elif change == "edit":
        (tiny_corpus / "storm.txt").write_text("The storm passed without damage on Tuesday.", encoding="utf-8")
    else:
        (tiny_corpus / "festival.md").unlink()
    second = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    assert second is not first
    docs = set(second.articles)
    assert ("new" in docs) == (change == "add")
    assert ("festival" in docs) == (change != "remove")
    if change == "edit":
        assert "without damage" in second.articles["storm"].text


def test_touched_but_unchanged_file_keeps_the_index(tiny_corpus, fake_settings, fake_embedder) -> None:
    first = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    path = tiny_corpus / "storm.txt"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 5_000_000_000))
    assert ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder) is first


def test_unchanged_articles_are_not_embedded_again(tiny_corpus, fake_settings, fake_embedder) -> None:
    ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    first_texts = fake_embedder.texts_seen
    (tiny_corpus / "new.txt").write_text("A museum opened on Friday. It has two floors.", encoding="utf-8")
    ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    # Only the new article's 2 sentences are embedded (its chunk's vector is pooled from them).
    assert fake_embedder.texts_seen - first_texts == 2


def as_format_8(build: Path) -> None:
    """Rewrite a build as format 8 wrote it: its article segments as JSON lines, a row per article."""
    import numpy as np

    from qa.files import file_checksum
    from qa.indexing.article_rows import table_of_arrays
    from qa.indexing.manifest import manifest_checksum

    manifest = json.loads((build / store.MANIFEST).read_bytes())
    layout = manifest["article_files"]
    renamed = {name: name.replace(".npz", ".jsonl") for name in layout["files"]}
    for name, new in renamed.items():
        with np.load(build / name) as stored:
            table = table_of_arrays({key: stored[key] for key in stored.files}, ("text_key",))
        keys = table.extra("text_key")
        rows = []
        for article, key in zip(table, keys):
            row = {"doc_id": article.doc_id, "title": article.title, "path": article.path, "sha256": article.sha256, "text": article.text}
            row.update({f: getattr(article, f) for f in ("outlet", "url", "author", "published") if getattr(article, f)})
            rows.append({**row, "text_key": key} if key else row)
        (build / new).write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
        (build / name).unlink()
        del manifest["checksums"][name]
        manifest["checksums"][new] = file_checksum(build / new)
    layout["files"] = {renamed[name]: count for name, count in layout["files"].items()}
    layout["articles"] = [[renamed[name], a, b] for name, a, b in layout["articles"]]
    manifest["format_version"] = 8
    manifest["checksum"] = manifest_checksum(manifest)
    (build / store.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def as_format_7(build: Path) -> None:
    """Rewrite a build as format 7 wrote it: every article in one articles.jsonl."""
    from qa.files import file_checksum
    from qa.indexing.manifest import manifest_checksum

    as_format_8(build)
    manifest = json.loads((build / store.MANIFEST).read_bytes())
    layout = manifest.pop("article_files")
    lines = {name: (build / name).read_bytes().splitlines(keepends=True) for name in layout["files"]}
    (build / "articles.jsonl").write_bytes(b"".join(line for name, a, b in layout["articles"] for line in lines[name][a:b]))
    for name in layout["files"]:
        (build / name).unlink()
        del manifest["checksums"][name]
    manifest["checksums"]["articles.jsonl"] = file_checksum(build / "articles.jsonl")
    manifest["format_version"] = 7
    manifest["checksum"] = manifest_checksum(manifest)
    (build / store.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def as_format_6(build: Path) -> None:
    """Rewrite a build as the format before 7 wrote it: every column in the JSON files, SHA-256 checksums."""
    from qa.indexing.columns import columns_json
    from qa.indexing.manifest import manifest_checksum

    as_format_7(build)
    manifest = json.loads((build / store.MANIFEST).read_bytes())
    for table in ("sentences", "chunks"):
        columns = store.read_columns(build, table)
        (build / f"{table}.npz").unlink()
        (build / f"{table}.json").write_bytes(columns_json(columns))
        del manifest["checksums"][f"{table}.npz"]
    manifest["checksums"] = {name: store.sha256_file(build / name) for name in manifest["checksums"]}
    manifest["format_version"] = 6
    manifest["checksum"] = manifest_checksum(manifest)
    (build / store.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


@pytest.mark.parametrize("earlier", [as_format_6, as_format_7, as_format_8], ids=["format-6", "format-7", "format-8"])
def test_a_build_of_a_format_before_loads_and_is_written_again_without_embedding(
    tiny_corpus, fake_settings, fake_embedder, earlier
) -> None:
    expected = answers(ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder), fake_settings, fake_embedder)
    old = current_build(fake_settings, tiny_corpus)
    earlier(old)
    assert answers(store_index(old), fake_settings, fake_embedder) == expected
    forget_cached()
    embedded = fake_embedder.texts_seen
    upgraded = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    assert fake_embedder.texts_seen == embedded  # every vector taken over from the old build
    assert current_build(fake_settings, tiny_corpus) != old and upgraded.manifest["format_version"] == store.FORMAT_VERSION
    assert all(c.startswith("xxh3-128:") for c in upgraded.manifest["checksums"].values())  # linked segments too
    assert answers(upgraded, fake_settings, fake_embedder) == expected


def test_an_index_keeps_the_acronyms_of_each_article_and_finds_them_again_when_their_code_changed(
    tiny_corpus, fake_settings, fake_embedder, monkeypatch
) -> None:
    from qa.ingest import aliases

    (tiny_corpus / "who.txt").write_text(
        "The World Health Organization (WHO) met on Monday. The WHO said cases fell.", encoding="utf-8"
    )
    built = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    scanned = aliases.find_aliases(a.text for a in built.stored.articles)
    assert scanned[("who",)] == ("world", "health", "organization")
    assert built.aliases == scanned
    build = current_build(fake_settings, tiny_corpus)
    loaded = store.load(build)
    assert loaded.article_aliases is not None and store_index(build).aliases == scanned
    monkeypatch.setattr(store, "aliases_code", lambda: "other code")  # as if aliases.py had changed since
    assert store.load(build).article_aliases is None  # found again by scanning the articles
    assert store_index(build).aliases == scanned


def store_index(build: Path):
    from qa.indexing.memory import SearchIndex

    return SearchIndex(store.load(build))


def test_an_edited_article_embeds_only_its_new_sentences(tiny_corpus, fake_settings, fake_embedder) -> None:
    first = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    before = {s.id: first.sentence_vectors[i] for i, s in enumerate(first.sentences)}
    embedded = fake_embedder.texts_seen
    path = tiny_corpus / "storm.txt"
    path.write_text(path.read_text(encoding="utf-8").rstrip() + " Crews cleared the roads by Sunday.\n", encoding="utf-8")
    after = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    kept = [i for i, s in enumerate(after.sentences) if s.id in before]
    assert fake_embedder.texts_seen - embedded == len(after.sentences) - len(kept) == 1
    assert all((np.asarray(after.sentence_vectors[i]) == before[after.sentences[i].id]).all() for i in kept)


def test_other_settings_rebuild(tiny_corpus, fake_settings, fake_embedder) -> None:
    first = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    wider = fake_settings.with_(chunk_sentences=5)
    second = ensure_index(tiny_corpus, wider, embedder=fake_embedder)
    assert second is not first and second.manifest["settings"]["chunk_sentences"] == 5


def damage_vectors(build: Path) -> None:
    path = next(build.glob("chunks-*.npy"))
    path.write_bytes(path.read_bytes()[:40])


def damage_manifest(build: Path) -> None:
    (build / "manifest.json").write_text("{not json", encoding="utf-8")


def damage_records(build: Path) -> None:
    with open(build / "sentences.json", "a", encoding="utf-8") as handle:
        handle.write('{"id": "x"}\n')


def damage_articles_resealed(build: Path) -> None:
    """An article segment missing a column, its checksum made to match (as a careless tool would)."""
    from qa.files import file_checksum
    from qa.indexing.manifest import manifest_checksum

    path = next(build.glob("articles-*.npz"))
    with np.load(path) as stored:
        arrays = {name: stored[name] for name in stored.files if name != "title.ends"}
    np.savez(path, **arrays)
    manifest = json.loads((build / store.MANIFEST).read_bytes())
    manifest["checksums"][path.name] = file_checksum(path)
    manifest["checksum"] = manifest_checksum(manifest)
    (build / store.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def damage_pointer(build: Path) -> None:
    (build.parent / "CURRENT").write_text("../../etc\n", encoding="utf-8")


@pytest.mark.parametrize("damage", [damage_vectors, damage_manifest, damage_records, damage_articles_resealed, damage_pointer])
def test_damaged_index_is_rebuilt_with_a_warning(tiny_corpus, fake_settings, fake_embedder, damage) -> None:
    ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    expected = answers(ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder), fake_settings, fake_embedder)
    damage(current_build(fake_settings, tiny_corpus))
    forget_cached()
    with pytest.warns(IndexWarning, match="damaged"):
        rebuilt = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    assert [a.text for a in answers(rebuilt, fake_settings, fake_embedder)] == [a.text for a in expected]
    forget_cached()
    store.load(current_build(fake_settings, tiny_corpus))  # the new build on disk is whole


class ExplodingEmbedder:
    """Fails part-way through embedding, as a killed or crashed build would."""

    name = "fake"
    dimension = 64

    def __init__(self, inner) -> None:
        self.inner = inner
        self.left = 0  # the first call embeds the new sentences: the build dies mid-way

    def encode(self, texts):
        if self.left == 0:
            raise KeyboardInterrupt("build interrupted")
        self.left -= 1
        return self.inner.encode(texts)


def test_interrupted_build_keeps_the_last_good_index(tiny_corpus, fake_settings, fake_embedder) -> None:
    ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    good = current_build(fake_settings, tiny_corpus)
    (tiny_corpus / "new.txt").write_text("A museum opened on Friday.", encoding="utf-8")
    forget_cached()
    with pytest.raises(KeyboardInterrupt):
        ensure_index(tiny_corpus, fake_settings, embedder=ExplodingEmbedder(fake_embedder))
    assert current_build(fake_settings, tiny_corpus) == good
    survivor = store.load(good)
    assert "new" not in {a.doc_id for a in survivor.articles}
    assert not [p for p in good.parent.iterdir() if p.name.endswith(".partial")]
    recovered = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    assert "new" in recovered.articles


def test_crash_while_saving_keeps_the_last_good_index(tiny_corpus, fake_settings, fake_embedder, monkeypatch) -> None:
    ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    good = current_build(fake_settings, tiny_corpus)
    (tiny_corpus / "new.txt").write_text("A museum opened on Friday.", encoding="utf-8")
    forget_cached()

    def disk_full(path, array):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "write_array", disk_full)
    with pytest.raises(OSError, match="No space"):
        ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    assert current_build(fake_settings, tiny_corpus) == good
    assert store.load(good).manifest["files"].keys() == {"festival.md", "harbour.txt", "storm.txt"}


def test_an_update_reads_again_only_the_files_whose_size_or_times_changed(
    tiny_corpus, fake_settings, fake_embedder
) -> None:
    from qa.indexing.folder import unchanged_articles
    from qa.ingest.files import scan

    index = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    (tiny_corpus / "storm.txt").write_text("The storm passed without damage on Tuesday.", encoding="utf-8")
    kept = unchanged_articles(tiny_corpus, scan(tiny_corpus), index.stored)
    assert sorted(a.doc_id for a in kept.values()) == sorted(d for d in index.articles if d != "storm")
    assert all(kept[a.path] is a for a in kept.values())
    updated = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    assert "without damage" in updated.articles["storm"].text
    assert answers(updated, fake_settings, fake_embedder)  # and the rest still answers


def test_the_first_update_of_a_new_process_hashes_only_the_new_articles_text(tiny_corpus, fake_settings, fake_embedder, monkeypatch) -> None:
    # each article's text key (what tells repeated texts apart) is stored with it: a new process
    # adding one article to a million sentences hashed every text again (1.8 s)
    from qa.ingest import corpus

    ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    forget_cached()
    monkeypatch.setattr(corpus, "_TEXT_KEYS", {})  # as in a new process
    hashed = []
    monkeypatch.setattr(corpus, "text_key", lambda text: hashed.append(text) or corpus.hashlib.sha256(text.encode()).hexdigest())
    (tiny_corpus / "ferry.txt").write_text("A ferry sank near Port Ellis on Friday.", encoding="utf-8")

    index = ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)

    assert hashed == ["A ferry sank near Port Ellis on Friday."] and "ferry" in index.articles
    (tiny_corpus / "zz-copy.txt").write_text("A ferry sank near Port Ellis on Friday.", encoding="utf-8")
    with pytest.warns(UserWarning, match="zz-copy.txt"):  # a repeated text is still found among the stored keys
        assert "zz-copy" not in ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder).articles


def test_a_removal_in_a_new_process_does_not_load_the_embedding_model(tiny_corpus, fake_settings, fake_embedder) -> None:
    # a removal embeds nothing: the model (about 1 s to load) is loaded only when an update embeds
    from qa.errors import ModelError

    ensure_index(tiny_corpus, fake_settings, embedder=fake_embedder)
    forget_cached()  # as in a new process; the settings name a model ("fake") that cannot be loaded
    (tiny_corpus / "storm.txt").unlink()
    removed = ensure_index(tiny_corpus, fake_settings)
    assert "storm" not in removed.articles and removed.articles
    (tiny_corpus / "ferry.txt").write_text("A ferry sank near Port Ellis on Friday.", encoding="utf-8")
    with pytest.raises(ModelError, match="fake"):  # an update with something to embed loads it
        ensure_index(tiny_corpus, fake_settings)
