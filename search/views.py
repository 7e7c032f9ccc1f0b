"""The members' study-library search page. (The search API is ``cms.api.search``.)"""

from __future__ import annotations

import dataclasses
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_GET

from cms import visibility
from cms.api import params as api_params
from search import service
from search.documents import all_kinds

FACET_LABELS = {
    "kind": "类别",
    "material_type": "资料类型",
    "topics": "学习专题",
    "year": "年份",
    "column": "栏目",
    "locale": "语言",
}


@login_required
@require_GET
def study_search(request: HttpRequest, lang: str) -> HttpResponse:
    """党建书苑 search for signed-in members, in the site theme.

    It reads the search API's parameters with the API's parsers; a wrong one is left out (the page
    still shows), and other parameters (``log``) are the page's own. The language of the page is the
    default ``locale``.
    """
    translation.activate(lang)
    query_params = request.GET.copy()
    if "locale" not in query_params:
        query_params["locale"] = lang
    asked = api_params.search_params(query_params, strict=False)
    audiences = visibility.audiences_for(request.user)
    outcome = service.search(asked, audiences, source="site") if asked.asks_something else None
    if outcome is not None and outcome.available:
        outcome.results.facets["locale"] = language_counts(outcome)
    base = {k: v for k, v in request.GET.items() if k not in ("page", "log")}
    # Later pages belong to the query logged on page 1: its id travels with the pagination links so
    # clicks there count towards that query's click-through.
    log_id = outcome.log_id if outcome else None
    if log_id is None and api_params.NUMBER_RE.fullmatch(raw_log := request.GET.get("log", "")):
        log_id = int(raw_log)
    paging = {**base, "log": log_id} if log_id else base
    context = {
        "query": asked,
        "outcome": outcome,
        "log_id": log_id,
        "lang": lang,
        "facet_labels": FACET_LABELS,
        # every kind a hit may have, the library documents' 文件 included (labels in the page's language)
        "kind_labels": dict(all_kinds()),
        "facet_params": {field: param for param, field in api_params.FILTER_PARAMS.items()} | {"locale": "locale"},
        "language_names": dict(getattr(settings, "WAGTAIL_CONTENT_LANGUAGES", ())),
        "base_query": urlencode(base),
        # a language link replaces the language asked for (two ``locale`` values would be one too many)
        "language_query": urlencode({k: v for k, v in base.items() if k != "locale"}),
        "prev_query": urlencode({**paging, "page": asked.page - 1}),
        "next_query": urlencode({**paging, "page": asked.page + 1}),
    }
    return render(request, "search/study_search.html", context)


def language_counts(outcome: service.SearchOutcome) -> list[tuple[str, int]]:
    """The 语言 facet: how many matches each language has, the one shown included.

    The page answers in one language (each page once), so the answer's own ``locale`` facet only
    counts that one; the counts of the others come from the same query without the language, asking
    the engine for that facet alone (not logged: it is the same search).
    """
    query = outcome.query
    if not query.locale:
        return outcome.results.facets.get("locale", [])
    # sorted by date: the counts are the same, and no re-ranking is spent on a page nobody reads
    every_language = dataclasses.replace(query, locale=None, facets=["locale"], sort="date", page=1, page_size=1)
    counts = service.run_search(every_language, log=False)
    if not counts.available:
        return outcome.results.facets.get("locale", [])
    return counts.results.facets.get("locale", [])
