"""Which searcher does each kind of search: the one place a search backend is registered.

A backend is a module with a class that has `search(query, k) -> Hits` (the `Searcher`
protocol of `qa.retrieve.searcher`) and a constructor `over(index, table)` that makes
it for one table ("chunks" or "sentences") of an index, filtered views included (the
table's `keep`). Registering it here under the kind it does puts it behind every search
of the pipeline: the retriever fuses one ranking per kind, and the answer stage adds the
nearest sentences of each. Searchers are made for each search and cost nothing to make;
a backend that needs data an index does not hold builds it in `over` the first time and
keeps it with the table it was built for (views made by `within` share their index's
tables and differ only in `keep`).
"""

from __future__ import annotations

from typing import Callable

from qa.indexing.memory import SearchIndex
from qa.retrieve.dense import DenseSearcher
from qa.retrieve.lexical import LexicalSearcher
from qa.retrieve.searcher import Searcher

LEXICAL, DENSE = "lexical", "dense"

BACKENDS: dict[str, Callable[[SearchIndex, str], Searcher]] = {
    LEXICAL: LexicalSearcher.over,  # BM25 over the table's postings
    DENSE: DenseSearcher.over,  # FAISS: exact up to 40k vectors, else the inverted file
}


def searcher(index: SearchIndex, table: str, kind: str) -> Searcher:
    """The searcher registered for `kind` over `index`'s `table` ("chunks" or "sentences").

    Raises:
        ValueError: no backend is registered for `kind`, or the index has no such table.
    """
    if kind not in BACKENDS:
        raise ValueError(f"no search backend is registered for {kind!r}; known: {sorted(BACKENDS)}")
    if table not in index.tables:
        raise ValueError(f"the index has no table {table!r}; it has {sorted(index.tables)}")
    return BACKENDS[kind](index, table)
