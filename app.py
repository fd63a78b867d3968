"""Web chat over a folder of news articles: answers with [n] markers, evidence beside them.

    python app.py                      # the bundled seeds/ (or env QA_CORPUS)
    python app.py --corpus my/articles

Serves on 127.0.0.1:7860 unless GRADIO_SERVER_NAME / GRADIO_SERVER_PORT say otherwise.
API (gradio_client): "/chat" (message -> reply markdown), "/ask" (message, history and
optional filters -> the answer as JSON), "/add_articles" (files -> status, article table).
A thin shell: retrieval and answering live in `qa`, formatting in `qa.reply` (`present`,
`cards`, `export`), the server's shared state in `webchat.assistant`.

Under load: questions and uploads queue apart (an upload's build never takes a question's
place), questions are answered from the last good index while a build runs, and long
questions (many parts, many words) take turns in a few slots of their own, so they cannot
starve the short ones.
"""

import argparse
import dataclasses
import logging
import os
import sys
from pathlib import Path

import gradio as gr

import qa
from qa.api import resolve_corpus
from qa.config import settings_from_env
from qa.errors import QAError
from qa.indexing.memory import SearchIndex
from qa.ingest.corpus import SUFFIXES
from qa.ingest.uploads import MAX_UPLOAD_BYTES
from qa.reply import present
from qa.types import Answer
from webchat.assistant import UPDATING, Assistant, install_note_hook, with_notes
from webchat.uploads import read_uploads

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
_log = logging.getLogger("newsqa.chat")
CHOOSE_FILES = f"Choose one or more article files ({', '.join(SUFFIXES)}) first."
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
.qa-context mark, .qa-article mark { background: #fde68a; color: inherit; padding: 0 .1em; }
.qa-answer { background: #f59e0b; color: #1c1917; border-radius: 3px; padding: 0 .15em; }
.qa-byline { font-size: .85em; color: #3f3f46; margin-right: .4em; }
a.qa-num { color: inherit; text-decoration: underline dotted; }
.qa-full summary { cursor: pointer; font-size: .85em; color: #52525b; margin-top: .3em; }
.qa-article { white-space: pre-wrap; max-height: 320px; overflow-y: auto; line-height: 1.45;
              border-top: 1px solid #e4e4e7; margin-top: .3em; padding-top: .3em; }
.qa-also, .qa-empty { font-size: .85em; color: #52525b; }
.qa-articles { border-collapse: collapse; width: 100%; }
.qa-articles td, .qa-articles th { border-bottom: 1px solid #e4e4e7; padding: .3em .5em; text-align: left; }
.qa-num-cell { text-align: right; }
"""


def build_ui(assistant: Assistant) -> gr.Blocks:
    """The Gradio Blocks: chat and evidence side by side, an articles tab, API endpoints."""
    install_note_hook()

    def chat(message: str) -> str:
        """Answer one question from the articles; returns the reply markdown with [n] markers."""
        answer, notes = _answer_or_error(assistant, message, None)
        return with_notes(answer.text, notes)

    def ask(
        message: str, history: list[list[str]] | None = None, published_from: str = "", published_to: str = "",
        outlets: list[str] | None = None,
    ) -> dict:
        """Answer a question, with earlier [question, reply] turns for follow-ups; the Answer as JSON.

        Optional filters as in `qa.ask`: ISO days and outlet names. "notes" says what was left
        out of the question, and whether the index is being updated.
        """
        scope = dict(published_from=published_from, published_to=published_to, outlets=outlets)
        answer, notes = _answer_or_error(assistant, message, history, scope)
        return {**dataclasses.asdict(answer), "notes": notes}

    def respond(
        message: str, messages: list, turns: list, panels: list, asked: list, low: str, high: str, outlets: list
    ) -> tuple:
        if not (message or "").strip():
            gr.Warning("Type a question first.")
            return (gr.skip(),) * 7
        try:
            scope = dict(published_from=(low or "").strip(), published_to=(high or "").strip(), outlets=outlets or None)
            answer, notes = assistant.ask(message, turns, **scope)
        except (ValueError, QAError) as error:
            gr.Warning(str(error))
            return (gr.skip(),) * 7
        for note in notes:
            (gr.Info if note == UPDATING else gr.Warning)(note)
        panel = assistant.evidence(answer)
        messages = [
            *messages,
            {"role": "user", "content": present.escape_markdown(message)},
            {"role": "assistant", "content": with_notes(present.chat_markdown(answer), notes)},
        ]
        asked = [*asked, (message, answer)]
        download = gr.DownloadButton(value=str(assistant.export(asked)), interactive=True)
        return "", messages, [*turns, (message, answer.text)], [*panels, panel], asked, panel, download

    def show_turn(panels: list, event: gr.SelectData) -> str:
        index = event.index[0] if isinstance(event.index, (list, tuple)) else event.index
        turn = int(index) // 2
        return panels[turn] if 0 <= turn < len(panels) else gr.skip()

    def add_articles(files: list[str] | None, progress: gr.Progress = gr.Progress()) -> tuple[str, str]:
        uploads, refused = read_uploads(files or [])

        def report(stage: str, done: int, total: int) -> None:
            # stages are "reading articles", "embedding sentences", ...: count in their noun
            progress((done, total) if total else 0.0, desc=f"Indexing: {stage}", unit=stage.split()[-1])

        progress(0.0, desc="Adding articles")
        status = assistant.add(uploads, report) if uploads else ""
        lines = [status] if status else []
        lines += [f"Not added: {present.escape_markdown(p)}" for p in refused]
        return "\n\n".join(lines) or CHOOSE_FILES, assistant.articles_html()

    with gr.Blocks(title="News QA", analytics_enabled=False) as demo:
        gr.Markdown(
            "## Ask the news articles\n"
            "Answers are sentences quoted from the articles, with [n] markers; "
            "the sources, highlighted in their paragraph, are shown on the right. "
            "Click an earlier reply to see its sources again, and a source's [n] to read its whole article."
        )
        turns = gr.State([])
        panels = gr.State([])
        asked = gr.State([])  # (question, Answer) per turn, for the export
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
                    with gr.Accordion("Filter articles", open=False, elem_id="qa-filter"):
                        with gr.Row():
                            low = gr.Textbox(label="Published from", placeholder="2015-03-01", elem_id="qa-from")
                            high = gr.Textbox(label="Published to", placeholder="2015-03-31", elem_id="qa-to")
                        outlets = gr.Dropdown(
                            choices=assistant.outlets(), multiselect=True, label="Outlets (none: all)",
                            elem_id="qa-outlets",
                        )
                    with gr.Row():
                        clear = gr.Button("New conversation", size="sm")
                        export = gr.DownloadButton(
                            "Export conversation (Markdown)", size="sm", interactive=False, elem_id="qa-export"
                        )
                with gr.Column(scale=2):
                    evidence = gr.HTML(EMPTY_EVIDENCE, elem_id="qa-evidence", label="Evidence")
        with gr.Tab("Articles"):
            listing = gr.HTML(assistant.articles_html(), elem_id="qa-articles")
            upload = gr.File(
                label=f"Add articles ({', '.join(SUFFIXES)}; up to 2 MiB each)", file_count="multiple",
                file_types=list(SUFFIXES), type="filepath", elem_id="qa-upload",
            )
            add = gr.Button("Add to the corpus", variant="primary", elem_id="qa-add")
            status = gr.Markdown(elem_id="qa-status")

        questions = dict(concurrency_id="questions", concurrency_limit=QUESTION_CONCURRENCY)
        ui_io = dict(
            inputs=[box, chatbot, turns, panels, asked, low, high, outlets],
            outputs=[box, chatbot, turns, panels, asked, evidence, export],
        )
        box.submit(respond, **ui_io, **questions, api_visibility="private")
        send.click(respond, **ui_io, **questions, api_visibility="private")
        for button, question in zip(example_buttons, EXAMPLES):
            button.click(lambda q=question: q, outputs=box, queue=False, api_visibility="private").then(
                respond, **ui_io, **questions, api_visibility="private"
            )
        chatbot.select(show_turn, inputs=panels, outputs=evidence, api_visibility="private")
        no_export = gr.update(value=None, interactive=False)  # (a component made here would show on the page)
        clear.click(
            lambda: ([], [], [], [], EMPTY_EVIDENCE, no_export), outputs=[chatbot, turns, panels, asked, evidence, export],
            queue=False, api_visibility="private",
        )
        chatbot.clear(
            lambda: ([], [], [], EMPTY_EVIDENCE, no_export), outputs=[turns, panels, asked, evidence, export],
            queue=False, api_visibility="private",
        )
        add.click(
            add_articles, inputs=upload, outputs=[status, listing], api_name="add_articles",
            concurrency_id="uploads", concurrency_limit=UPLOAD_CONCURRENCY,
        )
        gr.api(chat, api_name="chat", **questions)
        gr.api(ask, api_name="ask", **questions)
        # A page opened after an upload (or a file dropped into the folder) lists it.
        demo.load(
            lambda: (assistant.articles_html(), gr.Dropdown(choices=assistant.outlets())), outputs=[listing, outlets],
            api_visibility="private", queue=False,
        )
    demo.queue(default_concurrency_limit=QUESTION_CONCURRENCY, max_size=QUEUE_SIZE)
    return demo


def _answer_or_error(
    assistant: Assistant, message: str, history: object, scope: dict | None = None
) -> tuple[Answer, list[str]]:
    try:
        return assistant.ask(message, history, **(scope or {}))
    except (ValueError, QAError) as error:
        # A user's mistake: one line in the server log, not a traceback; the caller gets the message.
        _log.warning("refused a request: %s", error)
        raise gr.Error(str(error), print_exception=False) from None


def _sharded_index(corpus: Path, address: str) -> SearchIndex:
    """The sharded index of `corpus`, its shards held by actors on the Ray cluster at `address`."""
    from qa.distributed.cluster import connect
    from qa.distributed.serving import open_sharded

    connect(address or None)
    return open_sharded(corpus, settings_from_env()).index


def main(argv: list[str] | None = None) -> int:
    """Load the model and the index, then serve the chat until interrupted."""
    parser = argparse.ArgumentParser(description="Web chat over a folder of news articles.")
    parser.add_argument("--corpus", help="folder of articles (default: env QA_CORPUS, else seeds/)")
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
