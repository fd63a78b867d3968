"""The `qa` command: `qa index [CORPUS]`, `qa ask "question"`, `qa chat` (a conversation, in
`qa.terminal`), `qa articles` (list, open, replace, delete), and commands that other
packages add under the entry-point group `qa.commands` (the benchmark adds `qa eval`), so
the library never imports its benchmark. A thin shell: it calls the public names of `qa`
(`import qa`) and formats what they return."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from dataclasses import asdict
from importlib import metadata
from typing import Sequence

import qa
from qa.terminal import COMMANDS, ProgressBars, chat, quiet_progress_in_logs, show_answer

EXIT_USAGE = 2
PLUGIN_GROUP = "qa.commands"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    plugins = _plugin_commands()
    if args[:1] and args[0] in plugins:
        return plugins[args[0]].load()(args[1:], prog=f"qa {args[0]}")
    parser = _parser(plugins)
    options = parser.parse_args(args)
    warnings.showwarning = _show_warning
    quiet_progress_in_logs()
    try:
        return options.run(options)
    except ValueError as error:  # includes CorpusError: the message says what to do
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except ImportError as error:  # an optional extra is missing (Ray for --ray): the message says which
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (qa.QAError, FileNotFoundError, PermissionError, IsADirectoryError) as error:  # or a file named cannot be read
        print(f"error: {error}", file=sys.stderr)
        return 1


def _plugin_commands() -> dict[str, metadata.EntryPoint]:
    """Commands installed packages add to `qa` (entry-point group `qa.commands`)."""
    return {entry.name: entry for entry in metadata.entry_points(group=PLUGIN_GROUP)}


def _parser(plugins: dict[str, metadata.EntryPoint]) -> argparse.ArgumentParser:
    corpus_help = f"folder of articles ({', '.join(qa.article_suffixes())}; default: seeds/ or $QA_CORPUS)"
    parser = argparse.ArgumentParser(prog="qa", description="Cited answers from a folder of news articles.")
    commands = parser.add_subparsers(dest="command", required=True)

    index = commands.add_parser("index", help="build or update the index of a corpus folder")
    index.add_argument("corpus", nargs="?", help=corpus_help)
    index.add_argument("--force", action="store_true", help="rebuild from scratch, even if the index is current")
    index.add_argument(
        "--ray", nargs="?", const="", metavar="ADDRESS",
        help="build a sharded index on a Ray cluster (after CORPUS; ADDRESS: host:port of its head, "
        "default the cluster started on this machine, else a local one; needs the [distributed] extra)",
    )
    index.add_argument("--shards", type=int, help="with --ray: how many shards (default: the cluster's CPUs)")
    _common(index)
    index.set_defaults(run=_run_index)

    ask = commands.add_parser("ask", help="answer a question from the articles")
    ask.add_argument("question")
    ask.add_argument("--corpus", help=corpus_help)
    ask.add_argument("--json", action="store_true", help="print the full answer as JSON")
    _filters(ask)
    ask.add_argument(
        "--as-of", dest="as_of", metavar="DAY",
        help="ask as of DAY (default today): only articles published by then; 'this week', 'recently' ... count back from it",
    )
    _common(ask)
    ask.set_defaults(run=_run_ask)

    talk = commands.add_parser(
        "chat", help="a conversation in the terminal: follow-ups, /sources, /open N, /history, /clear, /quit",
        description="Ask question after question in one process (the model loads once); each is answered with the "
        "conversation so far. Lines starting with / are commands: "
        + "; ".join(f"{c} ({what})" for c, what in COMMANDS.items()) + ".",
    )
    talk.add_argument("--corpus", help=corpus_help)
    talk.add_argument("--as-of", dest="as_of", metavar="DAY", help="ask as of DAY (default today), as in `qa ask`")
    _common(talk)
    talk.set_defaults(run=_run_chat)

    listing = commands.add_parser(
        "articles", help="list the corpus's articles (filtered), or open, replace or delete one",
        description="List the articles of a corpus folder as the index reads them; --open, --replace and --delete "
        "act on one (the index follows at the next question).",
    )
    listing.add_argument("--corpus", help=corpus_help)
    listing.add_argument("--json", action="store_true", help="print JSON (with --open: the article with its text)")
    _filters(listing)
    listing.add_argument("--grep", metavar="TEXT", help="only articles whose title or text holds TEXT (any case)")
    action = listing.add_mutually_exclusive_group()
    action.add_argument("--open", metavar="DOC_ID", help="show one article: its metadata and text")
    action.add_argument("--delete", metavar="DOC_ID", help="delete an article's file from the corpus folder")
    action.add_argument(
        "--replace", nargs=2, metavar=("DOC_ID", "FILE"), help="put FILE in place of an article, under its name"
    )
    listing.set_defaults(run=_run_articles)

    for name, entry in sorted(plugins.items()):
        commands.add_parser(name, help=f"see `qa {name} --help` ({entry.value})", add_help=False)
    return parser


def _filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="published_from", metavar="DAY", help="only articles published on or after DAY (2015-03-01)")
    parser.add_argument("--to", dest="published_to", metavar="DAY", help="only articles published on or before DAY")
    parser.add_argument("--outlet", dest="outlets", action="append", metavar="NAME", help="only articles of this outlet (repeatable)")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--index-dir", help="where indexes live (default: index/ or $QA_INDEX_DIR)")
    parser.add_argument("--model", help="sentence-transformers model name or folder (default: $QA_MODEL)")


def _settings(options: argparse.Namespace) -> qa.Settings:
    return qa.settings_from_env(model=options.model, index_dir=options.index_dir)


def _run_index(options: argparse.Namespace) -> int:
    if options.ray is not None:
        return _run_sharded_index(options)
    with ProgressBars() as bars:
        info = qa.index_info(
            qa.build_index(options.corpus, settings=_settings(options), progress=bars.update, force=options.force)
        )
    what = f"{info.articles} articles: {info.sentences} sentences, {info.chunks} chunks (model {info.model})"
    if bars.built:
        print(f"indexed {what}")
    else:
        print(f"the index is up to date: nothing changed since it was built at {info.built_at}; {what}")
    return 0


def _run_sharded_index(options: argparse.Namespace) -> int:
    from pathlib import Path

    corpus, address = options.corpus, options.ray
    if corpus is None and address and Path(address).is_dir():  # `qa index --ray CORPUS`: a folder, not an address
        corpus, address = address, ""
    with ProgressBars() as bars:
        info = qa.build_sharded_index(
            corpus, address=address or None, shards=options.shards, settings=_settings(options), progress=bars.update
        )
    print(
        f"indexed {info.articles} articles: {info.sentences} sentences, {info.chunks} chunks "
        f"in {info.shards} shards on Ray (model {info.model})"
    )
    return 0


def _run_ask(options: argparse.Namespace) -> int:
    answer = qa.ask(
        options.question, corpus=options.corpus, settings=_settings(options), published_from=options.published_from,
        published_to=options.published_to, outlets=options.outlets, as_of=options.as_of,
    )
    if options.json:
        print(json.dumps(asdict(answer), ensure_ascii=False, indent=2))
    else:
        show_answer(answer)
    return 0


def _run_chat(options: argparse.Namespace) -> int:
    return chat(options.corpus, _settings(options), as_of=options.as_of)


def _run_articles(options: argparse.Namespace) -> int:
    corpus = options.corpus
    if options.delete:
        removed = qa.delete_article(options.delete, corpus)
        print(f"deleted {options.delete} ({removed.name}); the index leaves it out from the next question on")
    elif options.replace:
        doc_id, file = options.replace
        written = qa.replace_article(doc_id, file, corpus)
        print(f"replaced {doc_id} with {file} (now {written.name}); the index reads it at the next question")
    elif options.open:
        found = qa.article(options.open, corpus)
        print(json.dumps(asdict(found), ensure_ascii=False, indent=2) if options.json else _article_text(found))
    else:
        listed = qa.articles(
            corpus, outlets=options.outlets, published_from=options.published_from, published_to=options.published_to,
            grep=options.grep,
        )
        if options.json:
            rows = [{**{k: v for k, v in asdict(a).items() if k != "text"}, "characters": len(a.text)} for a in listed]
            print(json.dumps(rows, ensure_ascii=False, indent=2))
        else:
            print("\n".join(_article_rows(listed)))
    return 0


def _article_rows(listed: Sequence[qa.Article]) -> list[str]:
    """The listing as aligned columns (doc id, day, outlet, title), with no padding after the last."""
    rows = [("DOC ID", "PUBLISHED", "OUTLET", "TITLE")] + [
        (a.doc_id, a.published or "-", a.outlet or "-", " ".join(a.title.split())) for a in listed
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["  ".join([*(cell.ljust(width) for cell, width in zip(row, widths)), row[3]]) for row in rows]
    return [*lines, f"{len(listed)} article(s)"]


def _article_text(found: qa.Article) -> str:
    """An article as read: title, outlet, day and author, address, doc id and file, then its text."""
    byline = " · ".join(x for x in (found.outlet, found.published, f"by {found.author}" if found.author else "") if x)
    head = [found.title, byline, found.url, f"doc id {found.doc_id} ({found.path}, {len(found.text):,} characters)"]
    return "\n".join([*(line for line in head if line), "", found.text.rstrip()])


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    print(f"warning: {message}", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
