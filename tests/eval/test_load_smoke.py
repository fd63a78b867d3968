"""The load benchmark (eval/load.py) runs end to end, tiny: 2 clients, a handful of requests.

Its figures come from `python -m eval.load`; this only checks that it works and reports.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_load_benchmark_runs_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    done = subprocess.run(
        [sys.executable, "-m", "eval.load", "--scenarios", "chat", "long", "--clients", "2", "--requests", "6",
         "--long-clients", "2", "--normal", "2", "--json", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=600, env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"^chat\s+2 clients\s+6 requests\s+[\d.]+ req/s\s+normal \(6\): p50 [\d.]+ s\s+p95 [\d.]+ s.*"
                     r"errors 0\s+RSS \d+ -> \d+ MiB$", done.stdout, re.MULTILINE), done.stdout
    assert re.search(r"^long\s+2 clients .*normal \(2\): p50 .*long \(\d+\): p50 .*errors 0", done.stdout, re.MULTILINE)
    results = json.loads(out.read_text(encoding="utf-8"))
    assert [r["scenario"] for r in results] == ["chat", "long"]
    chat = results[0]
    assert chat["requests"] == 6 and chat["errors"] == 0 and chat["throughput"] > 0
    assert 0 < chat["normal"]["p50"] <= chat["normal"]["p95"] <= chat["normal"]["max"]
    assert all(r["rss_mib"][0] > 0 and r["rss_mib"][1] > 0 for r in results)


def test_a_failed_request_shows_the_end_of_the_servers_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from eval.load import _show_log_tail

    log = tmp_path / "app.log"
    log.write_text("\n".join(f"line {n}" for n in range(100)) + "\nIndexError: string index out of range\n")
    _show_log_tail(log, lines=3)
    shown = capsys.readouterr().out.splitlines()
    assert shown == [
        "the server's last 3 lines of output (app.log):", "    line 98", "    line 99",
        "    IndexError: string index out of range",
    ]
