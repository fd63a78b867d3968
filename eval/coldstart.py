"""Cold start: the first `ask()` in a fresh process with no index, then the later asks.

    python -m eval.coldstart [--runs 3]

Each run is a new Python process with an empty index folder, so the time of the first
answer includes importing the stack, loading the models and building the seed index.
The later asks are the seed question set, answered in the same process afterwards.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

QUESTION = "Who accepted the pledge and when?"

_CHILD = """
import json, sys, time
started = time.perf_counter()
from qa import ask
first = ask({question!r})
first_seconds = time.perf_counter() - started
from eval.seedset import load_seed_set
questions = [q.question for q in load_seed_set().questions]
later = []
for question in questions:
    t = time.perf_counter()
    ask(question)
    later.append(time.perf_counter() - t)
print(json.dumps({{"first_seconds": first_seconds, "later_seconds": later, "answer": first.answer}}))
"""


def run_once(repo: Path) -> dict:
    """One cold process: seconds to the first answer and per-question seconds after it."""
    with tempfile.TemporaryDirectory() as index_dir:
        env_code = _CHILD.format(question=QUESTION)
        result = subprocess.run(
            [sys.executable, "-c", env_code],
            cwd=repo,
            env={**_environ(), "QA_INDEX_DIR": index_dir},
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(result.stdout.strip().splitlines()[-1])


def _environ() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k not in ("QA_INDEX_DIR", "QA_CORPUS")}


def main(argv: list[str] | None = None) -> int:
    """Run cold starts and print their figures."""
    parser = argparse.ArgumentParser(prog="python -m eval.coldstart", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    repo = Path(__file__).resolve().parent.parent
    firsts, later = [], []
    for _ in range(args.runs):
        run = run_once(repo)
        firsts.append(run["first_seconds"])
        later.extend(run["later_seconds"])
        print(f"first ask (fresh process, empty index): {run['first_seconds']:.2f} s -> {run['answer']!r}")
    later_ms = sorted(1000 * s for s in later)
    p95 = later_ms[min(len(later_ms) - 1, int(round(0.95 * (len(later_ms) - 1))))]
    print(
        f"first ask over {args.runs} runs: median {statistics.median(firsts):.2f} s, max {max(firsts):.2f} s; "
        f"later asks ({len(later_ms)}): median {statistics.median(later_ms):.1f} ms, p95 {p95:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
