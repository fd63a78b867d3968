"""Sharded indexes on a Ray cluster, for the shells: build one, open one to answer from.

Ray is an optional extra (`pip install 'newsqa-assistant[distributed]'`); it is imported
only when one of these functions is called, never by `import qa`.
"""

from __future__ import annotations

import os
from typing import Any

from qa.api import resolve_corpus
from qa.config import Settings, settings_from_env
from qa.indexing.build import Progress
from qa.types import IndexInfo

NEEDS_RAY = "sharded indexes need Ray ({error}); pip install 'newsqa-assistant[distributed]'"


def build_sharded_index(
    corpus: str | os.PathLike[str] | None = None,
    *,
    address: str | None = None,
    shards: int | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> IndexInfo:
    """Build (or rebuild) the sharded index of `corpus` on a Ray cluster.

    Args:
        corpus: folder of articles (default as in `ask`).
        address: host:port of the cluster's head; None: the cluster started on this
            machine, else a new local one.
        shards: how many shards (default: the cluster's CPUs).
        settings: model, chunking and index location, as for a single index.
        progress: called as progress(stage, done, total).

    Raises:
        ImportError: Ray is not installed (the message says how to install it).
        CorpusError: the corpus folder is missing or holds no readable article.
    """
    build, connect = _ray_parts()
    connect(address or None)
    listing = build(resolve_corpus(corpus).resolve(), settings or settings_from_env(), shards, progress)
    counts = {key: sum(s["counts"][key] for s in listing["shards"]) for key in ("articles", "sentences", "chunks")}
    return IndexInfo(
        articles=counts["articles"], sentences=counts["sentences"], chunks=counts["chunks"],
        model=str(listing.get("model", "")), built_at=str(listing.get("built_at", "")), shards=len(listing["shards"]),
    )


def open_sharded_index(
    corpus: str | os.PathLike[str] | None = None, *, address: str | None = None, settings: Settings | None = None
) -> Any:
    """The sharded index of `corpus` (`qa index CORPUS --ray`), its shards held by actors on the
    Ray cluster at `address`; pass it to `ask(..., index=...)`.

    Raises:
        ImportError: Ray is not installed.
        IndexCorruptError: the sharded index is missing or damaged.
    """
    _, connect = _ray_parts()
    from qa.distributed.serving import open_sharded

    connect(address or None)
    return open_sharded(resolve_corpus(corpus), settings or settings_from_env()).index


def _ray_parts() -> tuple[Any, Any]:
    try:
        from qa.distributed.build import build_sharded
        from qa.distributed.cluster import connect
    except ImportError as error:
        raise ImportError(NEEDS_RAY.format(error=error)) from error
    return build_sharded, connect
