"""The chat server's shared state: its corpus, the article texts, long-question slots, notes, exports.

Gradio-free, so it can be tested on its own; `app.py` builds the page around it.
"""

from __future__ import annotations

import tempfile
import threading
import time
import uuid
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import qa
from qa.answer.question import QuestionWarning, part_count
from qa.api import updating
from qa.config import Settings, settings_from_env
from qa.errors import QAError
from qa.indexing.memory import SearchIndex
from qa.ingest.corpus import list_articles, scan
from qa.ingest.uploads import add_article
from qa.reply import cards, present
from qa.reply.export import conversation_markdown
from qa.types import Answer

LONG_QUESTION_CHARS = 300  # longer, or more than two parts: a long question
LONG_QUESTION_SLOTS = 2  # long questions answered at once; the others wait for a slot
LONG_QUESTION_WAIT_S = 20.0  # a long question waiting longer than this is refused with a message
SHARDED_UPLOADS = (
    "This chat answers from a sharded index, served as it was built: put the files in the corpus "
    "folder, run `qa index CORPUS --ray` and restart the chat."
)
UPDATING = (
    "The index is being updated with new or changed articles; "
    "this answer comes from the articles indexed so far."
)


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
        self._listing: tuple[tuple, str, list[str]] | None = None  # (files' state, table, outlets)
        self._exports = Path(tempfile.mkdtemp(prefix="newsqa-export-"))
        self._refresh_texts()

    def ask(self, question: str, history: object = None, **scope: object) -> tuple[Answer, list[str]]:
        """`qa.ask` on this corpus, never waiting for a build; the answer and notes for the user.

        The notes say what was left out of the question (QuestionWarning) and whether the
        index is being updated. `scope` holds `qa.ask`'s filters (published_from,
        published_to, outlets); empty values filter nothing.

        Raises:
            ValueError: the question, history or filter is malformed (the message says how).
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
                    index=self.index, **{name: value for name, value in scope.items() if value},  # type: ignore[arg-type]
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
        return cards.evidence_html(answer, texts)

    def articles_html(self) -> str:
        """The corpus listing, read again only when a file was added, changed or removed."""
        return self._listed()[1]

    def outlets(self) -> list[str]:
        """The outlets the corpus names, for the chat's filter (read with the listing)."""
        return self._listed()[2]

    def _listed(self) -> tuple[tuple, str, list[str]]:
        try:
            key = tuple(scan(self.corpus))
        except QAError:
            key = ()
        cached = self._listing
        if cached is not None and cached[0] == key:
            return cached
        articles = list_articles(self.corpus)
        outlets = sorted({a.outlet for a in articles if a.outlet}, key=str.casefold)
        self._listing = (key, cards.articles_html(articles), outlets)
        return self._listing

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
        return "\n\n".join(lines) or "Choose one or more article files first."

    def export(self, turns: list[tuple[str, Answer]]) -> Path:
        """The conversation written as a Markdown file (a new file each time), for download."""
        stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        text = conversation_markdown(turns, note=f"Exported {stamp} from the articles in {self.corpus.name}/")
        target = self._exports / uuid.uuid4().hex[:8] / "conversation.md"
        target.parent.mkdir(parents=True)
        target.write_text(text, encoding="utf-8")
        return target

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


def install_note_hook() -> None:
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


def with_notes(markdown: str, notes: list[str]) -> str:
    """The reply with a line per note under it."""
    return "\n\n".join([markdown, *(f"*Note: {present.escape_markdown(n)}*" for n in notes)])
