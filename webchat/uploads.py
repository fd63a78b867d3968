"""Files uploaded through the chat: read the ones that may be articles, delete the refused ones."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from qa.errors import CorpusError, QAError
from qa.ingest.uploads import MAX_UPLOAD_BYTES, check_upload


def upload_folder() -> Path:
    """Where Gradio keeps uploaded files (its own rule: GRADIO_TEMP_DIR, else <tmp>/gradio)."""
    return Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio").resolve()


def discard_upload(path: Path) -> None:
    """Delete a refused upload from Gradio's temporary folder (never anything outside it)."""
    try:
        resolved = path.resolve()
        folder = upload_folder()
        if not resolved.is_relative_to(folder) or not resolved.is_file():
            return
        resolved.unlink()
        if resolved.parent != folder and not any(resolved.parent.iterdir()):
            resolved.parent.rmdir()  # the per-upload folder Gradio made for it
    except OSError:
        pass


def read_uploads(paths: list[str]) -> tuple[list[tuple[str, bytes]], list[str]]:
    """The uploads that may be articles, read; a message for each refused one (its file deleted)."""
    accepted, refused = [], []
    for raw in paths:
        path = Path(raw)
        try:
            size = path.stat().st_size
            if size > MAX_UPLOAD_BYTES:  # refused before it is read into memory
                raise CorpusError(
                    f"{path.name!r} is {size // 1024} KiB; articles up to {MAX_UPLOAD_BYTES // 1024} KiB can be added"
                )
            data = path.read_bytes()
            check_upload(path.name, data)
        except (QAError, OSError) as error:
            refused.append(str(error))
            discard_upload(path)
            continue
        accepted.append((path.name, data))
    return accepted, refused
