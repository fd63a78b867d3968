"""Web chat over a folder of news articles: answers with [n] markers, evidence beside them.

    python app.py                      # the bundled seeds/ (or env QA_CORPUS)
    python app.py --corpus my/articles

Serves on 127.0.0.1:7860 unless GRADIO_SERVER_NAME / GRADIO_SERVER_PORT say otherwise.
API (gradio_client): "/chat" (message -> reply markdown), "/ask" (message, history ->
the answer as JSON), "/add_articles" (files -> status, article table).
A thin shell: retrieval and answering live in `qa`, formatting in `qa.reply.present`.
"""

import argparse
import dataclasses
import os
import sys
import threading
from pathlib import Path
from typing import Callable

import gradio as gr

import qa
from qa.reply import present
from qa.api import resolve_corpus
from qa.ingest.corpus import list_articles
from qa.ingest.uploads import MAX_UPLOAD_BYTES, add_article
from qa.errors import QAError
from qa.types import Answer

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
CONCURRENCY = 16  # questions answered at once; the index is shared read-only

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


class Assistant:
    """The shared state of one server: its corpus folder, article texts and an add lock."""

    def __init__(self, corpus: Path) -> None:
        self.corpus = corpus
        self._add_lock = threading.Lock()
        self._texts_lock = threading.Lock()
        self._texts: dict[str, str] = {}
        self._refresh_texts()

    def ask(self, question: str, history: list[tuple[str, str]] | None = None) -> Answer:
        """`qa.ask` on this corpus; the index is shared, read-only, between requests."""
        return qa.ask(question, corpus=self.corpus, history=history or None)

    def evidence(self, answer: Answer) -> str:
        """The evidence panel of an answer, with texts re-read if the corpus changed."""
        if any(not self._matches(c.doc_id, c.start, c.end, c.quote) for c in answer.citations):
            self._refresh_texts()
        with self._texts_lock:
            texts = self._texts  # replaced whole on refresh, never changed in place
        return present.evidence_html(answer, texts)

    def articles_html(self) -> str:
        """The corpus listing."""
        return present.articles_html(list_articles(self.corpus))

    def add(self, files: list[tuple[str, bytes]], progress: Callable[[str, int, int], None]) -> str:
        """Store uploaded articles and re-index, one addition at a time; a markdown status."""
        added, problems = [], []
        with self._add_lock:
            for name, data in files:
                try:
                    added.append(add_article(self.corpus, name, data).name)  # safe: [A-Za-z0-9._-]
                except QAError as error:
                    problems.append(str(error))
            if added:
                try:
                    qa.build_index(self.corpus, progress=progress)
                except QAError as error:
                    problems.append(f"indexing failed: {error}")
                self._refresh_texts()
        lines = [f"Added and indexed: {', '.join(f'`{n}`' for n in added)}."] if added else []
        lines += [f"Not added: {present.escape_markdown(p)}" for p in problems]
        return "\n\n".join(lines) or "Choose one or more .txt or .md files first."

    def _matches(self, doc_id: str, start: int, end: int, quote: str) -> bool:
        with self._texts_lock:
            return self._texts.get(doc_id, "")[start:end] == quote

    def _refresh_texts(self) -> None:
        texts = {a.doc_id: a.text for a in list_articles(self.corpus)}
        with self._texts_lock:
            self._texts = texts


def build_ui(assistant: Assistant) -> gr.Blocks:
    """The Gradio Blocks: chat and evidence side by side, an articles tab, API endpoints."""

    def chat(message: str) -> str:
        """Answer one question from the articles; returns the reply markdown with [n] markers."""
        return _answer_or_error(assistant, message, None).text

    def ask(message: str, history: list[list[str]] | None = None) -> dict:
        """Answer a question, with earlier [question, reply] turns for follow-ups; the Answer as JSON."""
        turns = [(str(q), str(r)) for q, r in (history or [])]
        return dataclasses.asdict(_answer_or_error(assistant, message, turns))

    def respond(message: str, messages: list, turns: list, panels: list) -> tuple:
        if not (message or "").strip():
            gr.Warning("Type a question first.")
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        try:
            answer = assistant.ask(message, turns)
        except (ValueError, QAError) as error:
            gr.Warning(str(error))
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        panel = assistant.evidence(answer)
        messages = [
            *messages,
            {"role": "user", "content": present.escape_markdown(message)},
            {"role": "assistant", "content": present.chat_markdown(answer)},
        ]
        return "", messages, [*turns, (message, answer.text)], [*panels, panel], panel

    def show_turn(panels: list, event: gr.SelectData) -> str:
        index = event.index[0] if isinstance(event.index, (list, tuple)) else event.index
        turn = int(index) // 2
        return panels[turn] if 0 <= turn < len(panels) else gr.skip()

    def add_articles(files: list[str] | None, progress: gr.Progress = gr.Progress()) -> tuple[str, str]:
        uploads = [(Path(path).name, Path(path).read_bytes()) for path in files or []]

        def report(stage: str, done: int, total: int) -> None:
            # stages are "reading articles", "embedding sentences", ...: count in their noun
            progress((done, total) if total else 0.0, desc=f"Indexing: {stage}", unit=stage.split()[-1])

        progress(0.0, desc="Adding articles")
        status = assistant.add(uploads, report)
        return status, assistant.articles_html()

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

        ui_io = dict(inputs=[box, chatbot, turns, panels], outputs=[box, chatbot, turns, panels, evidence])
        box.submit(respond, **ui_io, api_visibility="private")
        send.click(respond, **ui_io, api_visibility="private")
        for button, question in zip(example_buttons, EXAMPLES):
            button.click(lambda q=question: q, outputs=box, queue=False, api_visibility="private").then(
                respond, **ui_io, api_visibility="private"
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
        add.click(add_articles, inputs=upload, outputs=[status, listing], api_name="add_articles")
        gr.api(chat, api_name="chat")
        gr.api(ask, api_name="ask")
    demo.queue(default_concurrency_limit=CONCURRENCY)
    return demo


def _answer_or_error(assistant: Assistant, message: str, turns: list | None) -> Answer:
    try:
        return assistant.ask(message, turns)
    except (ValueError, QAError) as error:
        raise gr.Error(str(error)) from error


def main(argv: list[str] | None = None) -> int:
    """Load the model and the index, then serve the chat until interrupted."""
    parser = argparse.ArgumentParser(description="Web chat over a folder of news articles.")
    parser.add_argument("--corpus", help="folder of .txt/.md articles (default: env QA_CORPUS, else seeds/)")
    args = parser.parse_args(argv)
    corpus = resolve_corpus(args.corpus)
    print(f"Loading the model and the index of {corpus} …", flush=True)
    try:
        qa.warm_up(corpus)
    except QAError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    demo = build_ui(Assistant(corpus))
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
