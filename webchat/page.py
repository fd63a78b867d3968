"""The chat's page, one builder per panel (corpus, chat, filter, conversation; the Articles tab is
`webchat.articles`), then wired.

A thin shell over the public names of `qa`: answering, the corpus (`qa.articles`,
`qa.corpus_summary`, `qa.example_questions`) and formatting (`qa.reply`); the server's
shared state is `webchat.assistant` (a `Library` of corpus folders, an `Assistant` each).
A page chooses among the folders the server was started with; its example questions and
filter hints come from the chosen corpus (questions made from its newest headlines that it
answers, its date range, its outlets), read again when a page is opened or the corpus changes.
"""

import dataclasses
import html
import logging
from pathlib import Path

import gradio as gr

import qa
from webchat.articles import ArticlesPanel, articles_panel, listing_updates, wire_articles
from webchat.assistant import MAX_EXAMPLES, UPDATING, Assistant, Library, install_note_hook, with_notes

EMPTY_EVIDENCE = '<p class="qa-empty">Sources of the latest answer appear here.</p>'
NO_DAY = "YYYY-MM-DD"
# Questions taken off Gradio's queue at once (the index is shared read-only). Above the
# long-question slots, so long questions waiting for a slot never hold up short ones.
QUESTION_CONCURRENCY = 16
CACHE_SWEEP_S, CACHE_AGE_S = 60, 600  # Gradio's temporary files older than ten minutes go, checked each minute
QUEUE_SIZE = 512  # waiting requests beyond this are refused at once ("queue full") instead of timing out
QUESTIONS = dict(concurrency_id="questions", concurrency_limit=QUESTION_CONCURRENCY)
PRIVATE = dict(api_visibility="private")
CSS = (Path(__file__).resolve().parent / "chat.css").read_text(encoding="utf-8")
_log = logging.getLogger("newsqa.chat")


@dataclasses.dataclass(frozen=True)
class ChatPanel:
    chatbot: gr.Chatbot
    box: gr.Textbox
    send: gr.Button
    examples_label: gr.Markdown
    examples: tuple[gr.Button, ...]


@dataclasses.dataclass(frozen=True)
class FilterPanel:
    low: gr.Textbox
    high: gr.Textbox
    outlets: gr.Dropdown


@dataclasses.dataclass(frozen=True)
class ConversationPanel:
    clear: gr.Button
    export: gr.DownloadButton


def build_ui(library: Library) -> gr.Blocks:
    """The Gradio Blocks: a corpus chooser, chat and evidence side by side, an articles tab, API endpoints."""
    install_note_hook()
    first = library.get(library.first)
    # Gradio's temporary files (uploads, accepted or refused, and served exports) are swept:
    # every CACHE_SWEEP_S, those older than CACHE_AGE_S go.
    with gr.Blocks(title="News QA", analytics_enabled=False, delete_cache=(CACHE_SWEEP_S, CACHE_AGE_S)) as demo:
        gr.Markdown(
            "## Ask the news articles\n"
            "Answers are sentences quoted from the articles, with [n] markers; "
            "the sources, highlighted in their paragraph, are shown on the right. "
            "Click an earlier reply to see its sources again, and a source's [n] to read its whole article."
        )
        corpus = gr.State(library.first)  # the chosen folder's key; a state, so the endpoints' signatures stay
        chooser = gr.Dropdown(
            choices=library.choices(), value=library.first, label="Corpus folder", elem_id="qa-corpus",
            visible=len(library) > 1, interactive=True,
        )
        states = (gr.State([]), gr.State([]), gr.State([]))  # turns, evidence panels, (question, Answer) asked
        with gr.Tab("Ask"):
            with gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    chat = chat_panel(first.examples())
                    filters = filter_panel(first.summary())
                    conversation = conversation_panel()
                with gr.Column(scale=2):
                    evidence = gr.HTML(EMPTY_EVIDENCE, elem_id="qa-evidence", label="Evidence")
        with gr.Tab("Articles"):
            articles = articles_panel(first)
        wire_chat(library, corpus, chat, filters, conversation, evidence, states)
        wire_articles(library, articles, corpus)
        wire_corpus(library, chooser, corpus, (chat, filters, conversation, evidence, states, articles))
        wire_api(first)
        # A page opened after an upload (or a file dropped into the folder) lists it and asks about it.
        demo.load(lambda: page_updates(first), outputs=corpus_outputs(chat, filters, articles), queue=False, **PRIVATE)
    demo.queue(default_concurrency_limit=QUESTION_CONCURRENCY, max_size=QUEUE_SIZE)
    return demo


