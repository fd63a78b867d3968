"""Distributed: index builds and serving spread over a Ray cluster (the `[distributed]` extra).

`build` reads, parses and embeds a corpus as Ray tasks, each writing one shard in the
ordinary build format (`qa.indexing.store`) with its own manifest; `plan` decides which
consecutive articles each shard holds, and `embedding` embeds a shard in the batches a
single build would use, so its vectors are the same. `layout` is the sharded index
folder, whose top-level manifest lists the complete shards and is written last, so a
worker that dies mid-build leaves no half-written shard listed. `serving` holds each
shard in a Ray actor and gives the pipeline an index whose search tables send every
search to all of them and merge the results, so the searchers of `qa.retrieve` search it
as they search one index (`rows` reads the shards' vectors as one array); BM25 scores use the whole corpus's statistics,
gathered from the shards at load time, so answers equal those of one index over the
same files. An actor that dies is restarted from its files and the search retried once.
`cluster` connects to Ray.

Only `build`, `serving` and `cluster` import Ray, and only `qa index --ray` and
`app.py --ray` import them.
"""
