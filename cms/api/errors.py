"""What every answer under ``/api/`` promises, whichever layer produced it.

The API's own views answer errors as ``{"message": ...}``. Other layers answer too: Django's URL
resolver (a 404 for a path no route matches), the CSRF check, a handler that crashed (500),
django-axes, request-size limits. ``finish_api_response`` turns any of their HTML error pages into
the same JSON error, keeping the status and the headers a client acts on (``Allow``,
``Retry-After``, ``WWW-Authenticate``), so an app never has to parse HTML.

It also sets the caching headers: an answer computed for an identified caller (a bearer token, or
the members' pages' session) is ``private, no-store`` and every answer varies on ``Authorization``,
so no shared cache (a CDN, a proxy) stores a member's answer or serves it to someone else.
``no-store`` goes to every identified caller, not only to those who may read members' content:
telling them apart would cost a query per request, and a token holder's app loses nothing by
asking again. Anonymous answers are left as the views made them.
"""

from __future__ import annotations

from http import HTTPStatus

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views import csrf

API_PREFIX = "/api/"
# Headers of an error page that still mean something once the body is JSON.
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "Vary")


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def json_error(message: str, status: int) -> JsonResponse:
    """The error body of every API endpoint: ``{"message": ...}``."""
    return JsonResponse({"message": message}, status=status, json_dumps_params={"ensure_ascii": False})


def method_not_allowed(method: str, allowed) -> JsonResponse:
    """A 405 worded as DRF's, with ``Allow``."""
    response = json_error(f'Method "{method[:10]}" not allowed.', 405)
    response["Allow"] = ", ".join(allowed)
    return response


def retry_later(message: str, status: int, seconds: int) -> JsonResponse:
    """A 429 (too many requests) or 503 (unavailable) that says when to try again (``Retry-After``)."""
    response = json_error(message, status)
    response["Retry-After"] = str(seconds)
    return response


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").split(";")[0].strip().lower() == "application/json"


def _message(status: int) -> str:
    if status == 404:
        return "Not found: no such endpoint or item (see /api/v2/schema/)."
    try:
        return HTTPStatus(status).phrase + "."
    except ValueError:
        return f"Error {status}."


def as_json_error(response: HttpResponse) -> HttpResponse:
    """An error response from outside the API views, as the API's JSON error with the same status."""
    if response.status_code < 400 or _is_json(response):
        return response
    replacement = json_error(_message(response.status_code), response.status_code)
    for name in KEPT_HEADERS:
        if name in response:
            replacement[name] = response[name]
    return replacement


def caller_is_identified(request: HttpRequest) -> bool:
    """Whether the answer was computed for someone in particular: a bearer token was sent, or the
    view read the session (the members' search page calls the search API with its cookie)."""
    if request.META.get("HTTP_AUTHORIZATION"):
        return True
    session = getattr(request, "session", None)
    if session is None or not session.accessed:
        return False
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


def patch_caching(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """``Vary: Authorization`` on every API answer; ``private, no-store`` on answers computed for an
    identified caller and on token and account answers (``auth/``)."""
    patch_vary_headers(response, ("Authorization",))
    if request.path.startswith(f"{API_PREFIX}v2/auth/") or caller_is_identified(request):
        patch_cache_control(response, private=True, no_store=True)
    return response


def finish_api_response(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    return patch_caching(request, as_json_error(response))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: JSON under ``/api/``, Django's page elsewhere.

    The API's views are CSRF-exempt (callers are identified by bearer tokens, never by cookies), so
    this answer on an API path means a view was left unexempted: still JSON, never HTML.
    """
    if is_api(request):
        return json_error("CSRF check failed: the API takes bearer tokens, not session cookies.", 403)
    return csrf.csrf_failure(request, reason=reason)
