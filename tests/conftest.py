"""Shared fixtures: tiny article folders, a deterministic fake embedder, real settings."""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings as hypothesis_settings

from qa.config import Settings
from qa.text import content_tokens

# Property tests: the default "ci" profile is derandomised (a fixed seed, no example database),
# so a run of the README's test command cannot fail at random on a case an earlier run found;
# "release" draws new examples each run, ten times as many (HYPOTHESIS_PROFILE=release, see README).
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
hypothesis_settings.register_profile("release", max_examples=1000, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_terminal_summary(terminalreporter) -> None:
    """The machine and the numeric packages, at the end of every run (a quiet one too): the int8
    models' numbers, and so a close answer, can move with the CPU's instructions and these versions."""
    for line in _machine():
        terminalreporter.write_line(line)


def _machine() -> list[str]:
    """The CPU's name and the vector instructions the int8 kernels choose by, and the versions of
    the packages that compute the models' numbers."""
    info = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    cpu = info.get("model name") or platform.machine()
    wide = sorted(set(info.get("flags", "").split()) & {"avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8"})
    versions = []
    for name in ("onnxruntime", "torch", "transformers", "tokenizers", "numpy", "spacy", "faiss-cpu"):
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} absent")
    return [f"machine: {cpu}, {os.cpu_count()} cores, {' '.join(wide) or 'no avx2'}", "packages: " + ", ".join(versions)]


REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"

ARTICLES = {
    "harbour.txt": (
        "Harbour Bridge Reopens After Repairs\n\n"
        "The Harbour Bridge reopened on Monday after six months of repairs, the city council said.\n\n"
        "Mayor Anna Lind cut the ribbon at 9 a.m. in front of 2,000 people.\n\n"
        "The repairs cost $40 million, according to Mr. Paul Okafor of the U.S. firm Steelworks Inc.\n"
    ),
    "festival.md": (
        "# Lantern Festival Draws Record Crowd\n\n"
        "More than 50,000 visitors attended the lantern festival in Riverton on Saturday.\n\n"
        "Organiser Maria Chen said the festival... has never been this busy.\n"
    ),
    "storm.txt": (
        "Image copyright Reuters Image caption Waves hit the coast at Port Ellis\n\n"
        "A storm closed the port of Port Ellis on Tuesday, officials said.\n\n"
        "Gen. Ruth Adams ordered the evacuation of 300 residents because the sea wall was breached.\n"
    ),
}


class FakeEmbedder:
    """Hashed bag-of-stems vectors: deterministic, instant, similar texts are near."""

    name = "fake"
    dimension = 64

    def __init__(self) -> None:
        self.calls = 0
        self.texts_seen = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        self.texts_seen += len(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in content_tokens(text) or ["<empty>"]:
                bucket = int(hashlib.md5(token.encode()).hexdigest(), 16) % self.dimension
                out[row, bucket] += 1.0
            out[row] /= np.linalg.norm(out[row])
        return out


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    for name, text in ARTICLES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def fake_settings(tmp_path: Path) -> Settings:
    return Settings(model="fake", index_dir=tmp_path / "index", annotator="rules")


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="session")
def seeds_index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One index folder for every real-model test of the session."""
    return tmp_path_factory.mktemp("seeds-index")


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target
