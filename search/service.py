"""The search service behind the search API (``cms.api.search``) and the members' search page.

:func:`search` takes parameters already checked (:class:`SearchParams`, read from a request by
``cms.api.params``) and the audiences of the caller's identity (``cms.visibility``), never of the
request; it runs them on the configured engine and logs the query. :func:`suggest` and
:func:`record_click` serve autocomplete and the click-through of the search report.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.db import DatabaseError

from search.backends.base import FACET_FIELDS, SearchError, SearchQuery, SearchResults
from search.loader import get_search_backend

logger = logging.getLogger("shuyuan.search")

DEFAULT_FACETS: tuple[str, ...] = FACET_FIELDS
#: Elasticsearch refuses ``from + size`` beyond ``index.max_result_window`` (10,000 by default), so
#: no page may reach deeper than this, whichever engine runs.
MAX_RESULT_WINDOW = 10_000
DEFAULT_PAGE_SIZE = 10


@dataclass(frozen=True)
class SearchParams:
    """What a caller asked for, already checked (``cms.api.params`` reads it from a request). The
    audiences are not part of it: they come from the caller's identity, never from the request."""

    q: str = ""
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    sort: str = "relevance"
    locale: str | None = None
    #: facet field -> values (any of them)
    filters: Mapping[str, Sequence[str]] = field(default_factory=dict)
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    @property
    def is_browse(self) -> bool:
        """No words but a filter or a date range: list what the filters allow, newest first."""
        return not self.q and bool(self.filters or self.date_from or self.date_to)

    @property
    def asks_something(self) -> bool:
        """Words, or a filter or date range to browse; without them a search is an empty page."""
        return bool(self.q) or self.is_browse


@dataclass
class SearchOutcome:
    query: SearchQuery
    results: SearchResults
    available: bool
    log_id: int | None = None


def deepest_page(page_size: int) -> int:
    return max(1, MAX_RESULT_WINDOW // page_size)


def make_query(params: SearchParams, audiences: frozenset[str]) -> SearchQuery:
    return SearchQuery(
        q=params.q,
        audiences=audiences,
        locale=params.locale,
        filters={name: list(values) for name, values in params.filters.items()},
        facets=list(DEFAULT_FACETS),
        sort=params.sort,
        page=params.page,
        page_size=params.page_size,
        date_from=params.date_from,
        date_to=params.date_to,
    )


def search(params: SearchParams, audiences: frozenset[str], *, source: str) -> SearchOutcome:
    """Search ``params`` for a caller who may read ``audiences``, logging the query (``source``:
    ``api`` or ``site``) on its first page.

    Asking nothing (no words, no filter, no date range) is an empty page, and so is a date range that
    ends before it starts. A page reaching past :data:`MAX_RESULT_WINDOW` (which Elasticsearch
    refuses) has no results, like a page past the last one: the deepest page is searched for the
    total and the facets, and its results are left out.
    """
    query = make_query(params, audiences)
    reversed_range = bool(params.date_from and params.date_to and params.date_from > params.date_to)
    if not params.asks_something or reversed_range:
        return SearchOutcome(query=query, results=SearchResults.empty(query), available=True)
    if query.page * query.page_size <= MAX_RESULT_WINDOW:
        return run_search(query, source=source)
    outcome = run_search(dataclasses.replace(query, page=deepest_page(query.page_size)), source=source)
    outcome.results = dataclasses.replace(outcome.results, hits=[], page=query.page)
    outcome.query = query
    return outcome


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
