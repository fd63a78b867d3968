"""The real web app, end to end: `python app.py` on a free port, asked through gradio_client.

Real model, real index (in a tmp folder), real server; the corpus is a tmp copy of seeds/,
so uploads never touch the repository.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

import pytest

from conftest_app import REPO, RunningApp, running_app

gradio_client = pytest.importorskip("gradio_client")
Client, handle_file = gradio_client.Client, gradio_client.handle_file

pytestmark = pytest.mark.slow

PLEDGE = "Who accepted Boko Haram's pledge of allegiance and when?"
FOLLOW_UP = "And who is their leader?"
IS_NAMES = re.compile(r"\b(Islamic State|ISIS|IS)\b")

LIGHTHOUSE = """Keeper Retires From Varnholt Lighthouse

The Varnholt lighthouse on the island of Osterby was kept for forty-one years by Margit Oyelaran, who retired on Tuesday.

Oyelaran said the lamp was first lit in 1887 and that the tower is painted in red and white bands.

The island council will choose a new keeper in the spring.
"""

# Question -> what the answer line (the reply before its source list) must say.
CONCURRENT = {
    PLEDGE: "Thursday",
    "Who is the ISIS spokesman?": "Adnani",
    "When was Boko Haram founded?": "2002",
    "How many lives has the insurgency claimed?": "13,000",
    "Which city was hit by four bombs?": "Maiduguri",
    "Who is the leader of Boko Haram?": "Shekau",
    "When did Boko Haram begin its military campaign?": "2009",
    "zzqx blorf vlim?": "Not in these articles",
}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    with running_app(tmp_path_factory.mktemp("app")) as running:
        yield running


@pytest.fixture(scope="module")
def client(app: RunningApp) -> Client:
    return Client(app.url, verbose=False)


def answer_lines(reply: str) -> str:
    """The reply without its numbered source list: the answer the user reads first."""
    return reply.split("\n[1] ", 1)[0]


def test_chat_endpoint_answers_with_a_citation(client: Client) -> None:
    reply = client.predict(PLEDGE, api_name="/chat")
    assert isinstance(reply, str)
    assert IS_NAMES.search(reply), reply
    assert "Thursday" in answer_lines(reply), reply
    assert "[1]" in answer_lines(reply) and "\n[1] “" in reply, reply  # a marker and its source


def test_pledge_who_part_names_the_islamic_state(client: Client) -> None:
    answer = client.predict(PLEDGE, [], api_name="/ask")
    who = answer["parts"][0]
    assert who["answer_type"] == "person" or who["question"].lower().startswith("who")
    assert IS_NAMES.search(who["answer"]), who


def test_follow_up_question_uses_the_conversation(client: Client) -> None:
    first = client.predict(PLEDGE, [], api_name="/ask")
    follow = client.predict(FOLLOW_UP, [[PLEDGE, first["text"]]], api_name="/ask")
    alone = client.predict(FOLLOW_UP, [], api_name="/ask")
    assert follow["answerable"], follow["text"]
    # the follow-up is answered in its conversation and as asked; the better supported answer is kept
    assert follow["confidence"] >= alone["confidence"]
    # the outcome: the reply brings up the Islamic State's leader
    assert "Baghdadi" in follow["text"], follow["text"]


def test_follow_up_short_answer_is_the_leader(client: Client) -> None:
    first = client.predict(PLEDGE, [], api_name="/ask")
    follow = client.predict(FOLLOW_UP, [[PLEDGE, first["text"]]], api_name="/ask")
    assert "Baghdadi" in follow["answer"], follow["answer"]


def test_absent_question_is_not_found_and_shows_nearest_passages(client: Client) -> None:
    answer = client.predict("zzqx blorf vlim?", [], api_name="/ask")
    assert answer["answerable"] is False
    assert answer["answer"] == ""
    assert answer["citations"], "the nearest passages are still given"
    reply = client.predict("zzqx blorf vlim?", api_name="/chat")
    assert reply.startswith("**Not in these articles.**")
    assert "\n[1] “" in reply


def test_question_about_something_else_is_not_found(client: Client) -> None:
    answer = client.predict("What is the capital of France?", [], api_name="/ask")
    assert answer["answerable"] is False, answer["text"]


def test_empty_question_is_refused_with_a_message(app: RunningApp, client: Client) -> None:
    logged = len(app.log.read_text(errors="replace"))
    with pytest.raises(Exception, match="(?i)question"):
        client.predict("   ", api_name="/chat")
    with pytest.raises(Exception, match="(?i)question"):
        client.predict("", [], api_name="/ask")
    new = app.log.read_text(errors="replace")[logged:]
    assert "Traceback" not in new, new  # a user's mistake is one log line each, not a traceback
    assert new.count("refused a request: the question is empty") == 2, new


def test_eight_concurrent_questions_are_all_answered_correctly(app: RunningApp, client: Client) -> None:
    alone = {q: client.predict(q, api_name="/chat") for q in CONCURRENT}
    clients = [Client(app.url, verbose=False) for _ in CONCURRENT]
    start = threading.Barrier(len(CONCURRENT))

    def ask(pair: tuple[Client, str]) -> str:
        own_client, question = pair
        start.wait(timeout=60)
        return own_client.predict(question, api_name="/chat")

    with ThreadPoolExecutor(max_workers=len(CONCURRENT)) as pool:
        replies = dict(zip(CONCURRENT, pool.map(ask, zip(clients, CONCURRENT))))
    # first what concurrency must not change: each reply is the one it gets when asked alone
    assert {q: replies[q] == alone[q] for q in CONCURRENT} == {q: True for q in CONCURRENT}
    # then that the replies are right (a failure here is answer quality, not concurrency)
    wrong = {q: answer_lines(r) for q, r in replies.items() if CONCURRENT[q] not in answer_lines(r)}
    assert wrong == {}


def test_uploaded_article_is_searchable_without_restart(app: RunningApp, client: Client, tmp_path: Path) -> None:
    upload = tmp_path / "Varnholt lighthouse.txt"
    upload.write_text(LIGHTHOUSE, encoding="utf-8")
    status, listing = client.predict([handle_file(str(upload))], api_name="/add_articles")
    assert "Added and indexed" in status and "Varnholt_lighthouse.txt" in status, status
    assert "Keeper Retires From Varnholt Lighthouse" in listing
    assert (app.corpus / "Varnholt_lighthouse.txt").read_text(encoding="utf-8") == LIGHTHOUSE
    assert not (REPO / "seeds" / "Varnholt_lighthouse.txt").exists()

    reply = client.predict("Who kept the Varnholt lighthouse?", api_name="/chat")
    assert "(Varnholt\\_lighthouse)" in reply, reply  # searchable (doc id markdown-escaped): cited from the new article
    assert "Margit Oyelaran" in answer_lines(reply), reply  # and answered right


def test_upload_of_a_binary_file_is_refused_with_a_clear_message(client: Client, tmp_path: Path) -> None:
    binary = tmp_path / "photo.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    status, _ = client.predict([handle_file(str(binary))], api_name="/add_articles")
    assert "Not added" in status and "binary" in status, status


def call_raw(app: RunningApp, api: str, body: str) -> tuple[str, object]:
    """Call an endpoint with a JSON body as written (a client library would refuse a lone surrogate)."""
    import httpx

    posted = httpx.post(f"{app.url}gradio_api/call/{api}", content=body,
                        headers={"content-type": "application/json"}, timeout=60)
    posted.raise_for_status()
    event = None
    with httpx.stream("GET", f"{app.url}gradio_api/call/{api}/{posted.json()['event_id']}", timeout=60) as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                return event, json.loads(line.split(":", 1)[1])
    raise AssertionError(f"no result (last event {event!r})")


def test_a_lone_surrogate_gets_a_clear_error_not_an_empty_one(app: RunningApp) -> None:
    body = json.dumps({"data": ["Who accepted \ud800 the pledge?"]})  # JSON escapes it as \\ud800
    assert "\\ud800" in body
    event, payload = call_raw(app, "chat", body)
    assert event == "error" and payload, payload
    assert re.search("invalid character .*surrogate", str(payload)), payload


@pytest.mark.parametrize(
    ("history", "match"),
    [("not a list", "history must be a list"), ([["only a question"]], "turn 1 of the history"), ([[1, 2]], "other than text")],
)
def test_malformed_history_gets_a_clear_error(client: Client, history, match: str) -> None:
    with pytest.raises(Exception, match=match):
        client.predict(PLEDGE, history, api_name="/ask")


def test_a_question_of_many_parts_is_cut_and_says_so(client: Client) -> None:
    question = "Who accepted the pledge" + " and who" * 240 + "?"
    answer = client.predict(question, [], api_name="/ask")
    assert len(answer["parts"]) <= 4
    assert any("only the first 4 are answered" in note for note in answer["notes"]), answer["notes"]
    reply = client.predict(question, api_name="/chat")
    assert "Note: the question has" in reply and len(reply) < 12_000


def test_refused_uploads_are_deleted_from_the_upload_folder(app: RunningApp, client: Client, tmp_path: Path) -> None:
    binary = tmp_path / "refused-photo.txt"
    binary.write_bytes(bytes(range(1, 32)) * 64)  # control characters, no NUL
    status, _ = client.predict([handle_file(str(binary))], api_name="/add_articles")
    assert "Not added" in status and "binary" in status, status
    uploads = app.index_dir.parent / "gradio-tmp"
    assert not [p for p in uploads.rglob("refused-photo.txt")], "the refused upload is still on the server"
    assert not (app.corpus / "refused-photo.txt").exists()


def test_questions_are_answered_while_an_upload_is_indexed(app: RunningApp, client: Client, tmp_path: Path) -> None:
    paragraph = " ".join(
        f"The ferry council of Ostrava{n} met on Monday and voted on route {n}." for n in range(40)
    )
    article = tmp_path / "long council report.txt"
    article.write_text("Long Council Report\n\n" + "\n\n".join([paragraph] * 40), encoding="utf-8")
    uploader = Client(app.url, verbose=False)
    with ThreadPoolExecutor(max_workers=1) as pool:
        upload = pool.submit(uploader.predict, [handle_file(str(article))], api_name="/add_articles")
        replies = []
        while not upload.done() and len(replies) < 20:
            replies.append(client.predict(PLEDGE, api_name="/chat"))
        status, _ = upload.result(timeout=600)
    assert "Added and indexed" in status, status
    assert replies and all("Thursday" in answer_lines(r) for r in replies), replies[:1]
    assert any("index is being updated" in r for r in replies), "no reply came while the build ran"


def test_missing_corpus_folder_is_reported_at_start(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder"
    done = subprocess.run(
        [sys.executable, "app.py", "--corpus", str(missing)], cwd=REPO, capture_output=True, text=True,
        timeout=120, env={**os.environ, "QA_INDEX_DIR": str(tmp_path / "index")},
    )
    assert done.returncode == 2
    assert "does not exist" in done.stderr and str(missing) in done.stderr


DUMP_ROWS = [
    {"id": "ferry-1", "title": "Island Ferry Named", "outlet": "Orkvik Post", "published": "2015-03-13",
     "text": "Island Ferry Named\n\nThe new Orkvik island ferry was named Morning Tern at a ceremony on Thursday."},
    "this line is not JSON",
]


def test_a_jsonl_upload_is_indexed_and_filters_reach_the_api(client: Client, tmp_path: Path) -> None:
    dump = tmp_path / "orkvik.jsonl"
    dump.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in DUMP_ROWS) + "\n", encoding="utf-8")
    status, listing = client.predict([handle_file(str(dump))], api_name="/add_articles")
    assert "Added and indexed" in status, status
    assert "Island Ferry Named" in listing and "Orkvik Post" in listing and "13 March 2015" in listing
    question = "When was the Orkvik island ferry named?"
    found = client.predict(question, [], "", "", ["Orkvik Post"], api_name="/ask")
    assert [c["doc_id"] for c in found["citations"]] == ["orkvik#ferry-1"], found["text"]
    assert found["parts"][0]["resolved_date"] == "2015-03-12", found["text"]
    assert found["citations"][0]["outlet"] == "Orkvik Post" and found["citations"][0]["published"] == "2015-03-13"
    nothing = client.predict(question, [], "2016-01-01", "", None, api_name="/ask")
    assert not nothing["answerable"] and "No article matches the filter" in nothing["text"]
    with pytest.raises(Exception, match="published_from must be a date"):
        client.predict(question, [], "yesterday-ish", "", None, api_name="/ask")


def test_raw_uploads_past_the_per_client_quota_are_refused(app: RunningApp) -> None:
    import urllib.error
    import urllib.request
    import uuid

    from webchat.quota import UPLOADS_PER_WINDOW

    def upload(number: int) -> int:
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"x{number}.bin\"\r\n"
                f"Content-Type: application/octet-stream\r\n\r\n").encode() + b"MZ" * 10 + f"\r\n--{boundary}--\r\n".encode()
        request = urllib.request.Request(app.url.rstrip("/") + "/gradio_api/upload", data=body,
                                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        try:
            return urllib.request.urlopen(request, timeout=30).status
        except urllib.error.HTTPError as error:
            return error.code

    statuses = [upload(n) for n in range(UPLOADS_PER_WINDOW + 2)]
    assert 429 in statuses and statuses.index(429) <= UPLOADS_PER_WINDOW  # earlier tests may have uploaded too