def chat_panel(examples: list[str]) -> ChatPanel:
    """The conversation, the question box, and example questions about the corpus."""
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
    label = gr.Markdown("**Try an example:**", visible=bool(examples))
    with gr.Row(elem_id="qa-examples"):
        buttons = tuple(
            gr.Button(question, size="sm", variant="secondary", visible=bool(question))
            for question in _padded(examples)
        )
    return ChatPanel(chatbot, box, send, label, buttons)


def filter_panel(summary: qa.CorpusSummary) -> FilterPanel:
    """Date range and outlets to answer from; the hints are the corpus's own range and outlets."""
    low, high, outlets = filter_hints(summary)
    with gr.Accordion("Filter articles", open=False, elem_id="qa-filter"):
        with gr.Row():
            low = gr.Textbox(label="Published from", elem_id="qa-from", **low)
            high = gr.Textbox(label="Published to", elem_id="qa-to", **high)
        outlets = gr.Dropdown(multiselect=True, label="Outlets (none: all)", elem_id="qa-outlets", **outlets)
    return FilterPanel(low, high, outlets)


def conversation_panel() -> ConversationPanel:
    """Start again, or download the conversation as Markdown with its citations."""
    with gr.Row():
        clear = gr.Button("New conversation", size="sm")
        export = gr.DownloadButton("Export conversation (Markdown)", size="sm", interactive=False, elem_id="qa-export")
    return ConversationPanel(clear, export)


def filter_hints(summary: qa.CorpusSummary) -> tuple[dict, dict, dict]:
    """The filter's settings from the corpus: its first and last publication days, its outlets."""
    info = (
        f"Articles with a date were published {summary.first_published} to {summary.last_published}."
        if summary.first_published else "No article of the corpus has a known date: a date leaves them all out."
    )
    return (
        dict(placeholder=summary.first_published or NO_DAY, info=info),
        dict(placeholder=summary.last_published or NO_DAY),
        dict(choices=list(summary.outlets)),
    )


def corpus_outputs(chat: ChatPanel, filters: FilterPanel, articles: ArticlesPanel) -> list:
    """What shows of the chosen corpus (in the order of `page_updates`)."""
    return [
        articles.listing, articles.chosen, articles.opened, filters.low, filters.high, filters.outlets,
        chat.examples_label, *chat.examples,
    ]


def page_updates(assistant: Assistant) -> tuple[object, ...]:
    """What a page shows of its corpus now: listing, article choices, filter hints, example questions."""
    examples = assistant.examples()
    return (
        *listing_updates(assistant),
        *(gr.update(**hint) for hint in filter_hints(assistant.summary())),
        gr.update(visible=bool(examples)),
        *(gr.update(value=q, visible=bool(q)) for q in _padded(examples)),
    )


def wire_corpus(library: Library, chooser: gr.Dropdown, corpus: gr.State, panels: tuple) -> None:
    """Choosing another folder: its index is loaded (built if need be), the conversation starts
    again, and the listing, filter and examples become that corpus's."""
    chat, filters, conversation, evidence, states, articles = panels

    def switch(key: str, progress: gr.Progress = gr.Progress()) -> tuple:
        assistant = library.get(key)  # only the folders the server was started with
        progress(0.0, desc=f"Loading {assistant.corpus.name}")
        failure = assistant.warm(lambda stage, done, total: progress((done, total) if total else 0.0, desc=stage))
        if failure:
            gr.Warning(html.escape(failure))
        cleared = ([], [], [], [], EMPTY_EVIDENCE, gr.update(value=None, interactive=False))
        emptied = [gr.update(value=""), gr.update(value=""), gr.update(value=[])]  # the filter, of the other corpus
        updates = list(page_updates(assistant))
        for at, blank in zip((3, 4, 5), emptied):
            updates[at] = gr.update(**{**updates[at], **blank})
        return (key, *cleared, *updates)

    turns, panels_state, asked = states
    chooser.change(
        switch, inputs=chooser,
        outputs=[corpus, chat.chatbot, turns, panels_state, asked, evidence, conversation.export,
                 *corpus_outputs(chat, filters, articles)],
        concurrency_id="uploads", concurrency_limit=1, **PRIVATE,
    )


