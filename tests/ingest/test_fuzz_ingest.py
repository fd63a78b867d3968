"""Fuzzing the whole ingestion: folders of odd names, encodings, front matter, pages, dumps,
feeds and links. Reading never raises anything but `CorpusError`, and building an index of
whatever was read never raises at all; every article that comes out is whole.

Derandomised in CI (the "ci" profile of tests/conftest.py); `HYPOTHESIS_PROFILE=release`
draws new folders on every run (see the README's Development section).
"""

from __future__ import annotations

import json
import tempfile
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, TypeVar

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FakeEmbedder
from qa.config import Settings
from qa.errors import CorpusError
from qa.indexing.catalog import ensure_index
from qa.ingest.corpus import load_corpus

PROSE = st.sampled_from([
    "The council approved the budget on Tuesday.",
    "Advertisement",
    "Image copyright Reuters Image caption A ferry at dawn",
    "Mayor Anna Lind cut the ribbon at 9 a.m. in front of 2,000 people.",
    "“Quoted,” she said… and left.",
    "",
    "   ",
    "Ünïcödé — naïve café, 東京, Αθήνα, \u00a0non-breaking\u00adsoft",
])
TEXT = st.lists(st.one_of(PROSE, st.text(max_size=80)), max_size=6).map("\n\n".join)
YAML_VALUE = st.recursive(
    st.one_of(st.text(max_size=20), st.integers(), st.none(), st.just("2015-03-12"), st.just("*a"), st.just("&a x")),
    lambda inner: st.lists(inner, max_size=3).map(lambda items: "[" + ", ".join(map(str, items)) + "]"),
    max_leaves=12,
)
FRONT_MATTER = st.lists(
    st.tuples(st.sampled_from(["title", "outlet", "published", "date", "author", "url", "x", "title:"]), YAML_VALUE),
    max_size=5,
).map(lambda fields: "---\n" + "\n".join(f"{k}: {v}" for k, v in fields) + "\n---\n")
HTML = st.builds(
    lambda title, body, meta: f"<html><head><title>{title}</title>{meta}</head><body><article><p>{body}</p></article></body></html>",
    st.text(max_size=30), TEXT,
    st.sampled_from(["", '<meta property="article:published_time" content="2015-03-12">', '<meta name="author" content="<b>">']),
)
JSONL_ROW = st.one_of(
    st.builds(lambda i, t: json.dumps({"id": i, "text": t, "title": "T"}), st.one_of(st.text(max_size=10), st.integers()), TEXT),
    st.text(max_size=40),
    st.just("[" * 200 + "]" * 200),
    st.just('{"text": 3}'),
)
ENCODINGS = st.sampled_from(["utf-8", "utf-16", "utf-32", "latin-1", "cp1252", "utf-8-sig"])
T = TypeVar("T")
NAME = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"), min_size=1, max_size=40
).filter(lambda n: n not in (".", ".."))


@st.composite
def files(draw) -> list[tuple[str, bytes | None, str | None]]:  # noqa: ANN001
    """(relative name, bytes or None for a link, the link's target)."""
    out = []
    for number in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["txt", "md", "html", "jsonl", "rss", "bin", "link"]))
        stem = draw(NAME)
        if kind == "link":
            target = draw(st.sampled_from(["loop", "missing.txt", "../outside.txt", "0.txt", "."]))
            out.append((f"link{number}.txt", None, f"link{number}.txt" if target == "loop" else target))
            continue
        if kind == "txt":
            data = draw(TEXT).encode(draw(ENCODINGS), errors="replace")
        elif kind == "md":
            data = (draw(FRONT_MATTER) + draw(TEXT)).encode("utf-8", errors="replace")
        elif kind == "html":
            data = draw(HTML).encode("utf-8", errors="replace")
        elif kind == "jsonl":
            data = "\n".join(draw(st.lists(JSONL_ROW, max_size=5))).encode("utf-8", errors="replace")
        elif kind == "rss":
            items = "".join(f"<item><title>{t}</title><description>{d}</description></item>"
                            for t, d in draw(st.lists(st.tuples(st.text(max_size=10), TEXT), max_size=3)))
            data = f"<?xml version='1.0'?><rss><channel><title>F</title>{items}</channel></rss>".encode("utf-8", "replace")
        else:
            data = draw(st.binary(max_size=200))
        suffix = "txt" if kind == "bin" else kind
        out.append((f"{number}-{stem}.{suffix}" if draw(st.booleans()) else f"{number}.{suffix}", data, None))
    return out


def _write(folder: Path, drawn: list[tuple[str, bytes | None, str | None]]) -> None:
    (folder.parent / "outside.txt").write_text("A secret outside the corpus.", encoding="utf-8")
    for name, data, target in drawn:
        path = folder / name
        try:
            if data is None:
                path.symlink_to(target)
            else:
                path.write_bytes(data)
        except (OSError, ValueError):
            continue  # a name this file system refuses: nothing to read


@contextmanager
def _written(drawn: list[tuple[str, bytes | None, str | None]]) -> Iterator[Path]:
    """A corpus folder holding the drawn files, in a temporary folder of its own."""
    with tempfile.TemporaryDirectory() as root:
        folder = Path(root) / "corpus"
        folder.mkdir()
        _write(folder, drawn)
        yield folder


def _quietly(action: Callable[[], T]) -> T | None:
    """What `action` gives, warnings silenced; None when it raises the one error allowed, `CorpusError`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return action()
        except CorpusError:
            return None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files())
def test_reading_any_folder_raises_nothing_but_a_corpus_error(drawn) -> None:  # noqa: ANN001
    with _written(drawn) as folder:
        articles = _quietly(lambda: load_corpus(folder))
        if articles is None:
            return
        assert len({a.doc_id for a in articles}) == len(articles)
        for article in articles:
            assert isinstance(article.text, str) and article.text.strip()
            assert "A secret outside" not in article.text
            assert Path(article.path).resolve().is_relative_to(folder.resolve())
            assert all(len(v) <= 300 for v in (article.title, article.outlet, article.author))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files())
def test_building_an_index_of_any_folder_raises_nothing_and_quotes_only_its_text(drawn) -> None:  # noqa: ANN001
    with _written(drawn) as folder:
        settings_ = Settings(model="fake", index_dir=folder.parent / "index", annotator="rules")
        index = _quietly(lambda: ensure_index(folder, settings_, embedder=FakeEmbedder()))
        if index is None:
            return
        for s in range(len(index.sentences)):
            sentence = index.sentences[s]
            text = index.articles[sentence.doc_id].text
            assert 0 <= sentence.start < sentence.end <= len(text) and sentence.text == text[sentence.start : sentence.end]
            assert sentence.text.strip()

