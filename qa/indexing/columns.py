"""The columns (lists or NumPy arrays) an index build stores for its sentences and chunks, and
reading them back into `qa.indexing.tables` tables (checking that they fit together).

The index writer stores a table's text columns (ids, the vocabulary, entity label names) as
JSON and its number columns as NumPy arrays (`split_columns`, `joined_columns`): a million
sentences' offsets read as arrays in a fraction of the time JSON takes to make them Python
numbers and arrays again."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import orjson

from qa.indexing.article_table import field, text_lengths
from qa.indexing.content_ids import HexIds
from qa.indexing.postings import WordPostings, word_postings
from qa.indexing.tables import ChunkTable, SentenceTable, TokenTable
from qa.types import Article, Chunk, Sentence

SENTENCE_FIELDS = ("position", "start", "end", "quotable")  # a sentence's own columns, besides id and article
ENTITY_NUMBERS = ("offsets", "start", "end", "label", "role", "governor")  # integer entity columns
ENTITY_NAMES = ("labels", "roles", "governors")  # the name lists entity ids point into


TEXT_COLUMNS = frozenset({"id", "words", "labels", "roles", "governors"})  # every other column holds numbers
_PATH = "."  # joins a nested column's keys into its array's name: "entities.start"


def split_columns(columns: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """A table's columns as its text columns (nested as they are) and its number columns as
    arrays named by their path ("tokens.ids"); `joined_columns` puts them back together.

    Raises:
        ValueError: a number column holds something other than integers or truths.
    """
    text: dict[str, Any] = {}
    numbers: dict[str, np.ndarray] = {}
    for key, value in columns.items():
        if isinstance(value, Mapping):
            inner_text, inner_numbers = split_columns(value)
            text[key] = inner_text
            numbers.update({f"{key}{_PATH}{name}": array for name, array in inner_numbers.items()})
        elif key in TEXT_COLUMNS:
            text[key] = value
        else:
            numbers[key] = _number_array(key, value)
    return text, numbers


def joined_columns(text: Mapping[str, Any], numbers: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """`split_columns`' two parts as one nested table of columns.

    Raises:
        ValueError: a number column's name clashes with the text columns.
    """
    joined: dict[str, Any] = {key: dict(value) if isinstance(value, Mapping) else value for key, value in text.items()}
    for name, array in numbers.items():
        *outer, key = name.split(_PATH)
        place = joined
        for part in outer:
            place = place.setdefault(part, {})
            if not isinstance(place, dict):
                raise ValueError(f"number column {name!r} clashes with a text column")
        if key in place:
            raise ValueError(f"number column {name!r} clashes with a text column")
        place[key] = array
    return joined


def _number_array(key: str, values: Any) -> np.ndarray:
    array = np.asarray(values)
    if array.size == 0:
        return array.astype(np.int64).reshape(0)
    if array.ndim != 1 or array.dtype.kind not in "biu":
        raise ValueError(f"column {key!r} should hold integers or truths, not {array.dtype} of shape {array.shape}")
    return array


def columns_json(columns: Mapping[str, Any]) -> bytes:
    """The JSON of a table's columns; NumPy columns become JSON arrays directly (the same
    text as their lists'), so a large build never makes them millions of Python ints."""
    return orjson.dumps(columns, option=orjson.OPT_SERIALIZE_NUMPY, default=_ids_json)


def _ids_json(value: Any) -> Any:
    """The JSON of ids held as numbers (`qa.indexing.content_ids.HexIds`), written from their
    digits without a string per id."""
    if isinstance(value, HexIds):
        return orjson.Fragment(("[" + ",".join(f'"{i}"' for i in value) + "]").encode())
    raise TypeError(f"{type(value).__name__} is not JSON")


def token_columns(documents: Sequence[tuple[str, ...]]) -> dict[str, Any]:
    """Tokens as a vocabulary in order of first appearance, per-document offsets and word ids,
    and which documents hold each word (`qa.indexing.postings.WordPostings`)."""
    words, offsets, ids = token_ids(documents)
    held = documents.postings if isinstance(documents, TokenTable) else None
    if held is None:
        held = word_postings(ids, np.diff(offsets), len(words))
    postings = {"frequency": held.frequency, "documents": narrowest(held.documents), "counts": narrowest(held.counts, signed=False)}
    return {"words": words, "offsets": offsets, "ids": narrowest(ids), "postings": postings}


