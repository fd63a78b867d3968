"""Web chat over a folder of news articles: answers with [n] markers, evidence beside them.

    python app.py                      # the bundled seeds/ (or env QA_CORPUS)
    python app.py --corpus my/articles

Serves on 127.0.0.1:7860 unless GRADIO_SERVER_NAME / GRADIO_SERVER_PORT say otherwise.
API (gradio_client): "/chat" (message -> reply markdown), "/ask" (message, history ->
the answer as JSON), "/add_articles" (files -> status, article table).
A thin shell: retrieval and answering live in `qa`, formatting in `qa.reply.present`.

Under load: questions and uploads queue apart (an upload's build never takes a question's
place), questions are answered from the last good index while a build runs, and long
questions (many parts, many words) take turns in a few slots of their own, so they cannot
starve the short ones.
"""

import argparse
import dataclasses
import os
import sys
import tempfile
import threading
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import gradio as gr

import qa
from qa.answer.question import QuestionWarning, part_count
from qa.api import resolve_corpus, updating
from qa.config import Settings, settings_from_env
from qa.errors import CorpusError, QAError
from qa.indexing.memory import SearchIndex
from qa.ingest.corpus import list_articles, scan
from qa.ingest.uploads import MAX_UPLOAD_BYTES, add_article, check_upload
from qa.reply import present
from qa.types import Answer

SHARDED_UPLOADS = (
    "This chat answers from a sharded index, served as it was built: put the files in the corpus "
    "folder, run `qa index CORPUS --ray` and restart the chat."
)
EXAMPLES = (
    "Who accepted the pledge and when?",
    "Who is the ISIS spokesman?",
    "When was Boko Haram founded?",
    "How many lives has the insurgency claimed?",
    "Which city was hit by four bombs?",
)
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
EMPTY_EVIDENCE = '<p class="qa-empty">Sources of the latest answer appear here.</p>'
# Questions taken off Gradio's queue at once (the index is shared read-only). Above the
# long-question slots, so long questions waiting for a slot never hold up short ones.
QUESTION_CONCURRENCY = 16
UPLOAD_CONCURRENCY = 1  # uploads are indexed one at a time, in a queue of their own
QUEUE_SIZE = 512  # waiting requests beyond this are refused at once ("queue full") instead of timing out
LONG_QUESTION_CHARS = 300  # longer, or more than two parts: a long question
LONG_QUESTION_SLOTS = 2  # long questions answered at once; the others wait for a slot
LONG_QUESTION_WAIT_S = 20.0  # a long question waiting longer than this is refused with a message
UPDATING = (
    "The index is being updated with new or changed articles; "
    "this answer comes from the articles indexed so far."
)

CSS = """
.qa-evidence h3 { margin: .6em 0 .3em; }
.qa-banner { padding: .5em .8em; border-radius: 6px; margin-bottom: .4em; }
.qa-answered { background: #e7f6ec; color: #14532d; border-left: 4px solid #16a34a; }
.qa-answered.qa-medium, .qa-answered.qa-low { background: #fef9c3; color: #713f12; border-left-color: #ca8a04; }
.qa-notfound { background: #f4f4f5; color: #3f3f46; border-left: 4px solid #71717a; }
.qa-nearest .qa-card { border-style: dashed; background: #fff; }
.qa-nearest .qa-context mark { background: #e4e4e7; }
.qa-card { border: 1px solid #d4d4d8; border-radius: 6px; padding: .5em .7em; margin: .5em 0;
           background: #fafafa; color: #18181b; }
.qa-card-head { font-size: .9em; margin-bottom: .3em; }
.qa-num { font-weight: 700; margin-right: .3em; }
.qa-title { font-weight: 600; margin-right: .4em; }
.qa-doc { font-size: .85em; color: #52525b; }
.qa-context { margin: 0; line-height: 1.45; }
.qa-context mark { background: #fde68a; color: inherit; padding: 0 .1em; }
.qa-also, .qa-empty { font-size: .85em; color: #52525b; }
.qa-articles { border-collapse: collapse; width: 100%; }
.qa-articles td, .qa-articles th { border-bottom: 1px solid #e4e4e7; padding: .3em .5em; text-align: left; }
.qa-num-cell { text-align: right; }
"""


class Busy(QAError):
    """Too many long questions at once; the message says to try again."""


