"""Start the real web app (`python app.py`) as a subprocess on a free port, for the app tests.

Not a conftest.py on purpose: only the server tests import it, so the unit tests stay fast.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
START_TIMEOUT = 300.0  # first start loads the model and builds the index of the tmp corpus


@dataclass(frozen=True)
class RunningApp:
    """Where a started app listens and which folders it uses."""

    url: str
    corpus: Path
    index_dir: Path
    log: Path
    temp: Path  # the app's temporary folder (TMPDIR)


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_app(
    workdir: Path, extra_articles: dict[str, str] | None = None, articles: Path = SEEDS, more: tuple[Path, ...] = ()
) -> Iterator[RunningApp]:
    """Run app.py on a tmp copy of seeds/ (or of `articles`) and a tmp index folder; always stop it afterwards.

    Args:
        workdir: an empty folder for the corpus copy, the index and the server log.
        extra_articles: file name -> text, added to the corpus copy before start.
        articles: the folder of articles to copy.
        more: further folders, copied beside it under their own names and given as more `--corpus`
            options (the page chooses among them; `RunningApp.corpus` is the first).
    """
    corpus, index_dir, log, temp = workdir / "corpus", workdir / "index", workdir / "app.log", workdir / "tmp"
    temp.mkdir()
    shutil.copytree(articles, corpus)
    options = []
    for folder in more:
        shutil.copytree(folder, workdir / folder.name)
        options += ["--corpus", str(workdir / folder.name)]
    for name, text in (extra_articles or {}).items():
        (corpus / name).write_text(text, encoding="utf-8")
    port = free_port()
    env = {
        **os.environ,
        "QA_CORPUS": str(corpus),
        "QA_INDEX_DIR": str(index_dir),
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "GRADIO_TEMP_DIR": str(workdir / "gradio-tmp"),
        "PYTHONUNBUFFERED": "1",
        "TMPDIR": str(temp),
    }
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "app.py", *(["--corpus", str(corpus), *options] if options else [])], cwd=REPO, env=env,
            stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}/"
        _wait_until_up(url, process, log)
        yield RunningApp(url, corpus, index_dir, log, temp)
    finally:
        _stop(process)
    left = sorted(str(p) for p in (*temp.glob("newsqa-export-*"), *(workdir / "gradio-tmp").rglob("conversation.md")))
    assert not left, f"the stopped app left exported conversations behind: {left}"


def _wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app.py exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url + "config", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"app.py did not answer at {url} in {START_TIMEOUT:.0f}s:\n{log.read_text(errors='replace')}")


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM the app's own process group (it was started in a new session), then SIGKILL."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except ProcessLookupError:
        pass  # already gone
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=15)
