"""Semantic re-ranking around any engine.

Declared beside the engine it wraps (``search.loader`` builds both)::

    SHUYUAN_SEARCH = {"default": {"BACKEND": "search.backends.embedded", "OPTIONS": {...},
                                  "RERANK": {"BACKEND": "search.semantic.E5Reranker", "OPTIONS": {...}}}}

The wrapper is itself an engine: writes, suggestions and health go straight to the engine it wraps;
a query the re-ranker applies to (:meth:`search.semantic.Reranker.applies`) asks the engine for its
best hits as (id, score) (:meth:`~search.backends.base.BaseSearchBackend.ranked_window`), reorders
the first ``window`` of them, and has the engine build the display data of the page's hits only
(:meth:`~search.backends.base.BaseSearchBackend.window_hits`).  Every other query is the engine's.

What it never changes: which documents match.  Totals, facets and the visibility filter are the
engine's; past the window the engine's order stands, so consecutive pages never repeat or skip a hit.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from search.backends.base import (
    BaseSearchBackend,
    Capabilities,
    HealthStatus,
    Progress,
    SearchDocument,
    SearchQuery,
    SearchResults,
)
from search.text import Analyzer, QueryTerms

if TYPE_CHECKING:
    from search.semantic import Reranker


class RerankedSearchBackend(BaseSearchBackend):
    """``engine`` with its best hits reordered by ``reranker``."""

    def __init__(self, engine: BaseSearchBackend, reranker: Reranker) -> None:
        # no BaseSearchBackend.__init__: options, ranking and analyzer are the engine's
        if type(engine).ranked_window is BaseSearchBackend.ranked_window:
            raise ValueError(f"{type(engine).__name__} cannot be re-ranked: it has no ranked_window()")
        self.engine = engine
        self._reranker = reranker

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.engine!r} by {type(self._reranker).__name__}>"

    # -- the engine's own ---------------------------------------------------------------------
    @property
    def reranker(self) -> Reranker:
        return self._reranker

    @property
    def capabilities(self) -> Capabilities:  # type: ignore[override]
        return self.engine.capabilities

    @property
    def options(self) -> dict[str, Any]:  # type: ignore[override]
        return self.engine.options

    @property
    def ranking(self):  # type: ignore[override]
        return self.engine.ranking

    @property
    def _analyzer(self) -> Analyzer | None:  # type: ignore[override]
        return self.engine._analyzer

    @property
    def analyzer(self) -> Analyzer:
        return self.engine.analyzer

    def set_analyzer(self, analyzer: Analyzer) -> None:
        self.engine.set_analyzer(analyzer)

    def index(self, docs: Iterable[SearchDocument]) -> int:
        return self.engine.index(docs)

    def delete(self, ids: Iterable[str]) -> None:
        self.engine.delete(ids)

    def rebuild(self, docs: Iterable[SearchDocument], progress: Progress | None = None) -> int:
        return self.engine.rebuild(docs, progress=progress)

    def clear(self) -> None:
        self.engine.clear()

    def suggest(self, prefix: str, audiences: frozenset[str], locale: str | None = None, limit: int = 8) -> list[str]:
        return self.engine.suggest(prefix, audiences, locale=locale, limit=limit)

    def health(self) -> HealthStatus:
        return self.engine.health()

    def ranked_window(self, query, terms, depth):
        return self.engine.ranked_window(query, terms, depth)

    def window_hits(self, query, terms, window, picks):
        return self.engine.window_hits(query, terms, window, picks)

    def __getattr__(self, name: str) -> Any:
        # what only some engines have (document_ids, path, client, ...) is the engine's too
        if name in ("engine", "_reranker"):
            raise AttributeError(name)
        return getattr(self.engine, name)

    # -- the one thing it adds --------------------------------------------------------------
    def search(self, query: SearchQuery, terms: QueryTerms | None = None) -> SearchResults:
        if not query.audiences:
            return self.engine.search(query, terms)
        terms = terms if terms is not None else self.engine.analyzer.query(query.q)
        reranker = self._reranker
        if not reranker.applies(query, terms):
            return self.engine.search(query, terms)
        size = reranker.window
        # the window, or more when the page runs past its end
        window = self.engine.ranked_window(query, terms, max(size, query.offset + query.page_size))
        if window is None:
            return SearchResults.empty(query)
        candidates = window.candidates
        order = [*reranker.order(query.q, candidates[:size]), *range(size, len(candidates))]
        picks = order[query.offset : query.offset + query.page_size]
        hits = self.engine.window_hits(query, terms, window, picks)
        return SearchResults(total=window.total, hits=hits, facets=window.facets, page=query.page, page_size=query.page_size)