class Assistant:
    """The shared state of one server: its corpus folder, article texts and an add lock."""

    def __init__(self, corpus: Path, settings: Settings | None = None, index: SearchIndex | None = None) -> None:
        self.corpus = corpus
        self.settings = settings or settings_from_env()
        self.index = index  # a sharded index served as built (`--ray`), else the corpus's own, kept current
        self._add_lock = threading.Lock()
        self._texts_lock = threading.Lock()
        self._texts: dict[str, str] = {}
        self._long = threading.BoundedSemaphore(LONG_QUESTION_SLOTS)
        self._listing: tuple[tuple, str] | None = None
        self._refresh_texts()

    def ask(self, question: str, history: object = None) -> tuple[Answer, list[str]]:
        """`qa.ask` on this corpus, never waiting for a build; the answer and notes for the user.

        The notes say what was left out of the question (QuestionWarning) and whether the
        index is being updated.

        Raises:
            ValueError: the question or history is malformed (the message says how).
            Busy: a long question found no free slot in time.
        """
        long = _is_long(question)
        if long and not self._long.acquire(timeout=LONG_QUESTION_WAIT_S):
            raise Busy(
                "Many long questions are being answered right now; "
                "try again in a moment, or ask a shorter question."
            )
        try:
            with _question_notes() as notes:
                answer = qa.ask(
                    question, corpus=self.corpus, history=history or None, settings=self.settings, wait=False,
                    index=self.index,
                )
        finally:
            if long:
                self._long.release()
        if updating(self.corpus, settings=self.settings):
            notes.append(UPDATING)
        return answer, list(dict.fromkeys(notes))

    def evidence(self, answer: Answer) -> str:
        """The evidence panel of an answer, with texts re-read if the corpus changed."""
        if any(not self._matches(c.doc_id, c.start, c.end, c.quote) for c in answer.citations):
            self._refresh_texts()
        with self._texts_lock:
            texts = self._texts  # replaced whole on refresh, never changed in place
        return present.evidence_html(answer, texts)

    def articles_html(self) -> str:
        """The corpus listing, read again only when a file was added, changed or removed."""
        try:
            key = tuple(scan(self.corpus))
        except QAError:
            key = ()
        cached = self._listing
        if cached is not None and cached[0] == key:
            return cached[1]
        html = present.articles_html(list_articles(self.corpus))
        self._listing = (key, html)
        return html

    def add(self, files: list[tuple[str, bytes]], progress: Callable[[str, int, int], None]) -> str:
        """Store uploaded articles and re-index, one addition at a time; a markdown status.

        Questions go on meanwhile, answered from the last good index.
        """
        if self.index is not None:
            return SHARDED_UPLOADS
        added, problems = [], []
        with self._add_lock:
            for name, data in files:
                try:
                    added.append(add_article(self.corpus, name, data).name)  # safe: [A-Za-z0-9._-]
                except (QAError, OSError) as error:
                    problems.append(str(error))
            failure = None
            if added:
                try:
                    qa.build_index(self.corpus, settings=self.settings, progress=progress)
                except Exception as error:  # noqa: BLE001 - reported to the user; the last good index stays in use
                    failure = str(error)
                self._refresh_texts()
        names = ", ".join(f"`{n}`" for n in added)
        if not added:
            lines = []
        elif failure is None:
            lines = [f"Added and indexed: {names}."]
        else:
            lines = [
                f"Added to the corpus but not indexed: {names}. Indexing failed: {present.escape_markdown(failure)} "
                "Questions are answered from the articles indexed before."
            ]
        lines += [f"Not added: {present.escape_markdown(p)}" for p in problems]
        return "\n\n".join(lines) or "Choose one or more .txt or .md files first."

    def _matches(self, doc_id: str, start: int, end: int, quote: str) -> bool:
        with self._texts_lock:
            return self._texts.get(doc_id, "")[start:end] == quote

    def _refresh_texts(self) -> None:
        texts = {a.doc_id: a.text for a in list_articles(self.corpus)}
        with self._texts_lock:
            self._texts = texts


def _is_long(question: object) -> bool:
    """Many characters or more than two parts: answered in the few slots for long questions."""
    if not isinstance(question, str):
        return False
    text = " ".join(question.split())
    return len(text) > LONG_QUESTION_CHARS or part_count(text) > 2


_notes = threading.local()
_notes_installed = False


@contextmanager
def _question_notes() -> Iterator[list[str]]:
    """Collect the QuestionWarnings raised in this thread (what was left out of the question).

    `warnings.catch_warnings` changes process-wide state and is not safe across the threads
    that answer questions at once, so one hook installed at start routes each warning to the
    thread that raised it.
    """
    notes: list[str] = []
    _notes.current = notes
    try:
        yield notes
    finally:
        _notes.current = None


def _install_note_hook() -> None:
    global _notes_installed
    if _notes_installed:
        return
    shown = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):  # noqa: ANN001
        notes = getattr(_notes, "current", None)
        if notes is not None and issubclass(category, QuestionWarning):
            notes.append(str(message))
            return
        shown(message, category, filename, lineno, file, line)

    warnings.filterwarnings("always", category=QuestionWarning)  # every request's notes, not the first only
    warnings.showwarning = show
    _notes_installed = True


