"""The chat server's shared state: its corpus folders (`Library`), and for each (`Assistant`) the
article texts, article management, long-question slots, notes, exports.

Gradio-free, so it can be tested on its own; `app.py` builds the page around it. Like the
page, it uses the public names of `qa` only.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
import uuid
import warnings
import weakref
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Sequence

import qa

LONG_QUESTION_CHARS = 300  # longer, or more than two parts: a long question
LONG_QUESTION_SLOTS = 2  # long questions answered at once; the others wait for a slot
LONG_QUESTION_WAIT_S = 20.0  # a long question waiting longer than this is refused with a message
SHARDED_UPLOADS = (
    "This chat answers from a sharded index, served as it was built: change the files in the corpus "
    "folder, run `qa index CORPUS --ray` and restart the chat."
)
CHOOSE_ARTICLE = "Choose an article first."
CHOOSE_REPLACEMENT = f"Choose the file ({', '.join(qa.article_suffixes())}) to put in its place first."
MAX_EXAMPLES = 4  # example questions offered under the question box
CHOOSE_FILES = f"Choose one or more article files ({', '.join(qa.article_suffixes())}) first."
UPDATING = (
    "The index is being updated with new or changed articles; "
    "this answer comes from the articles indexed so far."
)


EXPORT_AGE_S = 600  # an exported conversation is kept this long for its download


class Busy(qa.QAError):
    """Too many long questions at once; the message says to try again."""


class Assistant:
    """The shared state of one server: its corpus folder, article texts and an add lock.

    `index` is a sharded index served as it was built (`qa.open_sharded_index`, `--ray`);
    None: the corpus's own index, which `qa.ask` keeps current.
    """

    def __init__(self, corpus: Path, settings: qa.Settings | None = None, index: object | None = None) -> None:
        self.corpus = corpus
        self.settings = settings or qa.settings_from_env()
        self.index = index
        self.threshold = qa.abstention_threshold(self.settings)  # under it answers are declined; the chat says so
        self._add_lock = threading.Lock()
        self._texts_lock = threading.Lock()
        self._texts: dict[str, str] = {}
        self._long = threading.BoundedSemaphore(LONG_QUESTION_SLOTS)
        self._listing: tuple[Sequence[qa.Article], str] | None = None  # (articles, their table)
        self._examples: tuple[Sequence[qa.Article], list[str]] | None = None  # (articles, questions they answer)
        self._exports: Path | None = None  # made on the first export, removed with this assistant (`_export_folder`)
        self._exports_lock = threading.Lock()
        self._refresh_texts()

    def ask(self, question: str, history: object = None, **scope: object) -> tuple[qa.Answer, list[str]]:
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
        if qa.updating(self.corpus, settings=self.settings):
            notes.append(UPDATING)
        return answer, list(dict.fromkeys(notes))

    def evidence(self, answer: qa.Answer) -> str:
        """The evidence panel of an answer, with texts re-read if the corpus changed."""
        if any(not self._matches(c.doc_id, c.start, c.end, c.quote) for c in answer.citations):
            self._refresh_texts()
        with self._texts_lock:
            texts = self._texts  # replaced whole on refresh, never changed in place
        return qa.reply.evidence_html(answer, texts)

    def articles_html(self) -> str:
        """The corpus listing, made again only when a file was added, changed or removed."""
        listed = self._articles()
        cached = self._listing
        if cached is None or cached[0] != listed:
            cached = self._listing = (listed, qa.reply.articles_html(listed))
        return cached[1]

    def summary(self) -> qa.CorpusSummary:
        """What the corpus covers (its date range and outlets): the filter's hints and choices."""
        try:
            return qa.corpus_summary(self.corpus)
        except qa.QAError:  # the folder went away: an empty corpus until it is back
            return qa.CorpusSummary(self.corpus, 0, "", "", (), ())

    def examples(self) -> list[str]:
        """Questions made from the corpus's newest headlines that it answers, made again when it changes.

        While the index is being updated the last ones stay: they were asked of a complete
        index, and the update's parser is not shared with them.
        """
        listed = self._articles()
        cached = self._examples
        if cached is not None and (cached[0] == listed or qa.updating(self.corpus, settings=self.settings)):
            return cached[1]
        try:
            questions = qa.example_questions(
                self.corpus, count=MAX_EXAMPLES, index=self.index, settings=self.settings
            ) if listed else []
        except (ValueError, qa.QAError):
            questions = []
        self._examples = (listed, questions)
        return questions

    def _articles(self) -> Sequence[qa.Article]:
        try:
            return qa.articles(self.corpus)
        except qa.QAError:
            return ()

    def add(
        self, files: Sequence[str | tuple[str, bytes]], progress: Callable[[str, int, int], None]
    ) -> tuple[str, list[str]]:
        """Store uploaded articles and re-index, one change of the folder at a time.

        Questions go on meanwhile, answered from the last good index.

        Returns:
            A markdown status, and the files (as given) that were not added.
        """
        if not files:
            return CHOOSE_FILES, []
        if self.index is not None:
            return SHARDED_UPLOADS, [f for f in files if not isinstance(f, tuple)]
        with self._add_lock:
            result = qa.add_articles(files, self.corpus)
            failure = self._reindex(progress) if result.added else None
        names = ", ".join(f"`{n}`" for n in result.added)  # safe: [A-Za-z0-9._-]
        if not result.added:
            lines = []
        elif failure is None:
            lines = [f"Added and indexed: {names}."]
        else:
            lines = [f"Added to the corpus but not indexed: {names}. {_not_indexed(failure)}"]
        lines += [
            f"Already in the corpus: {qa.reply.escape_markdown(Path(given).name)} (as "
            f"{qa.reply.escape_markdown(kept)}); nothing added." for given, kept in result.already
        ]
        lines += [f"Not added: {qa.reply.escape_markdown(why)}" for _, why in result.refused]
        return "\n\n".join(lines), [given for given, _ in result.refused]

    def article(self, doc_id: str) -> qa.Article:
        """The article `doc_id` of this corpus, to read in full.

        Raises:
            qa.CorpusError: there is none (the message says so).
        """
        if not doc_id:
            raise qa.CorpusError(CHOOSE_ARTICLE)
        return qa.article(doc_id, self.corpus)

    def delete(self, doc_id: str, progress: Callable[[str, int, int], None]) -> str:
        """Delete an article's file from the corpus folder and re-index; a markdown status.

        Refused (the status says why) for an article that shares its file with others.
        """
        return self._change(doc_id, lambda: qa.delete_article(doc_id, self.corpus), "Deleted", "left out of", progress)

    def replace(self, doc_id: str, file: str | tuple[str, bytes] | None, progress: Callable[[str, int, int], None]) -> str:
        """Put an uploaded file in place of an article (under its name) and re-index; a markdown status."""
        if not file:
            return CHOOSE_REPLACEMENT
        return self._change(doc_id, lambda: qa.replace_article(doc_id, file, self.corpus), "Replaced", "read into", progress)

    def _change(
        self, doc_id: str, change: Callable[[], Path], done: str, indexed: str, progress: Callable[[str, int, int], None]
    ) -> str:
        """Change the folder as `change` does, then the index; the status says what was done, as `done`."""
        if not doc_id:
            return CHOOSE_ARTICLE
        if self.index is not None:
            return SHARDED_UPLOADS
        with self._add_lock:
            try:
                written = change()
            except (qa.QAError, OSError) as error:
                return f"Not changed: {qa.reply.escape_markdown(str(error))}"
            failure = self._reindex(progress)
        what = f"{done} {qa.reply.escape_markdown(doc_id)} (file {qa.reply.escape_markdown(written.name)})"
        return f"{what}; {indexed} the index." if failure is None else f"{what} in the corpus folder. {_not_indexed(failure)}"

    def _reindex(self, progress: Callable[[str, int, int], None]) -> str | None:
        """Bring the index up to date with the folder; why it failed, or None."""
        try:
            qa.build_index(self.corpus, settings=self.settings, progress=progress)
        except Exception as error:  # noqa: BLE001 - reported to the user; the last good index stays in use
            return str(error)
        finally:
            self._refresh_texts()
        return None

    def warm(self, progress: Callable[[str, int, int], None]) -> str | None:
        """Build (or load) this corpus's index now, as a chosen corpus must be before its first question;
        why it failed, or None."""
        return self._reindex(progress) if self.index is None else None

    def article_choices(self) -> list[tuple[str, str]]:
        """(label, doc id) of every article, for choosing one to open, replace or delete."""
        return [(f"{' '.join(a.title.split())[:80]} · {a.doc_id}", a.doc_id) for a in self._articles()]

    def export(self, turns: list[tuple[str, qa.Answer]]) -> Path:
        """The conversation written as a Markdown file for download, once per answer; files
        older than EXPORT_AGE_S are removed first (Gradio serves its own copy, which its
        cache sweep removes)."""
        folder = self._export_folder()
        _sweep_exports(folder)
        stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        text = qa.reply.conversation_markdown(turns, note=f"Exported {stamp} from the articles in {self.corpus.name}/")
        target = folder / uuid.uuid4().hex[:8] / "conversation.md"
        target.parent.mkdir(parents=True)
        target.write_text(text, encoding="utf-8")
        return target

    def _export_folder(self) -> Path:
        """The folder of this assistant's exports, made when first needed. It is removed with
        the assistant or when the process exits (exported conversations are the user's
        questions: none is left behind in the temporary folder)."""
        with self._exports_lock:
            if self._exports is None:
                self._exports = Path(tempfile.mkdtemp(prefix="newsqa-export-"))
                weakref.finalize(self, shutil.rmtree, self._exports, ignore_errors=True)
            return self._exports

    def _matches(self, doc_id: str, start: int, end: int, quote: str) -> bool:
        with self._texts_lock:
            return self._texts.get(doc_id, "")[start:end] == quote

    def _refresh_texts(self) -> None:
        texts = {a.doc_id: a.text for a in self._articles()}
        with self._texts_lock:
            self._texts = texts


