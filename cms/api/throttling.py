"""Per-client rate limits, read from settings at request time: ``SHUYUAN_API["RATE_LIMITS"]`` for the
DRF endpoints, ``SHUYUAN_SEARCH_RATE_LIMIT`` and ``SHUYUAN_SUGGEST_RATE_LIMIT`` for search.

The request history lives in the Django cache named by ``SHUYUAN_API["THROTTLE_CACHE"]`` (the
``default`` alias unless configured). A limit is only a limit if every worker counts in the same
place: with several worker processes that cache must be a shared store (Redis, or Django's database
cache), never the per-process local-memory cache. ``check_throttle_cache`` (a system check) refuses an
alias that isn't configured.
"""

import math

from django.conf import settings
from django.core.cache import InvalidCacheBackendError, caches
from django.core.exceptions import ImproperlyConfigured
from rest_framework.throttling import SimpleRateThrottle

from .conf import api_setting


def throttle_cache():
    """The cache every rate limit of the API and the search endpoints counts in."""
    alias = api_setting("THROTTLE_CACHE")
    try:
        return caches[alias]
    except InvalidCacheBackendError as exc:
        raise ImproperlyConfigured(f"SHUYUAN_API['THROTTLE_CACHE'] names the cache {alias!r}, which CACHES doesn't define") from exc


def check_throttle_cache(app_configs=None, **kwargs):
    from django.core.checks import Error

    alias = api_setting("THROTTLE_CACHE")
    configured = getattr(settings, "CACHES", None) or {"default": {}}
    if alias not in configured:
        return [
            Error(
                f"SHUYUAN_API['THROTTLE_CACHE'] names the cache {alias!r}, which CACHES doesn't define.",
                hint=f"Add {alias!r} to CACHES (a store all workers share, such as Redis or the database cache).",
                id="shuyuan_api.E001",
            )
        ]
    return []


class SharedCacheThrottle(SimpleRateThrottle):
    """DRF's throttle, counting in ``throttle_cache()`` instead of the default cache."""

    @property
    def cache(self):
        return throttle_cache()


class _SettingsRateThrottle(SharedCacheThrottle):
    def get_rate(self):
        return api_setting("RATE_LIMITS").get(self.scope)

    def __init__(self):
        # SimpleRateThrottle reads its rate in __init__; do it here from our settings instead.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)


class ClientRateThrottle(_SettingsRateThrottle):
    """Token holders are limited per user, anonymous callers per IP address."""

    def get_cache_key(self, request, view):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            self.scope = "user"
            ident = f"u{user.pk}"
        else:
            self.scope = "anon"
            ident = self.get_ident(request)
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return self.cache_format % {"scope": self.scope, "ident": ident}

    scope = "anon"


class AuthRateThrottle(_SettingsRateThrottle):
    """Token endpoints (password guessing): per IP address."""

    scope = "auth"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class SearchRateThrottle(SharedCacheThrottle):
    """The search endpoints' limit: per user for signed-in callers, otherwise per client address as
    DRF identifies it (``X-Forwarded-For`` according to ``REST_FRAMEWORK["NUM_PROXIES"]``, else
    ``REMOTE_ADDR``). The rate, ``SHUYUAN_SEARCH_RATE_LIMIT = (requests, seconds)`` (None: no limit),
    is read on every request."""

    scope = "search"
    setting, default = "SHUYUAN_SEARCH_RATE_LIMIT", (60, 60)

    def __init__(self):  # SimpleRateThrottle would look the rate up in DRF's THROTTLE_RATES
        limit = getattr(settings, self.setting, self.default)
        self.num_requests, self.duration = limit or (None, None)
        self.rate = f"{self.num_requests}/{self.duration}s" if limit else None

    def get_cache_key(self, request, view):
        user = getattr(request, "user", None)
        ident = f"u{user.pk}" if user is not None and user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class SuggestRateThrottle(SearchRateThrottle):
    """Autocomplete asks as people type, so it has a budget of its own (``SHUYUAN_SUGGEST_RATE_LIMIT``)."""

    scope = "suggest"
    setting, default = "SHUYUAN_SUGGEST_RATE_LIMIT", (300, 60)


class ClickRateThrottle(SuggestRateThrottle):
    """Click reports (POST) share autocomplete's generous budget: a reader may open many results. The
    members' page links (GET) are not limited."""

    scope = "click"

    def allow_request(self, request, view):
        return request.method != "POST" or super().allow_request(request, view)


def seconds_to_wait(throttle_class: type[SimpleRateThrottle], request) -> int | None:
    """None when the caller is within the rate, else the whole seconds (at least 1) until they are."""
    throttle = throttle_class()
    if throttle.allow_request(request, None):
        return None
    return max(1, math.ceil(throttle.wait() or 1))
