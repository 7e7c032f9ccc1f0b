"""The search endpoints of the API: ``search/``, ``search/suggest/`` and ``search/click/``.

They read their parameters with ``params``, answer errors with ``errors``, count in ``throttling``
and are described by ``openapi``, like every other endpoint; the searching itself is the search
app's service (``search.service``). They are plain Django views, not DRF ones: callers are
identified by ``middleware`` (a bearer token) or, read-only, by the members' pages' session, and they
have rate limits of their own instead of the API's per-client ones.
"""

from __future__ import annotations

import dataclasses
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt

from cms import visibility
from search import service

from . import errors, params, throttling


def endpoint(*, throttle: type[throttling.SearchRateThrottle], methods=("GET", "HEAD")):
    """``methods`` only, answered like the DRF endpoints: a JSON 405 with ``Allow`` otherwise, then the
    rate limit (a 429 with ``Retry-After``), and a :class:`params.BadParameter` raised by the view as
    a 400.

    CSRF-exempt like every API view: callers are identified by bearer tokens (or, read-only, by the
    members' pages' session), and nothing here changes state on a caller's behalf, so a wrong method
    gets its 405 instead of the CSRF check's 403.
    """

    def decorate(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in methods:
                return errors.method_not_allowed(request.method, methods)
            wait = throttling.seconds_to_wait(throttle, request)
            if wait is not None:
                return errors.retry_later(f"Too many searches; try again in {wait} seconds.", 429, wait)
            try:
                return view(request, *args, **kwargs)
            except params.BadParameter as exc:
                return errors.json_error(str(exc), 400)

        return csrf_exempt(wrapper)

    return decorate


def _json(data: dict) -> JsonResponse:
    return JsonResponse(data, json_dumps_params={"ensure_ascii": False})


@endpoint(throttle=throttling.SearchRateThrottle)
def search(request: HttpRequest) -> HttpResponse:
    """``/api/v2/search/?q=``: public content for anonymous callers, members' content for members.

    Bad parameters are a 400 (``params.search_params``); an empty ``q`` is an empty page; any other
    text finds results or nothing, never an error. Without ``locale`` it answers in the caller's
    language (:func:`caller_locale`), so a page translated into three languages is one hit, not three.
    """
    asked = params.search_params(request.GET)
    chosen = asked.locale is None
    if chosen:
        asked = dataclasses.replace(asked, locale=caller_locale(request))
    outcome = service.search(asked, visibility.audiences_for(request.user), source="api")
    if not outcome.available:
        return errors.retry_later("Search is temporarily unavailable; try again shortly.", 503, 30)
    found = outcome.results.as_dict()
    add_reader_urls(found["results"], request.user)
    response = _json({**found, "query": asked.q, "sort": asked.sort, "log_id": outcome.log_id})
    if chosen:
        patch_vary_headers(response, ("Accept-Language",))
    return response


def add_reader_urls(hits: list[dict], user) -> None:
    """Give each hit its ``html_url``: the absolute address from the configured base URLs where the
    caller reads it (a public page on the static site, anything else on the CMS's members' pages and
    download view), whatever host the request came to. One query, for members only: to the public,
    every hit is public."""
    from wagtail.models import Page

    from deploy.conf import publish_setting
    from search.documents import document_id

    site, cms = publish_setting("BASE_URL").rstrip("/"), settings.WAGTAILAPI_BASE_URL.rstrip("/")
    pages = {hit["id"] for hit in hits if hit["id"].startswith("page:")}
    if visibility.Audience.MEMBERS.value in visibility.audiences_for(user) and pages:
        rule = visibility.Rule()
        ids = [int(i.partition(":")[2]) for i in pages]
        public = {document_id(pk) for pk in Page.objects.filter(rule.public(), pk__in=ids).values_list("pk", flat=True)}
    else:
        public = pages
    for hit in hits:
        hit["html_url"] = (site if hit["id"] in public else cms) + hit["url"] if hit["url"] else None


def caller_locale(request: HttpRequest) -> str:
    """The language a search answers in when ``locale`` is not given: the request's language
    (``Accept-Language``, read by Django's ``LocaleMiddleware``) when it is a content language, else
    the site's default (zh-hans). Each page is one document per language, so an answer in one
    language lists each page once."""
    codes = params.locale_codes()
    language = getattr(request, "LANGUAGE_CODE", "") or ""
    if language in codes:
        return language
    default = settings.LANGUAGE_CODE
    return default if default in codes or not codes else codes[0]


@endpoint(throttle=throttling.SuggestRateThrottle)
def suggest(request: HttpRequest) -> HttpResponse:
    """``/api/v2/search/suggest/?q=``: titles and terms the caller may read; a 400 for bad parameters."""
    prefix, locale = params.suggest_params(request.GET)
    return _json({"query": prefix, "suggestions": service.suggest(prefix, visibility.audiences_for(request.user), locale)})


# CSRF-exempt (endpoint): a beacon from the static site (another origin) carries no CSRF token; it only counts a click
@endpoint(throttle=throttling.ClickRateThrottle, methods=("GET", "HEAD", "POST"))
def click(request: HttpRequest) -> HttpResponse:
    """A click on a search result, for the query log's click-through.

    POST (``navigator.sendBeacon`` from the static site, or an app): form fields ``log``, ``doc``,
    ``pos``; 204 when recorded, 400 for malformed fields, 404 for an unknown log.
    GET (the members' page links): record it when the same fields are valid, then go to ``to`` (local
    URLs only: no open redirect). A link always leads somewhere, so nothing here is a GET's error.
    """
    if request.method == "POST":
        if not service.record_click(*params.click_params(request.POST)):
            return errors.json_error("No such search to count the click for.", 404)
        return HttpResponse(status=204)
    try:
        service.record_click(*params.click_params(request.GET))
    except params.BadParameter:
        pass
    target = request.GET.get("to", "/")
    if not target.startswith("/") or not url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        target = "/"
    return HttpResponseRedirect(target)
