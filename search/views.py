"""The members' study-library search page and the public JSON endpoints."""

from __future__ import annotations

import math
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from cms.api.errors import json_error
from cms.api.throttling import SharedCacheThrottle
from search import service

RATE_LIMIT = (60, 60)  # requests, seconds; ``SHUYUAN_SEARCH_RATE_LIMIT`` overrides it
#: autocomplete asks as people type, so it has a budget of its own (``SHUYUAN_SUGGEST_RATE_LIMIT``)
SUGGEST_RATE_LIMIT = (300, 60)


class SearchRateThrottle(SharedCacheThrottle):
    """DRF's throttle for the search endpoints: per user for signed-in callers, otherwise per client
    address as DRF identifies it (``X-Forwarded-For`` according to ``REST_FRAMEWORK["NUM_PROXIES"]``,
    else ``REMOTE_ADDR``). History is kept in the API's throttle cache
    (``SHUYUAN_API["THROTTLE_CACHE"]``), which workers must share. The rate,
    ``SHUYUAN_SEARCH_RATE_LIMIT = (requests, seconds)``, is read on every request."""

    scope = "search"
    setting, default = "SHUYUAN_SEARCH_RATE_LIMIT", RATE_LIMIT

    def __init__(self):  # SimpleRateThrottle would look the rate up in DRF's THROTTLE_RATES
        limit = getattr(settings, self.setting, self.default)  # None: no limit
        self.num_requests, self.duration = limit or (None, None)
        self.rate = f"{self.num_requests}/{self.duration}s" if limit else None

    def get_cache_key(self, request, view):
        user = getattr(request, "user", None)
        ident = f"u{user.pk}" if user is not None and user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class SuggestRateThrottle(SearchRateThrottle):
    scope = "suggest"
    setting, default = "SHUYUAN_SUGGEST_RATE_LIMIT", SUGGEST_RATE_LIMIT


error = json_error


def throttled(request: HttpRequest, throttle_class: type[SearchRateThrottle] = SearchRateThrottle) -> JsonResponse | None:
    """A 429 with ``Retry-After`` when the caller is over the rate, else None."""
    throttle = throttle_class()
    if throttle.allow_request(request, None):
        return None
    wait = max(1, math.ceil(throttle.wait() or 1))
    response = error(f"Too many searches; try again in {wait} seconds.", 429)
    response["Retry-After"] = str(wait)
    return response


def api_view(view=None, *, throttle_class: type[SearchRateThrottle] = SearchRateThrottle, methods=("GET", "HEAD")):
    """``methods`` only (GET and HEAD by default), answered like the DRF endpoints: a JSON 405 with
    ``Allow`` otherwise, then the rate limit.

    CSRF-exempt like every API view: callers are identified by bearer tokens (or, read-only, by the
    members' pages' session), and nothing here changes state on a caller's behalf, so a wrong method
    gets its 405 instead of the CSRF check's 403.
    """
    if view is None:
        return lambda v: api_view(v, throttle_class=throttle_class, methods=methods)

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if request.method not in methods:
            response = error(f'Method "{request.method[:10]}" not allowed.', 405)
            response["Allow"] = ", ".join(methods)
            return response
        return throttled(request, throttle_class) or view(request, *args, **kwargs)

    return csrf_exempt(wrapper)


@api_view
def api_search(request: HttpRequest) -> JsonResponse:
    """``/api/v2/search/?q=``: public content for anonymous callers, members' content for members.

    Bad parameters are a 400 ``{"message": ...}`` (see ``service.api_query``); an empty ``q`` is an
    empty page; any other text finds results or nothing, never an error.
    """
    audiences = service.audiences_for_request(request)
    try:
        query = service.api_query(request.GET, audiences)
    except service.BadParameter as exc:
        return error(str(exc), 400)
    outcome = service.run_api_search(query)
    if not outcome.available:
        response = error("Search is temporarily unavailable; try again shortly.", 503)
        response["Retry-After"] = "30"
        return response
    data = outcome.results.as_dict()
    data["query"] = query.q
    data["sort"] = query.sort
    data["log_id"] = outcome.log_id
    return JsonResponse(data, json_dumps_params={"ensure_ascii": False})


