"""Ingest: from a folder of files to articles, sentences, chunks and entities.

`files` lists the article files of a folder; `corpus` reads them into articles whose
stored text is what citation offsets point at, each file by its input format (`formats`,
the registry: .txt/.md untouched after YAML front matter, the main text of saved .html
pages, one article per line of a .jsonl dump, each HTML page of a .warc web archive, each
entry of an RSS or Atom feed), each article with its title (`titles`) and metadata
(`metadata`); `debris` marks captions and share-button lines that are never quoted;
`sentences` finds sentence boundaries in news prose;
`chunker` groups sentences into overlapping windows with content-hash ids; `annotate`
(spaCy) or `rules` (regular expressions) find entities with their clause roles;
`aliases` finds the acronyms the articles define ("Islamic State (IS)"). `uploads`
stores files added through the chat; it stays outside the index fingerprint.
"""
