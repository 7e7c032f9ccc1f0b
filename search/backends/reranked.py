"""Hybrid retrieval around any engine: candidates from words and from meaning, fused, then re-ranked.

Declared beside the engine it wraps (``search.loader`` builds both)::

    SHUYUAN_SEARCH = {"default": {"BACKEND": "search.backends.embedded", "OPTIONS": {...},
                                  "RERANK": {"BACKEND": "search.semantic.E5Reranker", "OPTIONS": {...}}}}

The wrapper is itself an engine: writes, suggestions and health go straight to the engine it wraps;
a query the stage applies to (:meth:`search.semantic.Reranker.applies`: a relevance-sorted question,
not a short keyword, a 文号 or a date sort) is answered in engine-neutral steps:

1. the engine's best word hits as (id, score) (:meth:`~search.backends.base.BaseSearchBackend.ranked_window`),
   with its total and facets;
2. the documents nearest to the question's vector: the engine's own kNN when it holds vectors
   (:meth:`~search.backends.base.BaseSearchBackend.vector_window`), else the stage's in-process index
   (:class:`search.semantic.VectorIndex`) kept to what the engine's filters admit
   (:meth:`~search.backends.base.BaseSearchBackend.admitted_ids`): visibility is the engine's in both;
3. fusion and re-ranking (:meth:`search.semantic.Reranker.arrange`), then the rest of the word
   ranking in the engine's order; the page's display data come from the engine
   (:meth:`~search.backends.base.BaseSearchBackend.window_hits`), by id and under the same filters.

Counts: ``total`` is the word total plus the candidates found by meaning alone (each admitted by the
engine, so never a restricted one); facets add those candidates' values.  The embedded engine counts
both together in one aggregation (``union_counts``: each document once, so ``total`` and the facets
are exact); an engine that can count a set of ids (``facet_counts``) adds them to the word matches'
facets, where a candidate found by meaning that also matches the words deeper than the fetched window
is counted twice (the last page is then one short: rare and harmless); otherwise the facets are the
word matches' (an undercount, never a leak).
Candidates by meaning are sought for questions only (:meth:`search.semantic.Reranker.widens`: more
than three words or twelve characters); a shorter query is re-ranked in place.
Words alone answer when the model fails, when no vectors exist yet, or when the engine can neither
search vectors nor filter ids.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from search.backends.base import (
    BaseSearchBackend,
    Capabilities,
    HealthStatus,
    Progress,
    RankedWindow,
    SearchDocument,
    SearchQuery,
    SearchResults,
)
from search.text import Analyzer, QueryTerms

if TYPE_CHECKING:
    from search.semantic import Reranker

logger = logging.getLogger("shuyuan.search")


def _holds_vectors(engine: BaseSearchBackend) -> bool:
    return type(engine).put_vectors is not BaseSearchBackend.put_vectors


class RerankedSearchBackend(BaseSearchBackend):
    """``engine`` with hybrid retrieval by ``reranker``."""

    def __init__(self, engine: BaseSearchBackend, reranker: Reranker) -> None:
        # no BaseSearchBackend.__init__: options, ranking and analyzer are the engine's
        if type(engine).ranked_window is BaseSearchBackend.ranked_window:
            raise ValueError(f"{type(engine).__name__} cannot be re-ranked: it has no ranked_window()")
        self.engine = engine
        self._reranker = reranker
        if _holds_vectors(engine):
            # an engine that answers vector_window itself receives every vector the stage stores
            reranker.listeners.append(engine.put_vectors)

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
        count = self.engine.rebuild(docs, progress=progress)
        if _holds_vectors(self.engine):
            self._push_vectors()
        return count

    def _push_vectors(self, batch: int = 500) -> None:
        """Hand the stored vectors to an engine that keeps its own (after a rebuild emptied it)."""
        store = self._reranker.store
        ids = sorted(store.ids())
        for start in range(0, len(ids), batch):
            rows = store.get(ids[start : start + batch])
            if rows:
                self.engine.put_vectors(sorted(rows.items()))

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

    def admitted_ids(self, query: SearchQuery, ids: Sequence[str]) -> list[str]:
        return self.engine.admitted_ids(query, ids)

    def vector_window(self, query: SearchQuery, vector: Any, depth: int) -> list[tuple[str, float]] | None:
        return self.engine.vector_window(query, vector, depth)

    def put_vectors(self, rows: Sequence[tuple[str, Any]]) -> None:
        self.engine.put_vectors(rows)

    def __getattr__(self, name: str) -> Any:
        # what only some engines have (document_ids, path, client, ...) is the engine's too
        if name in ("engine", "_reranker"):
            raise AttributeError(name)
        return getattr(self.engine, name)

    # -- the one thing it adds --------------------------------------------------------------
    def nearest(self, query: SearchQuery, vector: Any) -> list[tuple[str, float]]:
        """The admitted documents nearest to ``vector``: the engine's kNN, else the in-process index
        filtered by the engine; [] when the engine can do neither (words alone then)."""
        depth = self._reranker.vector_depth
        if depth <= 0:
            return []
        found = self.engine.vector_window(query, vector, depth)
        if found is not None:
            return list(found)[:depth]
        try:
            return self._reranker.nearest(vector, depth, lambda ids: self.engine.admitted_ids(query, ids))
        except NotImplementedError:
            return []

    def search(self, query: SearchQuery, terms: QueryTerms | None = None) -> SearchResults:
        if not query.audiences:
            return self.engine.search(query, terms)
        terms = terms if terms is not None else self.engine.analyzer.query(query.q)
        reranker = self._reranker
        if not reranker.applies(query, terms):
            return self.engine.search(query, terms)
        # the fused head, or more when the page runs past its end; an engine that counts the word
        # matches and the candidates by meaning together (union_counts) counts facets once, afterwards
        union = getattr(self.engine, "union_counts", None) if query.facets else None
        asked = dataclasses.replace(query, facets=[]) if union is not None else query
        window = self.engine.ranked_window(asked, terms, max(reranker.window, query.offset + query.page_size))
        words = window.candidates if window is not None else []
        vector = reranker.query_vector(query.q)
        nearest = self.nearest(query, vector) if vector is not None and reranker.widens(terms) else []
        if vector is None or (not nearest and not words):
            sims: dict[str, float] = {}
        else:
            ids = [i for i, _ in words[: reranker.window]] + [i for i, _ in nearest]
            # an engine that keeps vectors answers kNN itself: no in-process matrix in this process then
            sims = reranker.similarities(vector, ids, use_index=not _holds_vectors(self.engine))
        answer, by_meaning = reranker.arrange(words, nearest, sims)
        if not answer and window is None:
            return SearchResults.empty(query)
        fetched = {i for i, _ in words}
        extra = [i for i in by_meaning if i not in fetched]
        if union is not None and window is not None:
            total, facets = union(query, window, extra)
            if extra:
                facets = {name: sorted(values, key=lambda kv: (-kv[1], kv[0]))[:50] for name, values in facets.items()}
        else:
            total = (window.total if window is not None else 0) + len(extra)
            facets = self._facets(query, window, extra)
        fused = RankedWindow(total=total, facets=facets, candidates=answer, context=window.context if window else None)
        picks = range(query.offset, min(len(answer), query.offset + query.page_size))
        hits = self.engine.window_hits(query, terms, fused, picks)
        return SearchResults(total=total, hits=hits, facets=facets, page=query.page, page_size=query.page_size)

    def _facets(self, query: SearchQuery, window: RankedWindow | None, extra: list[str]) -> dict[str, list[tuple[str, int]]]:
        base = dict(window.facets) if window is not None else {}
        for name in query.facets:
            base.setdefault(name, [])
        counter = getattr(self.engine, "facet_counts", None)
        if not extra or not query.facets or counter is None:
            return base
        more = counter(query, extra)
        out = {}
        for name, values in base.items():
            counts = dict(values)
            for value, n in more.get(name, []):
                counts[value] = counts.get(value, 0) + n
            out[name] = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:50]
        return out
