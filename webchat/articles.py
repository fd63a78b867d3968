"""The chat's Articles tab: the corpus listing, one article opened whole, and changes to the folder
(add files, replace or delete an article), each indexed in the upload queue while questions go on.

A thin shell over the public names of `qa` (`qa.article`, `qa.add_articles`,
`qa.replace_article`, `qa.delete_article`, `qa.reply.article_page`); the state is
`webchat.assistant`. Every handler acts on the corpus folder the page has chosen.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable

import gradio as gr

import qa
from webchat.assistant import Assistant, Library
from webchat.uploads import discard_upload

UPLOAD_CONCURRENCY = 1  # changes to a folder are indexed one at a time, in a queue of their own
UPLOADS = dict(concurrency_id="uploads", concurrency_limit=UPLOAD_CONCURRENCY)
NOTHING_OPEN = '<p class="qa-empty">Choose an article and open it to read it whole.</p>'


@dataclasses.dataclass(frozen=True)
class ArticlesPanel:
    listing: gr.HTML
    chosen: gr.Dropdown
    open: gr.Button
    delete: gr.Button
    replacement: gr.File
    replace: gr.Button
    opened: gr.HTML
    upload: gr.File
    add: gr.Button
    status: gr.Markdown


def articles_panel(assistant: Assistant) -> ArticlesPanel:
    """The corpus listing; an article to open, replace or delete; files to add."""
    suffixes = qa.article_suffixes()
    listing = gr.HTML(assistant.articles_html(), elem_id="qa-articles")
    with gr.Row(equal_height=True):
        chosen = gr.Dropdown(
            choices=assistant.article_choices(), value=None, label="Article", elem_id="qa-article-choice", scale=4,
        )
        opener = gr.Button("Open", elem_id="qa-open", scale=1)
        delete = gr.Button("Delete", variant="stop", elem_id="qa-delete", scale=1)
    with gr.Row(equal_height=True):
        replacement = gr.File(
            label="Replace the chosen article with (one article file)", file_count="single",
            file_types=list(suffixes), type="filepath", elem_id="qa-replacement", scale=4,
        )
        replace = gr.Button("Replace", elem_id="qa-replace", scale=1)
    upload = gr.File(
        label=f"Add articles ({', '.join(suffixes)}; up to {qa.MAX_UPLOAD_BYTES // 2**20} MiB each)",
        file_count="multiple", file_types=list(suffixes), type="filepath", elem_id="qa-upload",
    )
    add = gr.Button("Add to the corpus", variant="primary", elem_id="qa-add")
    status = gr.Markdown(elem_id="qa-status")
    opened = gr.HTML(NOTHING_OPEN, elem_id="qa-opened")
    return ArticlesPanel(listing, chosen, opener, delete, replacement, replace, opened, upload, add, status)


def listing_updates(assistant: Assistant) -> tuple[object, object, object]:
    """The listing, the article choices (none chosen) and the emptied article view of a corpus as it is now."""
    return assistant.articles_html(), gr.update(choices=assistant.article_choices(), value=None), NOTHING_OPEN


def wire_articles(library: Library, panel: ArticlesPanel, corpus: gr.State) -> None:
    """Open, delete, replace and add, on the page's chosen corpus (`corpus` holds its key; a state, so the
    "/add_articles" endpoint keeps taking files only and adds them to the first folder); changes are
    indexed in the upload queue."""

    def open_article(key: str, doc_id: str | None) -> tuple[str, str]:
        try:
            return qa.reply.article_page(library.get(key).article(doc_id or "")), ""
        except (ValueError, qa.QAError) as error:
            return NOTHING_OPEN, qa.reply.escape_markdown(str(error))

    def delete_article(key: str, doc_id: str | None, progress: gr.Progress = gr.Progress()) -> tuple:
        assistant = library.get(key)
        return (assistant.delete(doc_id or "", _reporter(progress)), *listing_updates(assistant))

    def replace_article(key: str, doc_id: str | None, file: str | None, progress: gr.Progress = gr.Progress()) -> tuple:
        assistant = library.get(key)
        status = assistant.replace(doc_id or "", file, _reporter(progress))
        if file:
            discard_upload(Path(file))  # copied into the corpus, or refused: not kept here either way
        replaced = status.startswith("Replaced")
        page = open_article(key, doc_id)[0] if replaced else NOTHING_OPEN
        chosen = gr.update(choices=assistant.article_choices(), value=doc_id if replaced else None)
        return status, assistant.articles_html(), chosen, page, None

    def add_articles(key: str, files: list[str] | None, progress: gr.Progress = gr.Progress()) -> tuple[str, str]:
        assistant = library.get(key)
        progress(0.0, desc="Adding articles")
        try:
            status, _ = assistant.add(files or [], _reporter(progress))
        finally:
            for path in files or []:  # stored in the corpus or refused, Gradio's copy is not needed
                discard_upload(Path(path))
        return status, assistant.articles_html()

    private = dict(api_visibility="private")
    reading = dict(inputs=[corpus, panel.chosen], outputs=[panel.opened, panel.status], **private)
    panel.open.click(open_article, **reading)
    panel.chosen.input(open_article, **reading)
    changed = [panel.status, panel.listing, panel.chosen, panel.opened]
    panel.delete.click(delete_article, inputs=[corpus, panel.chosen], outputs=changed, **private, **UPLOADS)
    panel.replace.click(
        replace_article, inputs=[corpus, panel.chosen, panel.replacement], outputs=[*changed, panel.replacement],
        **private, **UPLOADS,
    )
    panel.add.click(
        add_articles, inputs=[corpus, panel.upload], outputs=[panel.status, panel.listing], api_name="add_articles",
        **UPLOADS,
    ).then(
        lambda key: listing_updates(library.get(key))[1:], inputs=corpus, outputs=[panel.chosen, panel.opened],
        queue=False, **private,
    )


def _reporter(progress: gr.Progress) -> Callable[[str, int, int], None]:
    def report(stage: str, done: int, total: int) -> None:
        # stages are "reading articles", "embedding sentences", ...: count in their noun
        progress((done, total) if total else 0.0, desc=f"Indexing: {stage}", unit=stage.split()[-1])

    return report
