"""Per-client rate limits. Rates come from ``SHUYUAN_API["RATE_LIMITS"]`` at request time."""

from rest_framework.throttling import SimpleRateThrottle

from .conf import api_setting


class _SettingsRateThrottle(SimpleRateThrottle):
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