class Library:
    """The corpus folders a server was started with (`--corpus` given more than once), one `Assistant`
    each. A page chooses among them by key; nothing outside them can be chosen."""

    def __init__(self, assistants: Sequence[Assistant]) -> None:
        if not assistants:
            raise ValueError("a library needs at least one corpus folder")
        self._assistants = {str(number): assistant for number, assistant in enumerate(assistants)}
        names = [a.corpus.name for a in assistants]
        self._labels = {
            key: (a.corpus.name if names.count(a.corpus.name) == 1 else str(a.corpus)) or str(a.corpus)
            for key, a in self._assistants.items()
        }

    @property
    def first(self) -> str:
        """The key of the folder a page opens on (the first one given)."""
        return "0"

    def choices(self) -> list[tuple[str, str]]:
        """(folder name, key) of every folder, in the order given."""
        return [(label, key) for key, label in self._labels.items()]

    def get(self, key: object) -> Assistant:
        """The assistant of the folder `key`.

        Raises:
            ValueError: `key` names none of the folders this server was started with.
        """
        found = self._assistants.get(key) if isinstance(key, str) else None
        if found is None:
            raise ValueError("choose one of the corpus folders this chat was started with")
        return found

    def __len__(self) -> int:
        return len(self._assistants)


def _not_indexed(failure: str) -> str:
    """Why the index could not follow a change of the folder, and what is answered meanwhile."""
    return f"Indexing failed: {qa.reply.escape_markdown(failure)} Questions are answered from the articles indexed before."


def _sweep_exports(exports: Path) -> None:
    """Remove the exports in `exports` older than EXPORT_AGE_S."""
    cutoff = time.time() - EXPORT_AGE_S
    for folder in list(exports.iterdir()):
        try:
            if folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue  # removed meanwhile


def _is_long(question: object) -> bool:
    """Many characters or more than two parts: answered in the few slots for long questions."""
    if not isinstance(question, str):
        return False
    text = " ".join(question.split())
    return len(text) > LONG_QUESTION_CHARS or qa.question_parts(text) > 2


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
        if notes is not None and issubclass(category, qa.QuestionWarning):
            notes.append(str(message))
            return
        shown(message, category, filename, lineno, file, line)

    warnings.filterwarnings("always", category=qa.QuestionWarning)  # every request's notes, not the first only
    warnings.showwarning = show
    _notes_installed = True


def with_notes(markdown: str, notes: list[str]) -> str:
    """The reply with a line per note under it."""
    return "\n\n".join([markdown, *(f"*Note: {qa.reply.escape_markdown(n)}*" for n in notes)])
