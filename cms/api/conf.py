"""API settings: ``SHUYUAN_API`` in Django settings, read on every use (tests may override them)."""

from django.conf import settings

DEFAULTS = {
    # Bearer tokens for app users: short-lived access tokens, rotated refresh tokens.
    "ACCESS_TOKEN_TTL": 60 * 60,
    "REFRESH_TOKEN_TTL": 30 * 24 * 60 * 60,
    # Draft preview tokens handed to a decoupled front end.
    "PREVIEW_TOKEN_TTL": 10 * 60,
    # Abuse limits: the longest accepted query parameter value and whole query string.
    "MAX_PARAM_LENGTH": 200,
    "MAX_QUERY_STRING_LENGTH": 2000,
    # DRF rate strings per client: anonymous (by IP), token holders (by user), token endpoints (by IP).
    "RATE_LIMITS": {"anon": "600/min", "user": "1200/min", "auth": "20/min"},
    # The Django cache alias the rate limits (API and search) count in: a store every worker shares.
    "THROTTLE_CACHE": "default",
    # Remember listing counts, id windows and visible image ids per content version (see views).
    "CACHE_LISTINGS": True,
    # Seconds a rendered listing or detail response is reused for the same query and audiences (it is
    # keyed by the content version, so any edit takes effect at once; never kept past a page expiry).
    # 0 turns the response cache off. Only with CACHE_LISTINGS.
    "RESPONSE_CACHE_TTL": 300,
    # Image renditions included with every image the API returns.
    "RENDITIONS": {"thumbnail": "fill-400x300", "medium": "max-800x800", "large": "max-1600x1600"},
}


def api_setting(name: str):
    return getattr(settings, "SHUYUAN_API", {}).get(name, DEFAULTS[name])
