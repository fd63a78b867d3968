"""The docs: the README stays a first screen, its links lead somewhere, and the site builds strictly."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO


def test_the_readme_is_short_and_every_link_it_makes_exists() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    lines = readme.splitlines()
    assert len(lines) < 250
    first_screen = lines[: next(i for i, line in enumerate(lines) if line.startswith("## Documentation"))]
    assert len(first_screen) < 80
    for target in re.findall(r"\]\(([^)#]+\.md)\)", readme):
        assert (REPO / target).is_file(), target


@pytest.mark.slow
def test_the_docs_site_builds_without_a_warning(tmp_path: Path) -> None:
    if shutil.which("mkdocs") is None and subprocess.run([sys.executable, "-c", "import mkdocs"]).returncode:
        pytest.skip("mkdocs is not installed (pip install -e '.[docs]')")
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    assert (tmp_path / "site" / "api" / "index.html").read_text(encoding="utf-8").count("Answer") > 3
