"""Reading and writing the files behind question sets: UTF-8 text, JSON lines, corpus folders.

Shared by the loaders in `eval.seedset`, `eval.squad` and `eval.newsqa`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from eval.records import EvalQuestion, EvalSet

# A doc or chunk id that is safe as a file stem.
SAFE_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")


def sync_corpus(folder: Path, files: dict[str, str]) -> None:
    """Make `folder` hold exactly these articles as `<doc_id>.txt`, writing only changed files.

    Args:
        folder: the corpus folder; created if needed.
        files: article text per doc id.

    Raises:
        ValueError: the folder already holds other article files (of any input format
            `qa.ingest.formats` registers), which `qa` would index along with ours.
    """
    from qa.ingest.formats import format_of  # here, so that importing eval stays free of qa

    folder.mkdir(parents=True, exist_ok=True)
    ours = {f"{doc_id}.txt" for doc_id in files}
    foreign = []
    for path in folder.rglob("*"):
        relative = path.relative_to(folder)
        hidden = any(part.startswith(".") for part in relative.parts)
        if format_of(path.name) is not None and not hidden and relative.as_posix() not in ours:
            foreign.append(relative.as_posix())
    if foreign:
        # qa.ingest.corpus reads every such file below the folder, so a stray one would skew the benchmark.
        raise ValueError(
            f"{folder} holds {len(foreign)} article files outside this corpus "
            f"(e.g. {sorted(foreign)[0]}); "
            "use a folder of its own or delete them"
        )
    for doc_id, text in files.items():
        target, data = folder / f"{doc_id}.txt", text.encode("utf-8")
        # Rewrite only on change, so file hashes and mtimes (and any index built here) survive.
        if target.is_file() and target.read_bytes() == data:
            continue
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)


def read_text(path: Path) -> str:
    """The file decoded as `qa.ingest.corpus` decodes it: UTF-8, BOM dropped, newlines kept.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file is not UTF-8.
    """
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found")
    # Decode bytes as qa.ingest.corpus does (BOM dropped, no newline translation), so offsets agree.
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not UTF-8 ({exc.reason} at byte {exc.start})") from exc


def read_jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, object) for every non-blank line of a JSON-lines file.

    Raises:
        ValueError: a line is not JSON or not a JSON object.
    """
    for lineno, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{lineno}: malformed JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise ValueError(f"{path}:{lineno}: expected a JSON object, got {type(row).__name__}")
        yield lineno, row


_MISSING = object()


def get_field(row: dict, key: str, kind: type, where: str, default: object = _MISSING) -> Any:
    """`row[key]` checked to be a `kind`; `default` when absent (an error if none given).

    Raises:
        ValueError: the key is missing without a default, or has the wrong type.
    """
    if key not in row:
        if default is _MISSING:
            raise ValueError(f"{where}: missing key {key!r}")
        return default
    value = row[key]
    if not isinstance(value, kind):
        raise ValueError(f"{where}: {key!r} must be a {kind.__name__}, not {type(value).__name__}")
    return value


def strings(row: dict, key: str, where: str) -> tuple[str, ...]:
    """`row[key]` as a tuple of strings; () when absent."""
    return check_strs(get_field(row, key, list, where, []), where)


def check_strs(values: object, where: str) -> tuple[str, ...]:
    """`values` as a tuple of strings, or a ValueError naming `where`."""
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ValueError(f"{where}: expected a list of strings, got {values!r:.80}")
    return tuple(values)


def build_question(where: str, **fields: object) -> EvalQuestion:
    """An `EvalQuestion` whose validation errors say where the row came from."""
    try:
        return EvalQuestion(**fields)  # type: ignore[arg-type]
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from exc


def make_evalset(name: str, corpus: Path, questions: list[EvalQuestion], source: Path) -> EvalSet:
    """An `EvalSet` whose validation errors name the source file."""
    try:
        return EvalSet(name, corpus, tuple(questions))
    except ValueError as exc:
        raise ValueError(f"{source}: {exc}") from exc
