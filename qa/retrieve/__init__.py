"""Retrieval: the chunks most likely to answer a query.

`retriever` scores every chunk by BM25 and takes the nearest chunks by embedding, then
fuses the two rankings with a function from `fusion` (weighted min-max score fusion by
default, or reciprocal rank fusion, or one retriever alone).
"""
