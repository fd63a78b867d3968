"""doc id -> article over a build's articles, optionally a filtered view's (`ArticlesById`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Iterable, Iterator

import numpy as np

from qa.indexing.article_table import ArticleTable
from qa.types import Article


class ArticlesById(Mapping):
    """doc id -> `Article` over a build's articles (an `ArticleTable`'s are made when read),
    optionally only those of a `keep` mask (a filtered view); `code(doc_id)` is an article's
    row among all of them, kept or not."""

    def __init__(self, articles: Sequence[Article], keep: np.ndarray | None = None) -> None:
        self._articles = articles
        self._keep = keep
        if isinstance(articles, ArticleTable):
            self._ids, self._code = articles.doc_ids, articles.code
        else:
            self._ids = [a.doc_id for a in articles]
            self._code = {d: i for i, d in enumerate(self._ids)}.get

    def code(self, doc_id: str) -> int | None:
        return self._code(doc_id)

    @property
    def ids(self) -> Sequence[str]:
        """The doc id of every article of the build, by code (this view's or not)."""
        return self._ids

    def __getitem__(self, doc_id: str) -> Article:
        code = self._code(doc_id)
        if code is None or (self._keep is not None and not self._keep[code]):
            raise KeyError(doc_id)
        return self._articles[code]

    def __contains__(self, doc_id: object) -> bool:
        code = self._code(doc_id) if isinstance(doc_id, str) else None
        return code is not None and (self._keep is None or bool(self._keep[code]))

    def __iter__(self) -> Iterator[str]:
        if self._keep is None:
            return iter(self._ids)
        return (self._ids[i] for i in np.flatnonzero(self._keep).tolist())

    def __len__(self) -> int:
        return len(self._ids) if self._keep is None else int(np.count_nonzero(self._keep))

    def within(self, doc_ids: set[str]) -> ArticlesById:
        """Only the articles of `doc_ids` (and of this view)."""
        return self.within_mask(self.mask_of(doc_ids))

    def within_mask(self, keep: np.ndarray) -> ArticlesById:
        """Only the articles whose codes `keep` marks (a bool per article of the build), and of this view."""
        return ArticlesById(self._articles, keep if self._keep is None else keep & self._keep)

    def mask(self) -> np.ndarray:
        """This view's articles as a bool per article of the build (a question's filters are
        such masks: a million articles' doc ids as sets took half a second a question)."""
        return np.ones(len(self._ids), dtype=bool) if self._keep is None else self._keep.copy()

    def mask_of(self, doc_ids: Iterable[str]) -> np.ndarray:
        """The articles of `doc_ids` that this view holds, as a bool per article of the build."""
        keep = np.zeros(len(self._ids), dtype=bool)
        codes = [c for c in map(self._code, doc_ids) if c is not None]
        keep[np.asarray(codes, dtype=np.int64)] = True
        return keep if self._keep is None else keep & self._keep

    def all_days(self) -> np.ndarray:
        """Every article's publication day (this view's or not, by code) as a proleptic ordinal, -1 when unknown."""
        if isinstance(self._articles, ArticleTable):
            return self._articles.days()
        dates = (a.published_date for a in self._articles)
        return np.fromiter((d.toordinal() if d else -1 for d in dates), np.int64, len(self._ids))

    def outlets_mask(self, outlets: Iterable[str]) -> np.ndarray:
        """This view's articles from one of `outlets` (compared without regard to case), as a
        bool per article of the build."""
        wanted = {o.casefold() for o in outlets}
        if isinstance(self._articles, ArticleTable):
            keep = self._articles.outlets_in(wanted)
        else:
            keep = np.fromiter((a.outlet.casefold() in wanted for a in self._articles), bool, len(self._ids))
        return keep if self._keep is None else keep & self._keep