def token_ids(documents: Sequence[tuple[str, ...]]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The vocabulary in order of first appearance, per-document offsets and word ids."""
    if isinstance(documents, TokenTable):  # arrays as they are
        return documents.words, np.asarray(documents.offsets), np.asarray(documents.ids)
    vocabulary: dict[str, int] = {}
    ids = np.fromiter((vocabulary.setdefault(t, len(vocabulary)) for d in documents for t in d), np.int64)
    return list(vocabulary), np.cumsum([0] + [len(d) for d in documents], dtype=np.int64), ids


def token_table(columns: Mapping[str, Any]) -> TokenTable:
    """The `TokenTable` of `token_columns`' output.

    Raises:
        ValueError: the columns do not fit together.
    """
    words, offsets, ids = columns["words"], _ints(columns["offsets"]), _compact(columns["ids"])
    if not _all_text(words) or len(offsets) < 1 or offsets[0] != 0 or offsets[-1] != len(ids):
        raise ValueError("token columns do not fit together")
    if np.any(np.diff(offsets) < 0) or (len(ids) and (ids.min() < 0 or ids.max() >= len(words))):
        raise ValueError("token columns point outside their vocabulary")
    held = None
    if "postings" in columns:  # absent from builds written before 2026-12-06: worked out on load
        p = columns["postings"]
        held = WordPostings(_ints(p["frequency"]), _compact(p["documents"]), _compact(p["counts"]))
        problem = held.problem(len(words), len(offsets) - 1, len(ids))
        if problem:
            raise ValueError(problem)
    return TokenTable(words, offsets, ids, held)


def sentence_columns(
    sentences: Sequence[Sentence], tokens: Sequence[tuple[str, ...]], article_row: Mapping[str, int]
) -> dict[str, Any]:
    """The columns `sentence_table` reads back."""
    if isinstance(sentences, SentenceTable) and list(field(sentences.articles, "doc_id")) == list(article_row):
        c = sentences.columns
        e = c["entities"]
        return {
            "id": c["id"],
            **{key: c[key] for key in ("article", "position", "start", "end", "quotable")},
            "parsed": sentences.parsed,
            "entities": {
                **{key: e[key] for key in ENTITY_NUMBERS},
                **{key: e[key] for key in ENTITY_NAMES},
            },
            "tokens": token_columns(tokens),
        }
    return {
        **record_columns(sentences, SENTENCE_FIELDS, article_row),
        "parsed": [s.entities is not None for s in sentences],
        "entities": entity_columns(sentences),
        "tokens": token_columns(tokens),
    }


def entity_columns(sentences: Iterable[Sentence]) -> dict[str, list]:
    """The sentences' entities: per-sentence offsets into start, end, label, role and governor
    columns, the last three as ids into the name lists labels, roles and governors (a
    sentence not parsed yet, whose `entities` is None, has none)."""
    labels: dict[str, int] = {}
    roles: dict[str, int] = {}
    governors: dict[str, int] = {}
    entity: dict[str, list] = {"offsets": [0], "start": [], "end": [], "label": [], "role": [], "governor": []}
    for sentence in sentences:
        for e in sentence.entities or ():
            entity["start"].append(e.start)
            entity["end"].append(e.end)
            entity["label"].append(labels.setdefault(e.label, len(labels)))
            entity["role"].append(roles.setdefault(e.role, len(roles)))
            entity["governor"].append(governors.setdefault(e.governor, len(governors)))
        entity["offsets"].append(len(entity["start"]))
    return {**entity, "labels": list(labels), "roles": list(roles), "governors": list(governors)}


def sentence_table(columns: Mapping[str, Any], articles: Sequence[Article]) -> tuple[SentenceTable, TokenTable]:
    """The sentences and their tokens from `sentence_columns`' output.

    Raises:
        ValueError, KeyError, TypeError: the columns are inconsistent.
    """
    ids = columns["id"]
    n = len(ids)
    if not _all_text(ids):
        raise ValueError("sentence ids are not text")
    table = {"id": ids, "quotable": np.asarray(columns["quotable"], dtype=bool)}
    if "parsed" in columns:  # absent from builds that parsed every sentence (all of them before 2026-12-06)
        parsed = np.asarray(columns["parsed"])
        if parsed.ndim != 1 or (parsed.size and parsed.dtype.kind != "b"):
            raise ValueError("a column that should hold true or false does not")
        table["parsed"] = parsed.astype(bool, copy=False)
    for key in ("article", "position", "start", "end"):
        table[key] = _ints(columns[key])
    if any(len(table[key]) != n for key in table):
        raise ValueError("sentence columns differ in length")
    if n and (table["article"].min() < 0 or table["article"].max() >= len(articles)):
        raise ValueError("a sentence points at no article")
    lengths = text_lengths(articles)
    _check_spans(table["article"], table["start"], table["end"], lengths, "sentence")
    e = columns["entities"]
    entities = {key: _ints(e[key]) if key == "offsets" else _compact(e[key]) for key in ENTITY_NUMBERS}
    entities.update({key: list(e[key]) for key in ENTITY_NAMES})
    offsets = entities["offsets"]
    if len(offsets) != n + 1 or offsets[0] != 0 or np.any(np.diff(offsets) < 0):
        raise ValueError("entity offsets do not fit the sentences")
    for key, names in (("label", "labels"), ("role", "roles"), ("governor", "governors")):
        column = entities[key]
        if len(column) != offsets[-1] or (len(column) and (column.min() < 0 or column.max() >= len(entities[names]))):
            raise ValueError(f"entity {key}s do not fit together")
    owners = np.repeat(table["article"], np.diff(offsets)) if n else np.zeros(0, dtype=np.int64)
    _check_spans(owners, entities["start"], entities["end"], lengths, "entity")
    table["entities"] = entities
    tokens = token_table(columns["tokens"])
    if len(tokens) != n:
        raise ValueError("sentence tokens do not fit the sentences")
    return SentenceTable(articles, table), tokens


def chunk_columns(
    chunks: Iterable[Chunk], tokens: Sequence[tuple[str, ...]], article_row: Mapping[str, int]
) -> dict[str, Any]:
    """The columns `chunk_records` reads back."""
    if isinstance(chunks, ChunkTable) and list(field(chunks.articles, "doc_id")) == list(article_row):
        return {"id": chunks.ids, **{key: chunks.columns[key] for key in ChunkTable.COLUMNS}, "tokens": token_columns(tokens)}
    fields = ("start", "end", "first_sentence", "last_sentence")
    return {**record_columns(list(chunks), fields, article_row), "tokens": token_columns(tokens)}


def record_columns(records: Sequence[Any], fields: tuple[str, ...], article_row: Mapping[str, int]) -> dict[str, list]:
    """id, article row and the named fields of sentence or chunk records, one list each."""
    columns = {"id": [r.id for r in records], "article": [article_row[r.doc_id] for r in records]}
    columns.update({field: [getattr(r, field) for r in records] for field in fields})
    return columns


def chunk_records(columns: Mapping[str, Any], articles: Sequence[Article]) -> tuple[ChunkTable, TokenTable]:
    """The chunks (a `ChunkTable`) and their tokens.

    Raises:
        ValueError, KeyError, TypeError: the columns are inconsistent.
    """
    ids = columns["id"]
    rows, starts, ends, firsts, lasts = (
        _ints(columns[key]) for key in ("article", "start", "end", "first_sentence", "last_sentence")
    )
    if any(len(c) != len(ids) for c in (rows, starts, ends, firsts, lasts)) or not _all_text(ids):
        raise ValueError("chunk columns differ in length")
    if len(ids) and (rows.min() < 0 or rows.max() >= len(articles)):
        raise ValueError("a chunk points at no article")
    _check_spans(rows, starts, ends, text_lengths(articles), "chunk")
    if np.any(lasts < firsts):
        raise ValueError("a chunk ends before it starts")
    chunks = ChunkTable(articles, {"id": ids, "article": rows, "start": starts, "end": ends,
                                   "first_sentence": firsts, "last_sentence": lasts})
    tokens = token_table(columns["tokens"])
    if len(tokens) != len(chunks):
        raise ValueError("chunk tokens do not fit the chunks")
    return chunks, tokens


def _check_spans(rows: np.ndarray, starts: np.ndarray, ends: np.ndarray, lengths: np.ndarray, what: str) -> None:
    """Every span lies inside its article's text and holds something (0 <= start < end <= length):
    a span moved past the end would quote nothing, silently."""
    if len(starts) != len(rows) or len(ends) != len(rows):
        raise ValueError(f"{what} columns differ in length")
    if len(rows) and (np.any(starts < 0) or np.any(ends <= starts) or np.any(ends > lengths[rows])):
        bad = int(np.flatnonzero((starts < 0) | (ends <= starts) | (ends > lengths[rows]))[0])
        raise ValueError(f"{what} {bad} has offsets {int(starts[bad])}-{int(ends[bad])} outside its article's text")


def _all_text(values: Any) -> bool:
    """Whether every value is a str (the types gathered in C: a million ids in milliseconds)."""
    return set(map(type, values)) <= {str}


def _compact(values: Any) -> np.ndarray:
    """An integer column as int32 where its values fit (word ids, entity offsets into an
    article and name ids do): half the memory of a loaded index's largest columns. A column
    stored narrower (`narrowest`) is kept as it is, not copied through int64."""
    array = np.asarray(values)
    if array.ndim == 1 and array.dtype.kind in "iu" and array.dtype.itemsize <= (4 if array.dtype.kind == "i" else 2):
        return array
    return narrowest(_ints(array))


def narrowest(column: np.ndarray, signed: bool = True) -> np.ndarray:
    """An integer column in the narrowest type of int32, int64 (`signed`), or uint8, uint16,
    int32 (counts, never negative) that holds its values: what an index stores, so that an
    update writes (and a load reads) half the bytes of int64 word ids and a quarter of int32
    counts."""
    column = np.asarray(column)
    top = int(column.max()) if column.size else 0
    kinds = (np.int32, np.int64) if signed else (np.uint8, np.uint16, np.int32, np.int64)
    low = int(column.min()) if column.size else 0
    for kind in kinds:
        if np.iinfo(kind).min <= low and top <= np.iinfo(kind).max:
            return column.astype(kind, copy=False)
    return column


def _ints(values: Any) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
        raise ValueError("a column that should hold integers does not")
    return array.astype(np.int64, copy=False)
