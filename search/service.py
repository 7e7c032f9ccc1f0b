"""The query service used by the search page, the JSON endpoint and the admin.

It turns request parameters into a :class:`SearchQuery` whose audiences come
from the caller's identity (``cms.visibility``), never from the request, runs
it on the configured engine and logs it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import DatabaseError

from cms import visibility
from search.backends.base import FACET_FIELDS, SearchError, SearchQuery, SearchResults
from search.loader import get_search_backend

logger = logging.getLogger("shuyuan.search")

#: query-string parameter -> filter field
FILTER_PARAMS: dict[str, str] = {
    "type": "material_type",
    "topic": "topics",
    "year": "year",
    "column": "column",
    "kind": "kind",
    "province": "province",
    "category": "category",
}
DEFAULT_FACETS: tuple[str, ...] = FACET_FIELDS


@dataclass
class SearchOutcome:
    query: SearchQuery
    results: SearchResults
    available: bool
    log_id: int | None = None


def query_from_params(params: Mapping[str, object], audiences: frozenset[str], *, page_size: int = 10) -> SearchQuery:
    def first(name: str) -> str:
        value = params.get(name)
        if isinstance(value, list | tuple):
            value = value[0] if value else ""
        return str(value or "").strip()

    def many(name: str) -> list[str]:
        getlist = getattr(params, "getlist", None)
        values = getlist(name) if getlist else [params.get(name)]
        return [str(v).strip()[:100] for v in values if v and str(v).strip()][:10]

    filters = {field: many(param) for param, field in FILTER_PARAMS.items() if many(param)}
    try:
        page = int(first("page") or 1)
    except ValueError:
        page = 1
    try:
        size = int(first("page_size") or page_size)
    except ValueError:
        size = page_size
    return SearchQuery(
        q=first("q")[:200],
        audiences=audiences,
        locale=first("locale")[:16] or None,
        filters=filters,
        facets=list(DEFAULT_FACETS),
        sort="date" if first("sort") == "date" else "relevance",
        page=min(max(page, 1), 1000),
        page_size=min(max(size, 1), 50),
    )


def audiences_for_request(request, *, in_cms: bool = False) -> frozenset[str]:
    if in_cms:
        return frozenset({"public", "members", "internal"})
    return visibility.audiences_for(getattr(request, "user", None))


def run_search(query: SearchQuery, *, source: str = "site", log: bool = True) -> SearchOutcome:
    """Run ``query``; an unreachable engine gives an empty, ``available=False`` outcome instead of an error."""
    try:
        results = get_search_backend().search(query)
        available = True
    except SearchError as exc:
        logger.warning("search unavailable: %s", exc)
        results, available = SearchResults.empty(query), False
    log_id = None
    if log and query.q and available and query.page == 1:
        log_id = log_query(query, results.total, source)
    return SearchOutcome(query=query, results=results, available=available, log_id=log_id)


def log_query(query: SearchQuery, total: int, source: str) -> int | None:
    from search.models import QueryLog

    try:
        entry = QueryLog.objects.create(
            query=" ".join(query.q.split())[:200],
            results=total,
            scope="+".join(sorted(query.audiences)),
            locale=query.locale or "",
            source=source,
        )
    except DatabaseError as exc:  # the log must never break a search
        logger.warning("search: cannot log query: %s", exc)
        return None
    return entry.pk


def record_click(log_id: int, document_id: str, position: int) -> bool:
    from search.models import QueryLog, SearchClick

    if not QueryLog.objects.filter(pk=log_id).exists():
        return False
    SearchClick.objects.create(log_id=log_id, document_id=document_id[:64], position=max(0, position))
    return True


def suggest(prefix: str, audiences: frozenset[str], locale: str | None = None, limit: int = 8) -> list[str]:
    try:
        return get_search_backend().suggest(prefix, audiences, locale=locale, limit=limit)
    except SearchError as exc:
        logger.warning("search suggest unavailable: %s", exc)
        return []