def _padded(examples: list[str]) -> list[str]:
    """Exactly `MAX_EXAMPLES` labels, "" for the buttons left hidden."""
    shown = examples[:MAX_EXAMPLES]
    return [*shown, *[""] * (MAX_EXAMPLES - len(shown))]


def wire_chat(
    library: Library, corpus: gr.State, chat: ChatPanel, filters: FilterPanel, conversation: ConversationPanel,
    evidence: gr.HTML, states: tuple[gr.State, gr.State, gr.State],
) -> None:
    """Questions from the box, the send button and the examples; earlier replies' sources; a new start."""
    turns, panels, asked = states

    def respond(message: str, messages: list, turns: list, panels: list, asked: list, low: str, high: str,
                outlets: list, key: str) -> tuple:
        if not (message or "").strip():
            gr.Warning("Type a question first.")
            return (gr.skip(),) * 7
        try:
            assistant = library.get(key)
            scope = dict(published_from=(low or "").strip(), published_to=(high or "").strip(), outlets=outlets or None)
            answer, notes = assistant.ask(message, turns, **scope)
        except (ValueError, qa.QAError) as error:
            gr.Warning(html.escape(str(error)))  # the message may quote what was typed; it is shown as HTML
            return (gr.skip(),) * 7
        for note in notes:
            (gr.Info if note == UPDATING else gr.Warning)(html.escape(note))
        panel = assistant.evidence(answer)
        messages = [
            *messages,
            {"role": "user", "content": qa.reply.escape_markdown(message)},
            {"role": "assistant", "content": with_notes(qa.reply.chat_markdown(answer, assistant.threshold), notes)},
        ]
        asked = [*asked, (message, answer)]
        download = gr.DownloadButton(value=str(assistant.export(asked)), interactive=True)
        return "", messages, [*turns, (message, answer.text)], [*panels, panel], asked, panel, download

    def show_turn(panels: list, event: gr.SelectData) -> str:
        index = event.index[0] if isinstance(event.index, (list, tuple)) else event.index
        turn = int(index) // 2
        return panels[turn] if 0 <= turn < len(panels) else gr.skip()

    io = dict(
        inputs=[chat.box, chat.chatbot, turns, panels, asked, filters.low, filters.high, filters.outlets, corpus],
        outputs=[chat.box, chat.chatbot, turns, panels, asked, evidence, conversation.export],
    )
    chat.box.submit(respond, **io, **QUESTIONS, **PRIVATE)
    chat.send.click(respond, **io, **QUESTIONS, **PRIVATE)
    for button in chat.examples:  # the button's label is its question (the examples change with the corpus)
        button.click(lambda question: question, inputs=button, outputs=chat.box, queue=False, **PRIVATE).then(
            respond, **io, **QUESTIONS, **PRIVATE
        )
    chat.chatbot.select(show_turn, inputs=panels, outputs=evidence, **PRIVATE)
    no_export = gr.update(value=None, interactive=False)  # (a component made here would show on the page)
    conversation.clear.click(
        lambda: ([], [], [], [], EMPTY_EVIDENCE, no_export),
        outputs=[chat.chatbot, turns, panels, asked, evidence, conversation.export], queue=False, **PRIVATE,
    )
    chat.chatbot.clear(
        lambda: ([], [], [], EMPTY_EVIDENCE, no_export), outputs=[turns, panels, asked, evidence, conversation.export],
        queue=False, **PRIVATE,
    )


def wire_api(assistant: Assistant) -> None:
    """The programs' endpoints, "/chat" and "/ask"."""

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

    gr.api(chat, api_name="chat", **QUESTIONS)
    gr.api(ask, api_name="ask", **QUESTIONS)


def _answer_or_error(
    assistant: Assistant, message: str, history: object, scope: dict | None = None
) -> tuple[qa.Answer, list[str]]:
    try:
        return assistant.ask(message, history, **(scope or {}))
    except (ValueError, qa.QAError) as error:
        # A user's mistake: one line in the server log, not a traceback; the caller gets the message.
        _log.warning("refused a request: %s", error)
        raise gr.Error(html.escape(str(error)), print_exception=False) from None
