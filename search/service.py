"""The query service used by the search page, the JSON endpoint and the admin.

It turns request parameters into a :class:`SearchQuery` whose audiences come
from the caller's identity (``cms.visibility``), never from the request, runs
it on the configured engine and logs it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
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


#: Elasticsearch refuses ``from + size`` beyond ``index.max_result_window`` (10,000 by default), so
#: no page may reach deeper than this, whichever engine runs.
MAX_RESULT_WINDOW = 10_000
MAX_QUERY_LENGTH = 200
MAX_SUGGEST_LENGTH = 50
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 50
MAX_PAGE = MAX_RESULT_WINDOW  # with page_size=1; deeper pages (page * page_size > MAX_RESULT_WINDOW) are empty
MAX_FILTER_VALUES = 10
MAX_FILTER_LENGTH = 100
SORTS: tuple[str, ...] = ("relevance", "date")
#: Parameters of ``/api/v2/search/`` that take one value.
SINGLE_PARAMS: tuple[str, ...] = ("q", "page", "page_size", "sort", "locale", "date_from", "date_to")
API_PARAMS: frozenset[str] = frozenset(SINGLE_PARAMS) | frozenset(FILTER_PARAMS)
#: Filters whose values are codes, checked as given (the others are free text, trimmed).
EXACT_FILTERS: frozenset[str] = frozenset({"kind", "province", "year"})
YEAR_RE = re.compile(r"[0-9]{4}")
NUMBER_RE = re.compile(r"[0-9]{1,9}")
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class BadParameter(ValueError):
    """A parameter of the search API that is wrong; the message says which and why (a 400)."""


def kinds() -> tuple[str, ...]:
    from search.documents import KINDS

    return tuple(sorted(KINDS.values()))


def locale_codes() -> tuple[str, ...]:
    return tuple(code for code, _name in getattr(settings, "WAGTAIL_CONTENT_LANGUAGES", ()))


def province_names() -> dict[str, str]:
    """Province code (``beijing``) -> the name the index holds (``北京市``)."""
    from cms.provinces import Province

    return {str(code): str(label) for code, label in Province.choices}


def deepest_page(page_size: int) -> int:
    return max(1, MAX_RESULT_WINDOW // page_size)


def query_from_params(params: Mapping[str, object], audiences: frozenset[str], *, page_size: int = DEFAULT_PAGE_SIZE) -> SearchQuery:
    """A forgiving reading of the members' search page's parameters: bad values fall back to defaults.

    The JSON endpoint uses :func:`api_query`, which refuses them instead.
    """

    def first(name: str) -> str:
        value = params.get(name)
        if isinstance(value, list | tuple):
            value = value[0] if value else ""
        return str(value or "").strip()

    def many(name: str) -> list[str]:
        getlist = getattr(params, "getlist", None)
        values = getlist(name) if getlist else [params.get(name)]
        return [str(v).strip()[:MAX_FILTER_LENGTH] for v in values if v and str(v).strip()][:MAX_FILTER_VALUES]

    filters = {field: many(param) for param, field in FILTER_PARAMS.items() if many(param)}
    try:
        page = int(first("page") or 1)
    except ValueError:
        page = 1
    try:
        size = int(first("page_size") or page_size)
    except ValueError:
        size = page_size
    size = min(max(size, 1), MAX_PAGE_SIZE)
    return SearchQuery(
        q=first("q")[:MAX_QUERY_LENGTH],
        audiences=audiences,
        locale=first("locale")[:16] or None,
        filters=filters,
        facets=list(DEFAULT_FACETS),
        sort="date" if first("sort") == "date" else "relevance",
        page=min(max(page, 1), deepest_page(size)),
        page_size=size,
    )


def api_query(params, audiences: frozenset[str]) -> SearchQuery:
    """The query of ``/api/v2/search/``, every parameter checked: :class:`BadParameter` says what is wrong.

    ``params`` is a ``QueryDict``. Any text is a valid ``q`` (it is analysed into words, never parsed
    as engine syntax); only its length is limited. Filter values are matched exactly, so an unknown
    topic simply finds nothing, but malformed ones (a year that isn't four digits, a date that isn't
    YYYY-MM-DD, a kind or province that doesn't exist) are refused. An empty value is the parameter
    left out; values are not trimmed (" date" is not a sort). What the schema allows is answered:
    a page past :data:`MAX_RESULT_WINDOW` is empty (see :func:`run_api_search`), and so is a date
    range that ends before it starts.
    """
    unknown = sorted(set(params) - API_PARAMS)
    if unknown:
        raise BadParameter(
            f"query parameter is not recognised: {', '.join(unknown)} (use: {', '.join(sorted(API_PARAMS))})"
        )
    for name, values in params.lists():
        if any("\x00" in value for value in values):
            raise BadParameter(f"{name} contains a null character")
        if name in SINGLE_PARAMS and len(values) > 1:
            raise BadParameter(f"{name} is given more than once")

    def single(name: str) -> str:
        return params.get(name, "")

    q = params.get("q", "")
    if len(q) > MAX_QUERY_LENGTH:
        raise BadParameter(f"q is longer than {MAX_QUERY_LENGTH} characters")

    def number(name: str, default: int, maximum: int) -> int:
        raw = single(name)
        if not raw:
            return default
        if not NUMBER_RE.fullmatch(raw) or not 1 <= int(raw) <= maximum:
            raise BadParameter(f"{name} must be a whole number from 1 to {maximum}, not '{raw[:20]}'")
        return int(raw)

    size = number("page_size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    page = number("page", 1, MAX_PAGE)
    sort = single("sort") or "relevance"
    if sort not in SORTS:
        raise BadParameter(f"sort must be one of: {', '.join(SORTS)}, not '{sort[:20]}'")
    locale = single("locale") or None
    if locale is not None and locale not in locale_codes():
        raise BadParameter(f"locale '{locale[:20]}' doesn't exist; use one of: {', '.join(locale_codes())}")

    def date(name: str) -> dt.date | None:
        raw = single(name)
        if not raw:
            return None
        try:
            if not DATE_RE.fullmatch(raw):
                raise ValueError(raw)
            return dt.date.fromisoformat(raw)
        except ValueError as exc:
            raise BadParameter(f"{name} must be a date as YYYY-MM-DD, not '{raw[:20]}'") from exc

    date_from, date_to = date("date_from"), date("date_to")

    filters: dict[str, list[str]] = {}
    provinces = province_names()
    for param, field in FILTER_PARAMS.items():
        values = params.getlist(param)
        if len(values) > MAX_FILTER_VALUES:
            raise BadParameter(f"{param} is given more than {MAX_FILTER_VALUES} times")
        if any(len(value) > MAX_FILTER_LENGTH for value in values):
            raise BadParameter(f"{param} is longer than {MAX_FILTER_LENGTH} characters")
        if param not in EXACT_FILTERS:  # free text: trimmed, as the index holds it
            values = [v.strip() for v in values]
        values = [v for v in values if v]
        if not values:
            continue
        for value in values:
            if param == "year" and not YEAR_RE.fullmatch(value):
                raise BadParameter(f"year must be four digits (2025), not '{value[:20]}'")
            if param == "kind" and value not in kinds():
                raise BadParameter(f"kind '{value[:20]}' doesn't exist; use one of: {', '.join(kinds())}")
            if param == "province" and value not in provinces and value not in provinces.values():
                raise BadParameter(
                    f"province '{value[:20]}' is not a province code; use one of: {', '.join(provinces)}"
                )
        if param == "province":
            values = [provinces.get(v, v) for v in values]  # the index holds the province's name
        filters[field] = list(dict.fromkeys(values))
    return SearchQuery(
        q=q.strip(),
        audiences=audiences,
        locale=locale,
        filters=filters,
        facets=list(DEFAULT_FACETS),
        sort=sort,
        page=page,
        page_size=size,
        date_from=date_from,
        date_to=date_to,
    )


def suggest_params(params) -> tuple[str, str | None]:
    """``(prefix, locale)`` of ``/api/v2/search/suggest/``; :class:`BadParameter` says what is wrong.
    An empty ``locale`` is no locale."""
    prefix = params.get("q", "")
    locale = params.get("locale", "") or None
    if len(prefix) > MAX_SUGGEST_LENGTH:
        raise BadParameter(f"q: at most {MAX_SUGGEST_LENGTH} characters.")
    if "\x00" in prefix:
        raise BadParameter("q: must not contain a null character.")
    if locale is not None and locale not in locale_codes():
        raise BadParameter(f"locale: one of {', '.join(locale_codes())}.")
    return prefix, locale


CLICK_DOC_RE = re.compile(r"[a-z_]{1,20}:[0-9]{1,12}")


def click_params(params) -> tuple[int, str, int]:
    """``(log_id, document_id, position)`` of a click report; :class:`BadParameter` says what is wrong."""
    raw_log, doc, raw_pos = (str(params.get(name, "")).strip() for name in ("log", "doc", "pos"))
    if not NUMBER_RE.fullmatch(raw_log):
        raise BadParameter(f"log must be the log_id of a search, not '{raw_log[:20]}'")
    if not CLICK_DOC_RE.fullmatch(doc):
        raise BadParameter(f"doc must be a result's id (such as page:12), not '{doc[:20]}'")
    if not NUMBER_RE.fullmatch(raw_pos) or not 1 <= int(raw_pos) <= MAX_RESULT_WINDOW:
        raise BadParameter(f"pos must be the result's position from 1 to {MAX_RESULT_WINDOW}, not '{raw_pos[:20]}'")
    return int(raw_log), doc, int(raw_pos)


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


def is_browse(query: SearchQuery) -> bool:
    """No words but a filter or a date range: list what the filters allow, newest first."""
    return not query.q and bool(query.filters or query.date_from or query.date_to)


def run_api_search(query: SearchQuery) -> SearchOutcome:
    """``run_search`` for the JSON endpoint: an empty (or all-whitespace) ``q`` is an empty page,
    unless a filter or date range is given, which browses what it allows, newest first.

    A page reaching past :data:`MAX_RESULT_WINDOW` (which Elasticsearch refuses) has no results, like
    a page past the last one: the deepest page is searched for the total and the facets, and its
    results are left out.
    """
    if (not query.q and not is_browse(query)) or (query.date_from and query.date_to and query.date_from > query.date_to):
        return SearchOutcome(query=query, results=SearchResults.empty(query), available=True)
    if query.page * query.page_size <= MAX_RESULT_WINDOW:
        return run_search(query, source="api")
    outcome = run_search(dataclasses.replace(query, page=deepest_page(query.page_size)), source="api")
    outcome.results = dataclasses.replace(outcome.results, hits=[], page=query.page)
    outcome.query = query
    return outcome


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