def _with_notes(markdown: str, notes: list[str]) -> str:
    """The reply with a line per note under it."""
    return "\n\n".join([markdown, *(f"*Note: {present.escape_markdown(n)}*" for n in notes)])


def _upload_folder() -> Path:
    """Where Gradio keeps uploaded files (its own rule: GRADIO_TEMP_DIR, else <tmp>/gradio)."""
    return Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio").resolve()


def _discard_upload(path: Path) -> None:
    """Delete a refused upload from Gradio's temporary folder (never anything outside it)."""
    try:
        resolved = path.resolve()
        folder = _upload_folder()
        if not resolved.is_relative_to(folder) or not resolved.is_file():
            return
        resolved.unlink()
        if resolved.parent != folder and not any(resolved.parent.iterdir()):
            resolved.parent.rmdir()  # the per-upload folder Gradio made for it
    except OSError:
        pass


def _read_uploads(paths: list[str]) -> tuple[list[tuple[str, bytes]], list[str]]:
    """The uploads that may be articles, read; a message for each refused one (its file deleted)."""
    accepted, refused = [], []
    for raw in paths:
        path = Path(raw)
        try:
            size = path.stat().st_size
            if size > MAX_UPLOAD_BYTES:  # refused before it is read into memory
                raise CorpusError(
                    f"{path.name!r} is {size // 1024} KiB; articles up to {MAX_UPLOAD_BYTES // 1024} KiB can be added"
                )
            data = path.read_bytes()
            check_upload(path.name, data)
        except (QAError, OSError) as error:
            refused.append(str(error))
            _discard_upload(path)
            continue
        accepted.append((path.name, data))
    return accepted, refused


