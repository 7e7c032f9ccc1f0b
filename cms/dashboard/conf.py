"""The link checker's settings: ``SHUYUAN_LINK_CHECK`` (a dict; every key optional).

====================  =======  ====================================================================
key                   default  meaning
====================  =======  ====================================================================
CONNECT_TIMEOUT       5        seconds to open the connection to a link's server
READ_TIMEOUT          10       seconds to wait for the server's answer once connected
INTERVAL_HOURS        24       hours between two checks of every link (the worker's chain)
RETRY_DELAYS          [600, 3600]  seconds after which links found broken are checked again
WORKERS               8        links checked at the same time
ALLOW_PRIVATE         False    also check links to private, loopback and link-local addresses
====================  =======  ====================================================================
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULTS = {
    "CONNECT_TIMEOUT": 5,
    "READ_TIMEOUT": 10,
    "INTERVAL_HOURS": 24,
    "RETRY_DELAYS": [600, 3600],
    "WORKERS": 8,
    "ALLOW_PRIVATE": False,
}


def link_check_settings() -> dict:
    """The merged settings; ImproperlyConfigured names the bad key."""
    given = getattr(settings, "SHUYUAN_LINK_CHECK", None) or {}
    if not isinstance(given, dict):
        raise ImproperlyConfigured("SHUYUAN_LINK_CHECK must be a dict")
    unknown = set(given) - set(DEFAULTS)
    if unknown:
        raise ImproperlyConfigured(f"SHUYUAN_LINK_CHECK has unknown keys: {', '.join(sorted(unknown))}")
    merged = {**DEFAULTS, **given}
    for key in ("CONNECT_TIMEOUT", "READ_TIMEOUT", "INTERVAL_HOURS", "WORKERS"):
        value = merged[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ImproperlyConfigured(f"SHUYUAN_LINK_CHECK['{key}'] must be a positive number, not {value!r}")
    delays = merged["RETRY_DELAYS"]
    if not isinstance(delays, list | tuple) or not all(
        isinstance(d, int | float) and not isinstance(d, bool) and d > 0 for d in delays
    ):
        raise ImproperlyConfigured("SHUYUAN_LINK_CHECK['RETRY_DELAYS'] must be a list of positive numbers of seconds")
    if not isinstance(merged["ALLOW_PRIVATE"], bool):
        raise ImproperlyConfigured("SHUYUAN_LINK_CHECK['ALLOW_PRIVATE'] must be True or False")
    merged["WORKERS"] = int(merged["WORKERS"])
    return merged
