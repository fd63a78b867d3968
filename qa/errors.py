"""Domain errors; each message says what went wrong and how to fix it."""

from __future__ import annotations


class QAError(Exception):
    """Base class of every error `qa` raises on purpose."""


class CorpusError(QAError, ValueError):
    """The corpus folder is missing, empty, or holds nothing readable."""


class IndexCorruptError(QAError):
    """An index folder is damaged or was built by something else; it will be rebuilt."""


class ModelError(QAError):
    """The embedding or reader model cannot be found or loaded."""
