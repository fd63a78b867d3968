"""Load benchmark of the chat server: concurrent /chat clients, long questions, an upload.

    python -m eval.load                                  # start app.py on 127.0.0.1, run every scenario
    python -m eval.load --scenarios chat --clients 8 32 --requests 200
    python -m eval.load --url http://127.0.0.1:7860/     # a server already running (adds an article!)

Scenarios (each bounded by a number of requests and a timeout per request):

    chat    N clients ask normal questions on /chat, `--requests` in all
    mixed   the same, with one long question in eight and an upload being indexed
    long    16 clients ask long questions without pause while one client asks normal ones
    upload  an article of `--upload-kib` KiB is uploaded; 8 clients ask /chat while it is indexed

Each prints one line: throughput, p50/p95/max latency of the normal questions (and of the
long ones apart), errors, and the server's resident memory before and after. Only
127.0.0.1 is ever contacted. A started server uses a temporary copy of seeds/ and a
temporary index folder, and is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse

import httpx

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
START_TIMEOUT_S = 300.0
REQUEST_TIMEOUT_S = 120.0
LOG_TAIL_LINES = 60  # of the server's output, shown when a request failed
NORMAL_QUESTIONS = (
    "Who accepted the pledge and when?",
    "Who is the ISIS spokesman?",
    "When was Boko Haram founded?",
    "How many lives has the insurgency claimed?",
    "Which city was hit by four bombs?",
    "Who is the leader of Boko Haram?",
    "When did Boko Haram begin its military campaign?",
    "What is the capital of France?",
)
# The question of the issue: 2,000 characters of "... and who and who ...".
LONG_QUESTION = ("Who accepted the pledge" + " and who" * 300)[:1999] + "?"
SCENARIOS = ("chat", "mixed", "long", "upload")


@dataclass
class Tally:
    """Latencies and errors of one scenario, filled from several threads."""

    normal: list[float] = field(default_factory=list)
    long: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float, error: str | None, long: bool = False) -> None:
        with self.lock:
            if error is not None:
                self.errors.append(error)
            else:
                (self.long if long else self.normal).append(seconds)


@dataclass(frozen=True)
class Server:
    url: str
    pid: int | None
    log: Path | None = None  # the server's output, where this benchmark started it


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running server on 127.0.0.1 (default: start app.py on a free port)")
    parser.add_argument("--scenarios", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument("--clients", nargs="+", type=int, default=[8, 32], help="client counts for chat and mixed")
    parser.add_argument("--requests", type=int, default=200, help="requests per chat or mixed run")
    parser.add_argument("--long-clients", type=int, default=16)
    parser.add_argument("--normal", type=int, default=10, help="normal questions asked in the long scenario")
    parser.add_argument("--upload-kib", type=int, default=256, help="size of the uploaded article")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.url and urlparse(args.url).hostname not in ("127.0.0.1", "localhost"):
        parser.error("only a server on 127.0.0.1 may be loaded")
    if min(args.clients) < 1 or args.requests < 1:
        parser.error("--clients and --requests must be at least 1")
    results = []
    with _server(args.url) as server:
        print(f"eval.load: {server.url} on {os.cpu_count()} CPU cores, Python {sys.version.split()[0]}", flush=True)
        _call(httpx.Client(), server.url, "chat", [NORMAL_QUESTIONS[0]])  # warm up
        for scenario in args.scenarios:
            runs = [args.clients] if scenario in ("chat", "mixed") else [[0]]
            for clients in runs[0]:
                results.append(_run(scenario, server, clients, args))
        if any(r["errors"] for r in results) and server.log is not None:
            _show_log_tail(server.log)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 1 if any(r["errors"] for r in results) else 0


def _run(scenario: str, server: Server, clients: int, args: argparse.Namespace) -> dict:
    rss_before = _rss_mib(server.pid)
    tally = Tally()
    upload = None
    if scenario in ("mixed", "upload"):
        upload = _start_upload(server.url, args.upload_kib, tally)
        time.sleep(1.0)  # the article is stored and its build under way
    started = time.perf_counter()
    if scenario == "chat":
        _closed_loop(server.url, clients, args.requests, tally, long_every=0)
    elif scenario == "mixed":
        _closed_loop(server.url, clients, args.requests, tally, long_every=8)
    elif scenario == "long":
        clients = args.long_clients
        _long_against_normal(server.url, args.long_clients, args.normal, tally)
    else:
        clients = 8
        _while_running(server.url, clients, upload, args.requests, tally)
    seconds = time.perf_counter() - started  # the requests only, not the rest of the upload's build
    during = upload is not None and upload.is_alive()
    extra = f"  upload {_finish(upload)}{', all requests during its build' if during else ''}" if upload else ""
    rss_after = _rss_mib(server.pid)
    done = len(tally.normal) + len(tally.long)
    result = {
        "scenario": scenario,
        "clients": clients,
        "requests": done + len(tally.errors),
        "seconds": round(seconds, 2),
        "throughput": round(done / seconds, 2) if seconds else 0.0,
        "normal": _summary(tally.normal),
        "long": _summary(tally.long),
        "errors": len(tally.errors),
        "first_errors": tally.errors[:3],
        "rss_mib": [rss_before, rss_after],
        "upload": extra.strip(),
    }
    print(_line(result) + extra, flush=True)
    for error in tally.errors[:3]:
        print(f"    error: {error}", flush=True)
    return result


def _line(r: dict) -> str:
    def lat(s: dict) -> str:
        return f"p50 {s['p50']:.2f} s  p95 {s['p95']:.2f} s  max {s['max']:.2f} s" if s["n"] else "none"

    rss = r["rss_mib"]
    memory = f"RSS {rss[0]:.0f} -> {rss[1]:.0f} MiB" if None not in rss else "RSS n/a"
    long = f"  long ({r['long']['n']}): {lat(r['long'])}" if r["long"]["n"] else ""
    return (
        f"{r['scenario']:<6} {r['clients']:>2} clients  {r['requests']:>4} requests  {r['throughput']:6.1f} req/s  "
        f"normal ({r['normal']['n']}): {lat(r['normal'])}{long}  errors {r['errors']}  {memory}"
    )


def _summary(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "p50": round(statistics.median(ordered), 3),
        "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 3),
        "max": round(ordered[-1], 3),
    }


def _closed_loop(url: str, clients: int, requests: int, tally: Tally, long_every: int) -> None:
    """`clients` threads, each asking as soon as its last answer came, until `requests` are done."""
    counter = iter(range(requests))
    counter_lock = threading.Lock()

    def client(_: int) -> None:
        with httpx.Client() as session:
            while True:
                with counter_lock:
                    number = next(counter, None)
                if number is None:
                    return
                long = long_every > 0 and number % long_every == long_every - 1
                question = LONG_QUESTION if long else NORMAL_QUESTIONS[number % len(NORMAL_QUESTIONS)]
                tally.add(*_timed(session, url, question), long=long)

    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(client, range(clients)))


def _long_against_normal(url: str, long_clients: int, normal: int, tally: Tally) -> None:
    """Long questions without pause from `long_clients` threads; `normal` short ones meanwhile."""
    stop = threading.Event()

    def long_client(_: int) -> None:
        with httpx.Client() as session:
            while not stop.is_set():
                tally.add(*_timed(session, url, LONG_QUESTION), long=True)

    with ThreadPoolExecutor(max_workers=long_clients) as pool:
        futures = [pool.submit(long_client, i) for i in range(long_clients)]
        time.sleep(2.0)  # let the long questions fill every slot first
        with httpx.Client() as session:
            for number in range(normal):
                tally.add(*_timed(session, url, NORMAL_QUESTIONS[number % len(NORMAL_QUESTIONS)]))
                time.sleep(0.2)
        stop.set()
        for future in futures:
            future.result()


def _while_running(url: str, clients: int, upload: threading.Thread, cap: int, tally: Tally) -> None:
    """/chat from `clients` threads for as long as the upload is being indexed (at most `cap` requests)."""
    counter = iter(range(cap))
    counter_lock = threading.Lock()

    def client(_: int) -> None:
        with httpx.Client() as session:
            while upload.is_alive():
                with counter_lock:
                    number = next(counter, None)
                if number is None:
                    return
                tally.add(*_timed(session, url, NORMAL_QUESTIONS[number % len(NORMAL_QUESTIONS)]))

    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(client, range(clients)))


def _timed(session: httpx.Client, url: str, question: str) -> tuple[float, str | None]:
    started = time.perf_counter()
    try:
        _call(session, url, "chat", [question])
        return time.perf_counter() - started, None
    except Exception as error:  # noqa: BLE001 - every failure is counted and shown
        return time.perf_counter() - started, f"{type(error).__name__}: {str(error)[:200]}"


def _call(session: httpx.Client, url: str, api: str, data: list) -> object:
    """One call of a Gradio API endpoint over its REST interface; the output, or an exception."""
    response = session.post(f"{url}gradio_api/call/{api}", json={"data": data}, timeout=REQUEST_TIMEOUT_S)
    response.raise_for_status()
    event_id = response.json()["event_id"]
    event = None
    with session.stream("GET", f"{url}gradio_api/call/{api}/{event_id}", timeout=REQUEST_TIMEOUT_S) as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                payload = json.loads(line.split(":", 1)[1])
                if event == "error":
                    raise RuntimeError(f"server error: {payload}")
                return payload
    raise RuntimeError(f"no result for {api} (last event {event!r})")


def _start_upload(url: str, kib: int, tally: Tally) -> threading.Thread:
    """Upload a fresh article of about `kib` KiB in a thread; its status is kept on the thread."""
    from gradio_client import Client, handle_file

    folder = Path(tempfile.mkdtemp(prefix="qa-load-"))
    article = folder / f"load-article-{int(time.time())}.txt"
    article.write_text(_article(kib), encoding="utf-8")

    def upload() -> None:
        started = time.perf_counter()
        try:
            status, _ = Client(url, verbose=False).predict([handle_file(str(article))], api_name="/add_articles")
            outcome = "indexed" if "Added and indexed" in status else f"refused ({status})"
            thread.status = f"{outcome} in {time.perf_counter() - started:.1f} s"
        except Exception as error:  # noqa: BLE001
            thread.status = f"failed: {error}"
            tally.add(0.0, f"upload: {error}")
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    thread = threading.Thread(target=upload, daemon=True)
    thread.status = "unfinished"  # type: ignore[attr-defined]
    thread.start()
    return thread


def _finish(upload: threading.Thread) -> str:
    upload.join(timeout=START_TIMEOUT_S)
    return getattr(upload, "status", "unfinished")


def _article(kib: int) -> str:
    """A long article of short, varied sentences in paragraphs, new each run."""
    rng = random.Random(time.time_ns())
    names = ["Ada Okafor", "Lars Lind", "Mei Chen", "Omar Haddad", "Ruth Adams", "Ivo Petrov"]
    towns = ["Riverton", "Port Ellis", "Grimsholt", "Osterby", "Maple Bay", "Karsk"]
    days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
    lines = [f"Harbour Council Report {rng.randrange(10**9)}", ""]
    size = 0
    while size < kib * 1024:
        paragraph = " ".join(
            f"{rng.choice(names)} said the {rng.choice(['council', 'port', 'school', 'ferry'])} in "
            f"{rng.choice(towns)} would open on {rng.choice(days)} after {rng.randrange(2, 90)} weeks."
            for _ in range(5)
        )
        lines += [paragraph, ""]
        size += len(paragraph) + 1
    return "\n".join(lines)


def _rss_mib(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


@contextmanager
def _server(url: str | None) -> Iterator[Server]:
    if url:
        yield Server(url if url.endswith("/") else url + "/", None)
        return
    work = Path(tempfile.mkdtemp(prefix="qa-load-server-"))
    corpus = work / "corpus"
    shutil.copytree(SEEDS, corpus)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ, "QA_CORPUS": str(corpus), "QA_INDEX_DIR": str(work / "index"),
        "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
        "GRADIO_ANALYTICS_ENABLED": "False", "GRADIO_TEMP_DIR": str(work / "gradio-tmp"), "PYTHONUNBUFFERED": "1",
    }
    log = open(work / "app.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "app.py"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        base = f"http://127.0.0.1:{port}/"
        _wait_until_up(base, process, work / "app.log")
        yield Server(base, process.pid, work / "app.log")
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)
        log.close()
        shutil.rmtree(work, ignore_errors=True)


def _show_log_tail(log: Path, lines: int = LOG_TAIL_LINES) -> None:
    """The end of the started server's output, where the traceback of a failed request is."""
    tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    print(f"the server's last {len(tail)} lines of output ({log.name}):", flush=True)
    for line in tail:
        print(f"    {line}", flush=True)


def _wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app.py exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(url + "config", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"app.py did not answer at {url} in {START_TIMEOUT_S:.0f} s")


if __name__ == "__main__":
    raise SystemExit(main())
