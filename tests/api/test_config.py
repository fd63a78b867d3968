"""Where the package looks for articles and keeps indexes: beside it in a clone of the
repository, nowhere and in the user's cache when installed from a wheel."""

from __future__ import annotations

from pathlib import Path

import pytest

import qa
from conftest import SEEDS


def test_an_installed_package_has_no_default_corpus_and_keeps_indexes_in_the_cache(monkeypatch, tmp_path: Path) -> None:
    import qa.api
    import qa.config

    monkeypatch.delenv("QA_CORPUS", raising=False)
    monkeypatch.setattr(qa.api, "DEFAULT_CORPUS", None)
    with pytest.raises(qa.CorpusError, match="no corpus folder given.*QA_CORPUS"):
        qa.ask("Who accepted the pledge?")
    assert qa.resolve_corpus(tmp_path) == tmp_path
    monkeypatch.setenv("QA_CORPUS", str(tmp_path))
    assert qa.resolve_corpus() == tmp_path
    monkeypatch.setattr(qa.config, "FROM_CHECKOUT", False)
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))
    assert qa.Settings().index_dir == tmp_path / "cache" / "index"


def test_this_checkout_keeps_its_default_corpus_and_index_folder() -> None:
    import qa.config

    assert qa.config.FROM_CHECKOUT and qa.config.DEFAULT_CORPUS == SEEDS
    assert qa.Settings().index_dir == SEEDS.parent / "index"

