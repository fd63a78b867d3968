"""Files uploaded through the chat: the refused ones are deleted from Gradio's temporary folder."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


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
