"""Indexing: embed, build, persist and load the searchable index of a corpus.

`embedder` turns texts into unit vectors (all-MiniLM-L6-v2 by default, offline);
`build` turns articles into a `StoredIndex`, reusing the vectors of unchanged text;
`store` is the on-disk format (manifest, JSON and NumPy columns, NumPy vectors, checksums, no
pickle); `catalog` finds, checks, rebuilds and caches the index of a corpus folder
(the last good build stays in use until a new one is complete); `memory` holds the
records of one build in memory (idf, aliases, the lookups the answer stages make) with,
per table, the data its searchers read: BM25 postings (`postings`) and a vector index
(`nearest`: exact FAISS, or an inverted file from `ivf`). Searching them is `qa.retrieve`'s.
"""