def build_ui(assistant: Assistant) -> gr.Blocks:
    """The Gradio Blocks: chat and evidence side by side, an articles tab, API endpoints."""
    _install_note_hook()

    def chat(message: str) -> str:
        """Answer one question from the articles; returns the reply markdown with [n] markers."""
        answer, notes = _answer_or_error(assistant, message, None)
        return _with_notes(answer.text, notes)

    def ask(message: str, history: list[list[str]] | None = None) -> dict:
        """Answer a question, with earlier [question, reply] turns for follow-ups; the Answer as JSON.

        "notes" says what was left out of the question, and whether the index is being updated.
        """
        answer, notes = _answer_or_error(assistant, message, history)
        return {**dataclasses.asdict(answer), "notes": notes}

    def respond(message: str, messages: list, turns: list, panels: list) -> tuple:
        if not (message or "").strip():
            gr.Warning("Type a question first.")
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        try:
            answer, notes = assistant.ask(message, turns)
        except (ValueError, QAError) as error:
            gr.Warning(str(error))
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        for note in notes:
            (gr.Info if note == UPDATING else gr.Warning)(note)
        panel = assistant.evidence(answer)
        messages = [
            *messages,
            {"role": "user", "content": present.escape_markdown(message)},
            {"role": "assistant", "content": _with_notes(present.chat_markdown(answer), notes)},
        ]
        return "", messages, [*turns, (message, answer.text)], [*panels, panel], panel

    def show_turn(panels: list, event: gr.SelectData) -> str:
        index = event.index[0] if isinstance(event.index, (list, tuple)) else event.index
        turn = int(index) // 2
        return panels[turn] if 0 <= turn < len(panels) else gr.skip()

    def add_articles(files: list[str] | None, progress: gr.Progress = gr.Progress()) -> tuple[str, str]:
        uploads, refused = _read_uploads(files or [])

        def report(stage: str, done: int, total: int) -> None:
            # stages are "reading articles", "embedding sentences", ...: count in their noun
            progress((done, total) if total else 0.0, desc=f"Indexing: {stage}", unit=stage.split()[-1])

        progress(0.0, desc="Adding articles")
        status = assistant.add(uploads, report) if uploads else ""
        lines = [status] if status else []
        lines += [f"Not added: {present.escape_markdown(p)}" for p in refused]
        return "\n\n".join(lines) or "Choose one or more .txt or .md files first.", assistant.articles_html()

    with gr.Blocks(title="News QA", analytics_enabled=False) as demo:
        gr.Markdown(
            "## Ask the news articles\n"
            "Answers are sentences quoted from the articles, with [n] markers; "
            "the sources, highlighted in their paragraph, are shown on the right. "
            "Click an earlier reply to see its sources again."
        )
        turns = gr.State([])
        panels = gr.State([])
        with gr.Tab("Ask"):
            with gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(
                        label="Chat", height=520, sanitize_html=True, allow_tags=False,
                        elem_id="qa-chat", feedback_options=None, buttons=["copy", "copy_all"],
                    )
                    with gr.Row():
                        box = gr.Textbox(
                            placeholder="Ask about the articles…", show_label=False, scale=5,
                            elem_id="qa-question", autofocus=True, max_length=2000,
                        )
                        send = gr.Button("Ask", variant="primary", scale=1, elem_id="qa-send")
                    gr.Markdown("**Try an example:**")
                    with gr.Row():
                        example_buttons = [gr.Button(q, size="sm", variant="secondary") for q in EXAMPLES]
                    clear = gr.Button("New conversation", size="sm")
                with gr.Column(scale=2):
                    evidence = gr.HTML(EMPTY_EVIDENCE, elem_id="qa-evidence", label="Evidence")
        with gr.Tab("Articles"):
            listing = gr.HTML(assistant.articles_html(), elem_id="qa-articles")
            upload = gr.File(
                label="Add articles (.txt or .md, up to 2 MiB each)", file_count="multiple",
                file_types=[".txt", ".md"], type="filepath", elem_id="qa-upload",
            )
            add = gr.Button("Add to the corpus", variant="primary", elem_id="qa-add")
            status = gr.Markdown(elem_id="qa-status")

        questions = dict(concurrency_id="questions", concurrency_limit=QUESTION_CONCURRENCY)
        ui_io = dict(inputs=[box, chatbot, turns, panels], outputs=[box, chatbot, turns, panels, evidence])
        box.submit(respond, **ui_io, **questions, api_visibility="private")
        send.click(respond, **ui_io, **questions, api_visibility="private")
        for button, question in zip(example_buttons, EXAMPLES):
            button.click(lambda q=question: q, outputs=box, queue=False, api_visibility="private").then(
                respond, **ui_io, **questions, api_visibility="private"
            )
        chatbot.select(show_turn, inputs=panels, outputs=evidence, api_visibility="private")
        clear.click(
            lambda: ([], [], [], EMPTY_EVIDENCE), outputs=[chatbot, turns, panels, evidence],
            queue=False, api_visibility="private",
        )
        chatbot.clear(
            lambda: ([], [], EMPTY_EVIDENCE), outputs=[turns, panels, evidence], queue=False,
            api_visibility="private",
        )
        add.click(
            add_articles, inputs=upload, outputs=[status, listing], api_name="add_articles",
            concurrency_id="uploads", concurrency_limit=UPLOAD_CONCURRENCY,
        )
        gr.api(chat, api_name="chat", **questions)
        gr.api(ask, api_name="ask", **questions)
        # A page opened after an upload (or a file dropped into the folder) lists it.
        demo.load(assistant.articles_html, outputs=listing, api_visibility="private", queue=False)
    demo.queue(default_concurrency_limit=QUESTION_CONCURRENCY, max_size=QUEUE_SIZE)
    return demo


def _answer_or_error(assistant: Assistant, message: str, history: object) -> tuple[Answer, list[str]]:
    try:
        return assistant.ask(message, history)
    except (ValueError, QAError) as error:
        raise gr.Error(str(error)) from error


def _sharded_index(corpus: Path, address: str) -> SearchIndex:
    """The sharded index of `corpus`, its shards held by actors on the Ray cluster at `address`."""
    from qa.distributed.cluster import connect
    from qa.distributed.serving import open_sharded

    connect(address or None)
    return open_sharded(corpus, settings_from_env())


def main(argv: list[str] | None = None) -> int:
    """Load the model and the index, then serve the chat until interrupted."""
    parser = argparse.ArgumentParser(description="Web chat over a folder of news articles.")
    parser.add_argument("--corpus", help="folder of .txt/.md articles (default: env QA_CORPUS, else seeds/)")
    parser.add_argument(
        "--ray", nargs="?", const="", metavar="ADDRESS",
        help="answer from the corpus's sharded index (`qa index CORPUS --ray`) held by actors on a Ray cluster",
    )
    args = parser.parse_args(argv)
    corpus = resolve_corpus(args.corpus)
    print(f"Loading the model and the index of {corpus} …", flush=True)
    try:
        index = _sharded_index(corpus, args.ray) if args.ray is not None else qa.warm_up(corpus)
    except QAError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    demo = build_ui(Assistant(corpus, index=index if args.ray is not None else None))
    demo.launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME") or DEFAULT_HOST,
        server_port=int(os.environ.get("GRADIO_SERVER_PORT") or DEFAULT_PORT),
        max_file_size=MAX_UPLOAD_BYTES * 2,
        ssr_mode=False,
        css=CSS,
        footer_links=["api"],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
