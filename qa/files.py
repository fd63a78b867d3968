"""File helpers every layer may use (no third-party imports): the SHA-256 of a file's bytes.

The index store checksums its files with it, and the passage reader checks its network
against the digest its model card records.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
