"""Ingest: from a folder of files to articles, sentences, chunks and entities.

`corpus` reads every .txt/.md article with its text untouched (offsets into it are
what citations point at) and tells its title; `debris` marks captions and share-button
lines that are never quoted; `sentences` finds sentence boundaries in news prose;
`chunker` groups sentences into overlapping windows with content-hash ids; `annotate`
(spaCy) or `rules` (regular expressions) find entities with their clause roles;
`aliases` finds the acronyms the articles define ("Islamic State (IS)"). `uploads`
stores files added through the chat; it stays outside the index fingerprint.
"""
