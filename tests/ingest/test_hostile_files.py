"""Small files that once did big damage (tests/hostile/): each is skipped with one warning naming
it, or read as the article it is, and every other article of the folder is still indexed."""

from __future__ import annotations

import resource
import shutil
import warnings
from pathlib import Path

import pytest

from qa.indexing.build import BuildWarning
from qa.indexing.catalog import ensure_index
from qa.ingest.corpus import CorpusWarning, load_corpus

HOSTILE = Path(__file__).resolve().parents[1] / "hostile"
PLAIN = "The council approved the new harbour wall on Tuesday, the mayor said.\n"


@pytest.fixture
def hostile_corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(HOSTILE, folder, ignore=shutil.ignore_patterns("README.md"))
    (folder / "plain.txt").write_text(PLAIN, encoding="utf-8")
    (folder / "loop.txt").symlink_to("loop.txt")  # a link to itself
    (folder / "ping.txt").symlink_to("pong.txt")
    (folder / "pong.txt").symlink_to("ping.txt")
    return folder


def _warnings(call) -> tuple[object, list[str]]:  # noqa: ANN001
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    return result, [str(w.message) for w in caught if issubclass(w.category, (CorpusWarning, BuildWarning))]


def test_every_hostile_file_is_named_once_and_the_rest_is_indexed(hostile_corpus, fake_settings, fake_embedder) -> None:
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    index, said = _warnings(lambda: ensure_index(hostile_corpus, fake_settings, embedder=fake_embedder))
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024

    def once(name: str, why: str) -> None:
        about = [m for m in said if name in m]
        assert len(about) == 1 and why in about[0], (name, said)

    once("loop.txt", "a link that loops back on itself")
    once("ping.txt", "a link that loops back on itself")
    once("pong.txt", "a link that loops back on itself")
    once("00-advertisement.txt", "nothing to quote")
    once("deep-front-matter.md", "nested more than")
    once("alias-bomb.md", "aliases (*name) are not allowed")
    assert not [m for m in said if "image-copyright" in m]

    texts = {doc: a.text for doc, a in index.articles.items()}
    assert set(texts) == {"plain", "deep-front-matter", "alias-bomb", "image-copyright-prose"}
    quotable = {index.sentences[i].doc_id for i in range(len(index.sentences)) if index.sentences[i].quotable}
    assert quotable == set(texts)  # the prose about image copyright is quoted, not taken for a caption
    assert grown_mb < 500  # the alias bomb once took 3.6 GB (and 18 s)


def test_a_file_of_nothing_quotable_sorted_first_leaves_the_build_and_later_ones_working(
    tmp_path, fake_settings, fake_embedder
) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(HOSTILE / "00-advertisement.txt", folder)
    (folder / "plain.txt").write_text(PLAIN, encoding="utf-8")
    with pytest.warns(BuildWarning, match="00-advertisement.txt out of the index: it holds nothing to quote"):
        first = ensure_index(folder, fake_settings, embedder=fake_embedder)
    assert sorted(first.articles) == ["plain"]
    (folder / "later.txt").write_text("A second article arrived on Wednesday with news of the ferry.\n", encoding="utf-8")
    later = ensure_index(folder, fake_settings, embedder=fake_embedder)  # an update after it: once an IndexError
    assert sorted(later.articles) == ["later", "plain"]


def test_a_folder_of_nothing_quotable_makes_an_empty_index_that_reads_back(tmp_path, fake_settings, fake_embedder) -> None:
    from qa.indexing.catalog import forget_cached, index_home
    from qa.indexing.folder import load_current

    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(HOSTILE / "00-advertisement.txt", folder)
    with pytest.warns(BuildWarning, match="nothing to quote"):
        built = ensure_index(folder, fake_settings, embedder=fake_embedder)  # read back from its files
    assert len(built.articles) == len(built.sentences) == 0
    forget_cached()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a damaged index would be rebuilt with a warning
        again = load_current(index_home(folder, fake_settings))
    assert again is not None and len(again.index.sentences) == 0 and again.index.manifest["skipped"]


def test_front_matter_bombs_cost_nothing_and_the_body_is_still_the_article() -> None:
    from qa.ingest.metadata import split_front_matter

    for name in ("deep-front-matter.md", "alias-bomb.md"):
        text = (HOSTILE / name).read_text(encoding="utf-8")
        said: list[str] = []
        peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        fields, body = split_front_matter(text, name, said.append)
        grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
        assert grown_mb < 200 and fields == {} and len(said) == 1  # expanded, the bomb needs 3.6 GB
        assert text[body:].startswith("The ")  # the front matter is cut off; the article stays


def test_loading_a_folder_of_hostile_files_raises_nothing(hostile_corpus) -> None:
    articles, said = _warnings(lambda: load_corpus(hostile_corpus))
    assert {a.doc_id for a in articles} >= {"plain", "alias-bomb"}
    assert any("loop.txt" in m for m in said)
