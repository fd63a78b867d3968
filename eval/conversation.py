"""Conversations: follow-up questions in the style of CoQA, over the seed articles and the council event.

Each row of eval/conversation/questions.jsonl is a follow-up ("And who is their
spokesman?") with its `history`, the questions asked before it in its conversation,
oldest first. The benchmark asks those in turn, each with the replies before it, then the
follow-up with the whole conversation, and the follow-up once more on its own, so it can
say how often a follow-up's answer is worse than the same question asked alone.

The corpus is both events together (seeds/ and eval/council/articles/, written to a
folder of the work dir), so a conversation about one has the other's articles around it.
"""

from __future__ import annotations

import os
from pathlib import Path

from eval.files import read_text, sync_corpus
from eval.records import EvalSet
from eval.seedset import DEFAULT_SEED_CORPUS, REPO_ROOT, load_seed_set

CONVERSATION_ROOT = REPO_ROOT / "eval" / "conversation"
DEFAULT_CONVERSATION_PATH = CONVERSATION_ROOT / "questions.jsonl"
COUNCIL_ARTICLES = REPO_ROOT / "eval" / "council" / "articles"


def load_conversation(
    work_dir: str | os.PathLike[str],
    path: str | os.PathLike[str] = DEFAULT_CONVERSATION_PATH,
    sources: tuple[Path, ...] = (DEFAULT_SEED_CORPUS, COUNCIL_ARTICLES),
) -> EvalSet:
    """The conversational set "conversation", its corpus the articles of `sources` written to `work_dir`.

    Args:
        work_dir: the corpus folder to write (only changed files are rewritten).
        path: the question file, rows as in eval/questions.jsonl plus `history`.
        sources: folders of `<doc_id>.txt` articles, whose files make the corpus.

    Raises:
        FileNotFoundError: the question file or a gold article is missing.
        ValueError: a malformed row, or evidence found in no gold article.
    """
    texts = {article.stem: read_text(article) for folder in sources for article in sorted(Path(folder).glob("*.txt"))}
    corpus = Path(work_dir)
    sync_corpus(corpus, texts)
    return load_seed_set(path, corpus, name="conversation")
