"""The terminal's side of the command line: a conversation (`qa chat`), answers as a terminal
or a file shows them, and progress bars that leave no escape codes in a log.

`qa chat` is one process: the model and the index load once, then every question is
answered in well under a second, each with the conversation so far (follow-ups). Lines
starting with "/" are commands (`COMMANDS`). On a terminal, replies are rendered with rich
(bold answers, wrapped to its width); written to a file or a pipe they are plain text: no
padding to a width, no escape codes. A thin shell, like `qa.cli`: public names of `qa` only.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import IO, Iterator

import qa

COMMANDS = {
    "/sources": "the last answer's sources in full",
    "/open N": "the article of source N",
    "/why": "what the last answer's confidence and counts mean",
    "/history": "the questions asked so far",
    "/clear": "start a new conversation",
    "/quit": "leave (or Ctrl-D)",
}
PROMPT = "> "


def plain(stream: IO[str]) -> bool:
    """Whether `stream` is a file or a pipe rather than a terminal: then plain text, no escape codes."""
    return not stream.isatty()


def show_answer(answer: qa.Answer, out: IO[str] = sys.stdout) -> None:
    """The reply and its confidence: rendered for a terminal, or plain lines for a file or a pipe."""
    verdict = f"confidence {answer.confidence:.2f}" + ("" if answer.answerable else " (not answered)")
    if plain(out):
        print(qa.reply.plain_text(answer.text), file=out)
        print(f"\n{verdict}", file=out, flush=True)
        return
    from rich.console import Console
    from rich.markdown import Markdown

    console = Console(file=out, highlight=False)
    console.print(Markdown(answer.text.replace("\n", "  \n")))  # one line per part and per source
    style = "green" if answer.answerable and answer.confidence >= 0.75 else "yellow" if answer.answerable else "dim"
    console.print(f"\n{qa.reply.confidence_label(answer.confidence, answer.answerable)} · {verdict}", style=style, markup=False)


@dataclass
class Conversation:
    """One terminal conversation: its corpus, day and settings, and the turns asked so far."""

    corpus: str | None
    settings: qa.Settings
    as_of: str | None = None
    turns: list[tuple[str, qa.Answer]] = field(default_factory=list)

    def ask(self, question: str) -> qa.Answer:
        """Answer `question` with the conversation so far, and keep the turn."""
        history = [(asked, answer.text) for asked, answer in self.turns]
        answer = qa.ask(question, corpus=self.corpus, history=history, settings=self.settings, as_of=self.as_of)
        self.turns.append((question, answer))
        return answer

    def command(self, line: str) -> tuple[str, bool]:
        """The text a "/command" line prints, and whether the conversation goes on.

        Raises:
            qa.QAError: an article of a source cannot be opened.
        """
        name, _, argument = line.strip().partition(" ")
        last = self.turns[-1][1] if self.turns else None
        if name in ("/quit", "/exit", "/q"):
            return "", False
        if name == "/clear":
            self.turns.clear()
            return "A new conversation: earlier questions no longer count for follow-ups.", True
        if name == "/history":
            lines = [f"{n}. {q}  →  {a.answer or 'not answered'} ({a.confidence:.2f})" for n, (q, a) in enumerate(self.turns, 1)]
            return "\n".join(lines) or "No questions asked yet.", True
        if name in ("/sources", "/open", "/why") and last is None:
            return "Ask a question first.", True
        if name == "/sources":
            return "\n".join(_source_lines(last)) or "The last answer cites no source.", True  # type: ignore[arg-type]
        if name == "/open":
            return self._open(last, argument), True  # type: ignore[arg-type]
        if name == "/why":
            return "\n".join(qa.reply.explanation(last, qa.abstention_threshold(self.settings))), True  # type: ignore[arg-type]
        return "Commands: " + "; ".join(f"{c} ({what})" for c, what in COMMANDS.items()), True

    def _open(self, answer: qa.Answer, argument: str) -> str:
        count = len(answer.citations)
        if not argument.strip().isdigit() or not 1 <= int(argument) <= count:
            return f"Give the number of a source: /open 1 to /open {count}." if count else "The last answer cites no source."
        citation = answer.citations[int(argument) - 1]
        article = qa.article(citation.doc_id, self.corpus)
        byline = " · ".join(x for x in (article.outlet, article.published, article.url) if x)
        head = [article.title, byline, f"doc id {article.doc_id}; source [{argument}] is characters {citation.start}–{citation.end}"]
        return "\n".join([*(line for line in head if line), "", article.text.rstrip()])


def _source_lines(answer: qa.Answer) -> list[str]:
    """Every citation in full: its quote, article, outlet and day, doc id and offsets, address, other articles."""
    lines = []
    for number, citation in enumerate(answer.citations, start=1):
        about = ", ".join(x for x in (citation.title, citation.outlet, citation.published) if x)
        lines.append(f"[{number}] “{' '.join(citation.quote.split())}”")
        lines.append(f"    {about} ({citation.doc_id}, characters {citation.start}–{citation.end})")
        lines += [f"    {citation.url}"] if citation.url else []
        lines += [f"    also in {s.title} ({s.doc_id}, characters {s.start}–{s.end})" for s in citation.also_in]
    return lines


def chat(
    corpus: str | None, settings: qa.Settings, as_of: str | None = None, lines: Iterator[str] | None = None,
    out: IO[str] = sys.stdout,
) -> int:
    """Hold a conversation: load once, then answer each line (or run its /command) until /quit or the end.

    Args:
        corpus: folder of articles (default as in `qa.ask`).
        settings: the settings to answer with.
        as_of: the day the questions are asked (an ISO day; default today).
        lines: the user's lines (default: typed at the prompt, or read from stdin when it is no terminal).
        out: where replies go.
    """
    print(f"Loading the model and the index of {qa.resolve_corpus(corpus)} …", file=sys.stderr, flush=True)
    with ProgressBars() as bars:
        qa.build_index(corpus, settings=settings, progress=bars.update)
    qa.warm_up(corpus, settings)
    conversation = Conversation(corpus, settings, as_of)
    print("Ask about the articles; /help lists the commands, /quit leaves.", file=out, flush=True)
    for line in lines if lines is not None else _typed(out):
        text = line.strip()
        if not text:
            continue
        try:
            if text.startswith("/"):
                said, going_on = conversation.command(text)
                if said:
                    print(said, file=out, flush=True)
                if not going_on:
                    break
                continue
            show_answer(conversation.ask(text), out)
        except (ValueError, qa.QAError) as error:  # a bad question or day: say so and go on
            print(f"error: {error}", file=sys.stderr, flush=True)
        print(file=out, flush=True)
    return 0


def _typed(out: IO[str]) -> Iterator[str]:
    """Lines typed at the prompt (with line editing), or the lines of stdin when it is no terminal."""
    if plain(sys.stdin):
        yield from sys.stdin
        return
    while True:
        try:
            yield input(PROMPT)
        except (EOFError, KeyboardInterrupt):
            print(file=out)
            return


class ProgressBars:
    """One tqdm bar per build stage, shown only for corpora big enough to wait for.

    On a terminal the bars redraw in place; into a file or a pipe each stage writes one
    plain line when it is done, so a log holds no carriage returns or escape codes.
    """

    MIN_TOTAL = 50

    def __init__(self, stream: IO[str] | None = None) -> None:
        self._stream = stream or sys.stderr
        self._bars: dict[str, object] = {}
        self._finished: set[str] = set()
        self.built = False  # a build reports progress; an index that is reused does not

    def __enter__(self) -> "ProgressBars":
        return self

    def __exit__(self, *exc: object) -> None:
        for bar in self._bars.values():
            bar.close()  # type: ignore[attr-defined]

    def update(self, stage: str, done: int, total: int) -> None:
        self.built = True
        if total < self.MIN_TOTAL:
            return
        if plain(self._stream):
            if done >= total and stage not in self._finished:
                self._finished.add(stage)
                print(f"{stage}: {done:,} of {total:,}", file=self._stream, flush=True)
            return
        from tqdm import tqdm

        bar = self._bars.get(stage)
        if bar is None:
            bar = self._bars[stage] = tqdm(total=total, desc=stage, unit="item", file=self._stream)
        bar.n = done  # type: ignore[attr-defined]
        bar.refresh()  # type: ignore[attr-defined]


def quiet_progress_in_logs(stream: IO[str] = sys.stderr) -> None:
    """Into a file or a pipe, no library draws progress bars either (tqdm reads TQDM_DISABLE):
    their carriage returns and escape codes would garble the log."""
    if plain(stream):
        os.environ.setdefault("TQDM_DISABLE", "1")

