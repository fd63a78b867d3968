"""A build's journal: the work a build has finished, kept on disk until the build is saved.

A first build of a large archive takes long, and a laptop may close or the machine run
out of memory on the way. The build writes each finished piece of work here as it goes:
the entities of every article the parser has read, and the vectors of every batch of
sentences the model has embedded. Run again after being killed at any moment, a build
with the same settings reads the journal back and redoes only what was in flight.

The result is the index an uninterrupted build makes, exactly: entities are looked up by
sentence id (content-hashed: the same text at the same place), and a batch of vectors by
the hash of its sentence ids in order, so only the very batch an uninterrupted build would
embed is taken (int8 vectors depend on the batch they are embedded in, see
`qa.indexing.sentence_vectors`). Every file is written under a temporary name and renamed,
so a file in the journal is always whole; a journal of other settings or another parser is
cleared. The journal lives in the index's home folder as `.journal/` and is removed once
the build it served is saved (and by `qa index --force`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import uuid
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import orjson

from qa.types import Entity

FOLDER = ".journal"
_KEY_FILE = "key.json"
ENTITY_FLUSH = 500  # sentences whose entities are written out together (at most this many parsed again)


class Journal:
    """Finished entities and vector batches of one build, read back by the next run.

    Safe to use from the parsing thread and the embedding threads at once.
    """

    def __init__(self, home: Path, key: Mapping[str, object]) -> None:
        self.folder = home / FOLDER
        self._key = dict(key)
        self._lock = threading.Lock()
        self._pending: dict[str, tuple[Entity, ...]] = {}
        self.entities: dict[str, tuple[Entity, ...]] = {}
        self.batches: set[str] = set()
        self._open()

    def _open(self) -> None:
        try:
            same = json.loads((self.folder / _KEY_FILE).read_text(encoding="utf-8")) == self._key
        except (OSError, ValueError):
            same = False
        if not same:
            clear(self.folder.parent)
            self.folder.mkdir(parents=True, exist_ok=True)
            _write(self.folder / _KEY_FILE, json.dumps(self._key, sort_keys=True).encode("utf-8"))
            return
        for path in sorted(self.folder.glob("entities-*.json")):
            try:
                for sid, rows in orjson.loads(path.read_bytes()).items():
                    self.entities[sid] = tuple(Entity(*row) for row in rows)
            except (OSError, ValueError, TypeError):
                path.unlink(missing_ok=True)  # (never half-written: written whole and renamed)
        self.batches = {p.stem.removeprefix("vectors-") for p in self.folder.glob("vectors-*.npy")}

    def add_entities(self, sentences: Iterable[tuple[str, Sequence[Entity]]]) -> None:
        """Remember the entities of a parsed article's sentences; written out every ENTITY_FLUSH sentences."""
        with self._lock:
            for sid, entities in sentences:
                self._pending[sid] = tuple(entities)
            if len(self._pending) >= ENTITY_FLUSH:
                self._flush()

    def flush(self) -> None:
        """Write out the entities not yet written."""
        with self._lock:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        data = orjson.dumps({sid: [list(e) for e in entities] for sid, entities in self._pending.items()})
        _write(self.folder / f"entities-{uuid.uuid4().hex[:12]}.json", data)
        self.entities.update(self._pending)
        self._pending = {}

    def vectors(self, ids: Sequence[str]) -> np.ndarray | None:
        """The vectors of the batch of these sentence ids, in this order, if a run embedded it."""
        name = batch_name(ids)
        if name not in self.batches:
            return None
        try:
            vectors = np.load(self.folder / f"vectors-{name}.npy", allow_pickle=False)
        except (OSError, ValueError):
            return None
        return vectors if vectors.shape[0] == len(ids) else None

    def add_vectors(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Keep a batch's vectors."""
        name = batch_name(ids)
        partial = self.folder / f".vectors-{name}.{uuid.uuid4().hex[:8]}.tmp"
        with open(partial, "wb") as handle:
            np.save(handle, np.ascontiguousarray(vectors, dtype=np.float32), allow_pickle=False)
        os.replace(partial, self.folder / f"vectors-{name}.npy")
        with self._lock:
            self.batches.add(name)


def batch_name(ids: Sequence[str]) -> str:
    """A batch's name: the hash of its sentence ids in order."""
    return hashlib.sha1("\x1f".join(ids).encode("utf-8")).hexdigest()[:20]


def clear(home: Path) -> None:
    """Remove the journal of the index in `home` (after a build is saved, or for a forced build)."""
    folder = home / FOLDER
    if folder.is_dir() and not folder.is_symlink():
        shutil.rmtree(folder, ignore_errors=True)
    elif folder.exists() or folder.is_symlink():
        folder.unlink(missing_ok=True)


def _write(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    partial.write_bytes(data)
    os.replace(partial, path)
