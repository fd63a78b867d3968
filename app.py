"""Web chat over a folder of news articles: answers with [n] markers, evidence beside them.

    python app.py                      # the bundled seeds/ (or env QA_CORPUS)
    python app.py --corpus my/articles
    python app.py --corpus news/2024 --corpus news/2025   # the page chooses between them

Serves on 127.0.0.1:7860 unless GRADIO_SERVER_NAME / GRADIO_SERVER_PORT say otherwise.
API (gradio_client): "/chat" (message -> reply markdown), "/ask" (message, history and
optional filters -> the answer as JSON), "/add_articles" (files -> status, article table).
A thin shell over the public names of `qa`: this file loads and serves; the page is
built panel by panel in `webchat.page`, the server's shared state is `webchat.assistant`.
The example questions and the filter's hints come from the chosen corpus: questions made
from its newest headlines that it answers, its date range, its outlets. With several
folders, the page chooses among them (nothing else can be chosen); the first is loaded at
start, the others when chosen; the endpoints answer from the first.

Under load: questions and uploads queue apart (an upload's build never takes a question's
place), questions are answered from the last good index while a build runs, and long
questions (many parts, many words) take turns in a few slots of their own, so they cannot
starve the short ones.
"""

import argparse
import os
import signal
import sys

from starlette.middleware import Middleware

import qa

from webchat.assistant import Assistant, Library
from webchat.quota import UploadQuota
from webchat.page import CSS, build_ui

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860


def main(argv: list[str] | None = None) -> int:
    """Load the model and the index, then serve the chat until interrupted."""
    parser = argparse.ArgumentParser(description="Web chat over a folder of news articles.")
    parser.add_argument(
        "--corpus", action="append",
        help="folder of articles (default: env QA_CORPUS, else seeds/); give it again for more folders to choose from",
    )
    parser.add_argument(
        "--ray", nargs="?", const="", metavar="ADDRESS",
        help="answer from the corpus's sharded index (`qa index CORPUS --ray`) held by actors on a Ray cluster",
    )
    args = parser.parse_args(argv)
    folders = list(dict.fromkeys(qa.resolve_corpus(c).resolve() for c in (args.corpus or [None])))
    if args.ray is not None and len(folders) > 1:
        parser.error("--ray serves one corpus folder: give --corpus once")
    try:
        missing = [f for f in folders if not f.is_dir()]
        if missing:
            raise qa.CorpusError(f"corpus folder {missing[0]} does not exist; give a folder of news articles")
        corpus = folders[0]
        print(f"Loading the model and the index of {corpus} …", flush=True)
        if args.ray is not None:
            assistants = [Assistant(corpus, index=qa.open_sharded_index(corpus, address=args.ray or None))]
        else:
            qa.warm_up(corpus)
            assistants = [Assistant(folder) for folder in folders]  # the others' indexes load when chosen
    except (qa.QAError, ImportError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    demo = build_ui(Library(assistants))
    # SIGTERM (a service manager, `kill`) stops the server as Ctrl-C does, so that exit
    # handlers run: each assistant's exported conversations are removed with it
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    demo.launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME") or DEFAULT_HOST,
        server_port=int(os.environ.get("GRADIO_SERVER_PORT") or DEFAULT_PORT),
        max_file_size=qa.MAX_UPLOAD_BYTES * 2,
        ssr_mode=False,
        css=CSS,
        footer_links=["api"],
        app_kwargs={"middleware": [Middleware(UploadQuota)]},  # a per-client quota on raw uploads
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
