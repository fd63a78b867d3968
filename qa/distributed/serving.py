"""Serving a sharded index: one Ray actor per shard, every search sent to all of them.

`open_sharded` gives a `ShardedIndex`, whose `index` is a `SearchIndex` to the rest of the
pipeline: it reads the records the answer stages read (articles, sentences, chunks, their
tokens) in place from one copy of them joined beside the shards (`qa.distributed.records`),
the vectors from the shards' memory-mapped files, and its search tables are
the shards' seen as one (`ShardedPostings`, `ShardedVectors`), so the same searchers of
`qa.retrieve` search it, filtered views included. The search structures (BM25 postings,
FAISS) live in the actors. A search returns each shard's hits with shard-local row
numbers; adding the shard's first row gives the row one index over the same files
would have, because shards hold consecutive runs of articles in corpus order.

BM25 needs corpus-wide figures (idf, average length): at load time every actor reports
its words' document frequencies and its length (`TokenCounts`), they are merged in
shard order and sent back, and each shard scores with them, so its scores are the
single index's scores, float for float. Dense scores are per vector: the shards' best
`n` merged by score give the single index's best `n`.

An actor that dies is started again from its shard's files and the search retried once.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import ray
from ray.exceptions import RayActorError

from qa.config import Settings
from qa.distributed.layout import check_shard, read_listing, sharded_home
from qa.indexing import store
from qa.indexing.demand import CACHE_FILE
from qa.distributed.records import coordinator_records
from qa.indexing.article_rows import joined_tables
from qa.indexing.mapped import release_all
from qa.indexing.joining import joined_chunks, joined_sentences, joined_tokens, rows_of
from qa.indexing.memory import SearchIndex, SearchTable
from qa.indexing.nearest import dense_index
from qa.indexing.postings import Postings, TokenCounts, merged_counts
from qa.indexing.rows import StackedRows
from qa.indexing.store import StoredIndex


@ray.remote
class ShardActor:
    """One shard's search structures: BM25 postings and FAISS over its chunks and sentences."""

    def __init__(self, folder: str, checksum: str, corpus: tuple[TokenCounts, TokenCounts] | None = None) -> None:
        check_shard(Path(folder), checksum)
        stored = store.load(Path(folder))
        self._dense = {
            "chunks": dense_index(stored.chunk_vectors, stored.chunk_lists)[0],
            "sentences": dense_index(stored.sentence_vectors, stored.sentence_lists)[0],
        }
        self._tokens = {"chunks": stored.chunk_tokens, "sentences": stored.sentence_tokens}
        self._bm25 = {kind: Postings(tokens) for kind, tokens in self._tokens.items()}
        if corpus is not None:
            self.use_corpus(corpus)

    def counts(self) -> tuple[TokenCounts, TokenCounts]:
        """This shard's (chunk, sentence) word counts, for the corpus-wide BM25 figures."""
        return self._bm25["chunks"].counts(), self._bm25["sentences"].counts()

    def use_corpus(self, corpus: tuple[TokenCounts, TokenCounts]) -> None:
        """Score BM25 with the whole corpus's (chunk, sentence) counts from now on."""
        chunks, sentences = corpus
        self._bm25 = {
            "chunks": Postings(self._tokens["chunks"], chunks),
            "sentences": Postings(self._tokens["sentences"], sentences),
        }

    def bm25(self, kind: str, tokens: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(local rows, scores) of the shard's `kind` ("chunks" or "sentences") with a score."""
        scores = self._bm25[kind].scores(tokens)
        rows = np.flatnonzero(scores)
        return rows, scores[rows]

    def dense(self, kind: str, vector: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(local rows, cosine similarities) of the shard's `n` nearest `kind`."""
        n = min(n, self._dense[kind].ntotal)
        if n <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores, ids = self._dense[kind].search(np.ascontiguousarray(vector.reshape(1, -1), dtype=np.float32), n)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]


class Shards:
    """The shard actors of one sharded index, asked together; a dead actor is restarted from its files."""

    def __init__(self, folders: list[str], checksums: list[str]) -> None:
        self._folders, self._checksums = folders, checksums
        self.actors = [ShardActor.remote(f, c) for f, c in zip(folders, checksums)]
        self._restarting = threading.Lock()
        counts = ray.get([actor.counts.remote() for actor in self.actors])
        self.corpus = (merged_counts([c for c, _ in counts]), merged_counts([s for _, s in counts]))
        self._corpus = ray.put(self.corpus)
        ray.get([actor.use_corpus.remote(self._corpus) for actor in self.actors])

    def ask(self, method: str, *args: Any) -> list[Any]:
        """`method(*args)` on every shard actor, in shard order; a dead actor is restarted
        from its files and asked again, once."""
        actors = list(self.actors)
        calls = [getattr(actor, method).remote(*args) for actor in actors]
        results = []
        for shard, call in enumerate(calls):
            try:
                results.append(ray.get(call))
            except RayActorError:
                replacement = self._restart(shard, actors[shard])
                results.append(ray.get(getattr(replacement, method).remote(*args)))
        return results

    def close(self) -> None:
        """Stop the shard actors."""
        for actor in self.actors:
            ray.kill(actor)

    def _restart(self, shard: int, dead: Any) -> Any:
        """A new actor for `shard` from its files (one only, however many searches found it dead)."""
        with self._restarting:
            if self.actors[shard] is dead:
                self.actors[shard] = ShardActor.remote(self._folders[shard], self._checksums[shard], self._corpus)
            return self.actors[shard]


class ShardedPostings:
    """One table's BM25 postings over every shard (`qa.indexing.postings.TermScores`),
    scored with the corpus-wide counts."""

    def __init__(self, shards: Shards, kind: str, first_row: np.ndarray, corpus: TokenCounts) -> None:
        self._shards, self._kind, self._first_row, self._corpus = shards, kind, first_row, corpus
        self.size = int(first_row[-1])

    def scores(self, tokens: list[str]) -> np.ndarray:
        out = np.zeros(self.size, dtype=np.float64)
        for shard, (rows, scores) in enumerate(self._shards.ask("bm25", self._kind, tokens)):
            out[self._first_row[shard] + rows] = scores
        return out

    def counts(self) -> TokenCounts:
        return self._corpus


class ShardedVectors:
    """One table's vector index over every shard (`qa.indexing.nearest.VectorIndex`): the
    shards' nearest rows merged by score."""

    description = "sharded"

    def __init__(self, shards: Shards, kind: str, first_row: np.ndarray) -> None:
        self._shards, self._kind, self._first_row = shards, kind, first_row
        self.ntotal = int(first_row[-1])

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows) of the `k` nearest rows to the one query, best first."""
        found = self._shards.ask("dense", self._kind, queries[0], k)
        rows = np.concatenate([self._first_row[shard] + ids for shard, (ids, _) in enumerate(found)])
        scores = np.concatenate([scores for _, scores in found])
        best = np.lexsort((rows, -scores))[:k]  # best first; equal scores in corpus order
        return scores[best].reshape(1, -1), rows[best].reshape(1, -1)


class ShardedIndex:
    """A sharded index served by one Ray actor per shard (connect to Ray first): `index` is
    what questions are answered from."""

    def __init__(self, home: Path) -> None:
        """Load the sharded index in `home` (see `qa.distributed.layout`) and start its actors.

        Raises:
            IndexCorruptError: the listing or a shard is missing, altered or damaged.
        """
        listing = read_listing(home)
        folders = [str(home / shard["name"]) for shard in listing["shards"]]
        checksums = [shard["checksum"] for shard in listing["shards"]]
        parts = [store.load(Path(folder)) for folder in folders]
        for folder, checksum in zip(folders, checksums):
            check_shard(Path(folder), checksum)
        self.shards = Shards(folders, checksums)
        joined = _joined(parts, listing, home)
        tables = {}
        for kind, counts, vectors in (
            ("chunks", self.shards.corpus[0], joined.chunk_vectors),
            ("sentences", self.shards.corpus[1], joined.sentence_vectors),
        ):
            first_row = np.cumsum([0] + [len(getattr(p, kind)) for p in parts])
            tables[kind] = SearchTable(
                ShardedPostings(self.shards, kind, first_row, counts), ShardedVectors(self.shards, kind, first_row), vectors
            )
        self.index = SearchIndex(joined, tables=tables, parse_cache=home / CACHE_FILE)

    @property
    def shard_count(self) -> int:
        return len(self.shards.actors)

    @property
    def actors(self) -> tuple[Any, ...]:
        """The shard actors now in use, in shard order."""
        return tuple(self.shards.actors)

    def close(self) -> None:
        """Stop the shard actors."""
        self.shards.close()


def _joined(parts: list[StoredIndex], listing: dict[str, Any], home: Path) -> StoredIndex:
    """The shards' records end to end, as one build over the same files would hold them: read
    in place from the records folder beside the shards (`qa.distributed.records`), written the
    first time these shards are served."""
    counts = {key: sum(p.manifest["counts"][key] for p in parts) for key in ("articles", "sentences", "chunks")}
    manifest = {**{k: v for k, v in listing.items() if k != "shards"}, "counts": counts, "shards": len(parts)}
    records = coordinator_records(home, listing["checksum"], lambda: _records_in_memory(parts))
    for part in parts:
        release_all(part.mappings)  # a join read every column of the shards: their pages go back to the files
    aliases = [p.article_aliases for p in parts]
    return replace(
        parts[0],
        manifest=manifest,
        **records,
        chunk_vectors=StackedRows([p.chunk_vectors for p in parts]),
        sentence_vectors=StackedRows([p.sentence_vectors for p in parts]),
        # every shard's acronyms (shard 0's alone were taken before), or found again from the texts
        article_aliases=None if any(a is None for a in aliases) else tuple(x for a in aliases for x in a),  # type: ignore[union-attr]
        text_keys=None,
    )


def _records_in_memory(parts: list[StoredIndex]) -> dict[str, Any]:
    """The shards' records joined as columns (tokens without postings: the shards search); the
    rows no build parsed stay for the parser."""
    articles = joined_tables([p.articles for p in parts])  # columns, never a record per article
    return {
        "articles": articles,
        "sentences": joined_sentences([rows_of(p.sentences, 0, len(p.sentences)) for p in parts], articles),
        "sentence_tokens": joined_tokens([rows_of(p.sentence_tokens, 0, len(p.sentence_tokens)) for p in parts], postings=False),
        "chunks": joined_chunks([rows_of(p.chunks, 0, len(p.chunks)) for p in parts], articles),
        "chunk_tokens": joined_tokens([rows_of(p.chunk_tokens, 0, len(p.chunk_tokens)) for p in parts], postings=False),
    }


def open_sharded(corpus: Path, settings: Settings) -> ShardedIndex:
    """The sharded index of `corpus` built by `qa index CORPUS --ray` (connect to Ray first);
    answer from its `index`, and `close` it when done."""
    return ShardedIndex(sharded_home(Path(corpus).resolve(), settings))