@api_view(throttle_class=SuggestRateThrottle)
def api_suggest(request: HttpRequest) -> JsonResponse:
    """``/api/v2/search/suggest/?q=``: titles and terms the caller may read; a 400 for bad parameters."""
    audiences = service.audiences_for_request(request)
    try:
        prefix, locale = service.suggest_params(request.GET)
    except service.BadParameter as exc:
        return error(str(exc), 400)
    return JsonResponse({"query": prefix, "suggestions": service.suggest(prefix, audiences, locale)}, json_dumps_params={"ensure_ascii": False})


class ClickRateThrottle(SearchRateThrottle):
    """Click reports (POST) share autocomplete's generous budget: a reader may open many results. The
    members' page links (GET) are not limited."""

    scope = "click"
    setting, default = "SHUYUAN_SUGGEST_RATE_LIMIT", SUGGEST_RATE_LIMIT

    def allow_request(self, request, view):
        return request.method != "POST" or super().allow_request(request, view)


# CSRF-exempt (api_view): a beacon from the static site (another origin) carries no CSRF token; it only counts a click
@api_view(throttle_class=ClickRateThrottle, methods=("GET", "HEAD", "POST"))
def click(request: HttpRequest) -> HttpResponse:
    """A click on a search result, for the query log's click-through.

    GET (the members' page links): record it, then go to ``to`` (local URLs only: no open redirect).
    POST (``navigator.sendBeacon`` from the static site, or an app): form fields ``log``, ``doc``,
    ``pos``; 204 when recorded, 400 ``{"message"}`` for malformed fields, 404 for an unknown log.
    """
    if request.method == "POST":
        try:
            log_id, document, position = service.click_params(request.POST)
        except service.BadParameter as exc:
            return error(str(exc), 400)
        if not service.record_click(log_id, document, position):
            return error("No such search to count the click for.", 404)
        return HttpResponse(status=204)
    target = request.GET.get("to", "/")
    try:
        log_id = int(request.GET.get("log", ""))
        position = int(request.GET.get("pos", "0"))
        service.record_click(log_id, request.GET.get("doc", "")[:64], position)
    except ValueError:
        pass
    if not target.startswith("/") or not url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        target = "/"
    return HttpResponseRedirect(target)


@login_required
@require_GET
def study_search(request: HttpRequest, lang: str) -> HttpResponse:
    """党建书苑 search for signed-in members, in the site theme."""
    translation.activate(lang)
    audiences = service.audiences_for_request(request)
    params = request.GET.copy()
    if "locale" not in params:
        params["locale"] = lang
    query = service.query_from_params(params, audiences)
    outcome = service.run_search(query, source="site") if (query.q or service.is_browse(query)) else None
    base = {k: v for k, v in request.GET.items() if k not in ("page", "log")}
    # Later pages belong to the query logged on page 1: its id travels with the pagination links so
    # clicks there count towards that query's click-through.
    log_id = outcome.log_id if outcome else None
    if log_id is None and service.NUMBER_RE.fullmatch(raw_log := request.GET.get("log", "")):
        log_id = int(raw_log)
    paging = {**base, "log": log_id} if log_id else base
    context = {
        "query": query,
        "outcome": outcome,
        "log_id": log_id,
        "lang": lang,
        "facet_labels": FACET_LABELS,
        "facet_params": {v: k for k, v in service.FILTER_PARAMS.items()},
        "base_query": urlencode(base),
        "prev_query": urlencode({**paging, "page": query.page - 1}),
        "next_query": urlencode({**paging, "page": query.page + 1}),
    }
    return render(request, "search/study_search.html", context)


FACET_LABELS = {
    "kind": "类别",
    "material_type": "资料类型",
    "topics": "学习专题",
    "year": "年份",
    "column": "栏目",
    "locale": "语言",
}
