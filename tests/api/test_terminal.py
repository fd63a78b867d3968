"""`qa chat` in a real pseudo-terminal and through a pipe, and progress that leaves no escape codes in a log."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa.terminal import ProgressBars

REPO = Path(__file__).resolve().parents[2]
ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
TURNS = [  # three questions and a follow-up ("she" is Gen. Ruth Adams, named in the question before)
    ("How many visitors attended the lantern festival?", "50,000"),
    ("Who cut the ribbon at the Harbour Bridge?", "Anna Lind"),
    ("Why did Gen. Ruth Adams order the evacuation?", "sea wall was breached"),
    ("And how many residents did she evacuate?", "300"),
]
ANSWER_TIMEOUT = 120.0  # the first read loads the model and builds the index


def environment(index_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TQDM_DISABLE")}
    return {**env, "QA_INDEX_DIR": str(index_dir), "TERM": "xterm-256color", "COLUMNS": "100", "PYTHONUNBUFFERED": "1"}


class Terminal:
    """A process on the slave side of a pseudo-terminal; what it shows is read from the master side."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            args, cwd=REPO, env=env, stdin=slave, stdout=slave, stderr=slave, start_new_session=True
        )
        os.close(slave)
        self.shown = ""

    def until(self, text: str, timeout: float = ANSWER_TIMEOUT) -> str:
        """Everything shown since the last call, up to and including the next `text`.

        What came after `text` in the same read is kept for the next call: a busy machine
        delivers a reply and the prompt after it in one read.
        """
        deadline = time.monotonic() + timeout
        while text not in ESCAPE.sub("", self.shown):
            ready, _, _ = select.select([self.master], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise AssertionError(f"{text!r} did not show in {timeout:.0f}s; shown:\n{self.shown}")
            try:
                self.shown += os.read(self.master, 65536).decode("utf-8", errors="replace")
            except OSError:  # the process ended
                raise AssertionError(f"the process ended before {text!r}; shown:\n{self.shown}") from None
        end = next(i for i in range(len(text), len(self.shown) + 1) if text in ESCAPE.sub("", self.shown[:i]))
        shown, self.shown = self.shown[:end], self.shown[end:]
        return shown

    def type(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode("utf-8"))

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)
        os.close(self.master)


@pytest.mark.slow
def test_a_conversation_in_a_pseudo_terminal(tiny_corpus: Path, tmp_path: Path) -> None:
    terminal = Terminal([sys.executable, "-m", "qa.cli", "chat", "--corpus", str(tiny_corpus)], environment(tmp_path / "i"))
    try:
        terminal.until("/quit leaves.")
        terminal.until("> ")
        rendered = ""
        for question, expected in TURNS:
            terminal.type(question)
            reply = terminal.until("> ")
            assert expected in ESCAPE.sub("", reply), reply
            rendered += reply
        assert ESCAPE.search(rendered), "a terminal gets rich's rendering (bold answers, a coloured label)"
        assert "**" not in rendered
        terminal.type("/sources")
        sources = ESCAPE.sub("", terminal.until("> "))
        assert "[1] “Gen. Ruth Adams ordered the evacuation of 300 residents" in sources
        assert "(storm, characters" in sources
        terminal.type("/open 1")
        assert "A storm closed the port of Port Ellis on Tuesday" in ESCAPE.sub("", terminal.until("> "))
        terminal.type("/history")
        history = ESCAPE.sub("", terminal.until("> "))
        assert "4. And how many residents did she evacuate?  →  300" in history
        terminal.type("/clear")
        terminal.until("> ")
        terminal.type("/history")
        assert "No questions asked yet." in terminal.until("> ")
        terminal.type("/quit")
        assert terminal.process.wait(timeout=30) == 0
    finally:
        terminal.close()


@pytest.mark.slow
def test_a_piped_conversation_is_plain_text(tiny_corpus: Path, tmp_path: Path) -> None:
    typed = "".join(f"{question}\n" for question, _ in TURNS) + "/sources\n/quit\n"
    result = subprocess.run(
        [sys.executable, "-m", "qa.cli", "chat", "--corpus", str(tiny_corpus)], input=typed, cwd=REPO,
        env=environment(tmp_path / "i"), capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    for _, expected in TURNS:
        assert expected in result.stdout
    for output in (result.stdout, result.stderr):
        assert "\x1b" not in output and "\r" not in output  # no escape codes, no redrawn progress
        assert all(line == line.rstrip() for line in output.splitlines())  # nothing padded to a width
    assert "**" not in result.stdout and re.search(r"^confidence [01]\.\d\d$", result.stdout, re.MULTILINE)


def test_progress_into_a_log_is_one_plain_line_per_stage() -> None:
    log = io.StringIO()
    with ProgressBars(log) as bars:
        for done in range(0, 101, 25):
            bars.update("embedding sentences", done, 100)
        bars.update("reading articles", 3, 3)  # too small to show
    assert log.getvalue() == "embedding sentences: 100 of 100\n"
    assert bars.built
