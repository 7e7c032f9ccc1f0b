"""The members' study-library search page and the public JSON endpoints."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

from search import service

RATE_LIMIT = getattr(settings, "SHUYUAN_SEARCH_RATE_LIMIT", (60, 60))  # requests, seconds


def _client_key(request: HttpRequest) -> str:
    if request.user.is_authenticated:
        return f"u{request.user.pk}"
    return "a" + (request.META.get("REMOTE_ADDR") or "unknown")


def rate_limited(request: HttpRequest) -> bool:
    """Fixed-window limit per user or IP, kept in the cache (shared between workers in production)."""
    limit, window = getattr(settings, "SHUYUAN_SEARCH_RATE_LIMIT", RATE_LIMIT)
    bucket = int(time.time() // window)
    key = f"search-rl:{_client_key(request)}:{bucket}"
    cache.add(key, 0, timeout=window + 1)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=window + 1)
        count = 1
    return count > limit


def _too_many() -> JsonResponse:
    response = JsonResponse({"error": "rate_limited", "detail": "too many searches, try again shortly"}, status=429)
    response["Retry-After"] = "60"
    return response


@require_GET
def api_search(request: HttpRequest) -> JsonResponse:
    """``/api/v2/search/?q=``: public content for anonymous callers, members' content for members."""
    if rate_limited(request):
        return _too_many()
    audiences = service.audiences_for_request(request)
    query = service.query_from_params(request.GET, audiences)
    outcome = service.run_search(query, source="api")
    if not outcome.available:
        return JsonResponse({"error": "search_unavailable", "detail": "search is temporarily unavailable"}, status=503)
    data = outcome.results.as_dict()
    data["query"] = query.q
    data["sort"] = query.sort
    data["log_id"] = outcome.log_id
    return JsonResponse(data, json_dumps_params={"ensure_ascii": False})


@require_GET
def api_suggest(request: HttpRequest) -> JsonResponse:
    if rate_limited(request):
        return _too_many()
    audiences = service.audiences_for_request(request)
    prefix = request.GET.get("q", "")[:50]
    locale = request.GET.get("locale", "")[:16] or None
    return JsonResponse({"query": prefix, "suggestions": service.suggest(prefix, audiences, locale)}, json_dumps_params={"ensure_ascii": False})


@require_GET
def click(request: HttpRequest) -> HttpResponse:
    """Record a click on a result, then go to it (local URLs only: no open redirect)."""
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
    outcome = service.run_search(query, source="site") if (query.q or query.filters) else None
    base = {k: v for k, v in request.GET.items() if k != "page"}
    context = {
        "query": query,
        "outcome": outcome,
        "lang": lang,
        "facet_labels": FACET_LABELS,
        "facet_params": {v: k for k, v in service.FILTER_PARAMS.items()},
        "base_query": urlencode(base),
        "prev_query": urlencode({**base, "page": query.page - 1}),
        "next_query": urlencode({**base, "page": query.page + 1}),
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
