"""Retrieval: the chunks and sentences most likely to answer a query.

Every search goes through one contract, `searcher.Searcher`: `search(query, k) -> Hits`
over one table (chunks or sentences) of an index. `backends` registers which searcher
does each kind of search: `lexical` (BM25 over the table's postings) and `dense` (FAISS,
exact or through an inverted file), each masking what a filtered view leaves out; a
sharded index's tables are searched by the same searchers. `retriever` takes the best
chunks of each kind and fuses the rankings with a function from `fusion` (weighted
min-max score fusion by default, or reciprocal rank fusion, or one ranking alone).
"""
