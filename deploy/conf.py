"""``SHUYUAN_PUBLISH`` with its defaults, read at call time (never at import)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULTS: dict[str, Any] = {
    # Public address of the static site: absolute URLs in feeds and sitemaps, and what the CDN purges.
    "BASE_URL": "http://127.0.0.1:8001",
    "HTML_CACHE_CONTROL": "public, max-age=60, must-revalidate",
    "ASSET_CACHE_CONTROL": "public, max-age=31536000, immutable",
    # Media (renditions, documents) keep their names when replaced, so they can't be immutable.
    "MEDIA_CACHE_CONTROL": "public, max-age=3600",
    # A publish refuses to delete more objects than this unless told to (pages that became
    # non-public are always withdrawn: secrecy wins over the cap).
    "MAX_DELETIONS": 1000,
    "PURGE_BATCH_SIZE": 100,
    "PURGE_RETRIES": 3,
    "PURGE_BACKOFF": 1.0,
    # Lease on the target: a publish holds it while running and renews it every LOCK_HEARTBEAT
    # seconds (a background thread, through every phase, uploads included); a lease not renewed for
    # LOCK_TTL seconds, or held by a process that is gone on this host, is taken over by the next publish.
    "LOCK_TTL": 15,
    "LOCK_HEARTBEAT": 3,
    # Bounds on a slow or hung target. Each S3 request has connect and read timeouts and at most
    # TARGET_MAX_ATTEMPTS attempts (with back-off), so a hung target fails a request within about
    # ATTEMPTS x (CONNECT + READ) seconds (~30 s by default); uploads that all make no progress for
    # TARGET_TIMEOUT seconds stop the publish, those in flight ending within one read timeout. A failed
    # publish is recorded in the history and the background job retries it later (RETRY_DELAYS).
    "TARGET_TIMEOUT": 60,
    "TARGET_CONNECT_TIMEOUT": 5,
    "TARGET_READ_TIMEOUT": 10,
    "TARGET_MAX_ATTEMPTS": 3,
    # Background job: retry delays (seconds) when the target or CDN is unreachable.
    "RETRY_DELAYS": [10, 30, 120, 600],
    # How often the worker checks scheduled go-live / expiry (seconds).
    "SCHEDULE_INTERVAL": 60,
    # "fast" serves preloaded pages with the Site cached on the request; "client" runs every URL
    # through the full middleware stack (slower, for comparison and debugging).
    "RENDER_MODE": "fast",
    # Processes rendering a large build (0: one per available core; 1: render in the publishing
    # process), and the size of build from which it is worth forking them.
    "RENDER_WORKERS": 0,
    "PARALLEL_MIN_PAGES": 2000,
    # Editors' actions enqueue a background publish (turn off for test suites that don't publish).
    "AUTO_PUBLISH": True,
    # Paths served by the CMS/API behind the same CDN, not by the static copy (the link checker skips
    # them); a language prefix ("/zh-hans/search/") is ignored when matching.
    "DYNAMIC_PREFIXES": ["/admin/", "/accounts/", "/api/", "/search/"],
    # Pages whose change affects every page (menus, site header): rebuild everything.
    "SITE_WIDE_DEPTH": 3,
}


def publish_setting(name: str) -> Any:
    configured = getattr(settings, "SHUYUAN_PUBLISH", {}) or {}
    return configured.get(name, DEFAULTS[name])


def _positive(name: str) -> float:
    value = publish_setting(name)
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = 0.0
    if isinstance(value, bool) or not number > 0:
        raise ImproperlyConfigured(f"SHUYUAN_PUBLISH[{name!r}] must be a positive number of seconds, not {value!r}.")
    return number


def lease_seconds() -> tuple[float, float]:
    """(LOCK_TTL, LOCK_HEARTBEAT), checked: a heartbeat at most a third of the lease, so two renewals
    can fail before another publish may take over."""
    ttl, beat = _positive("LOCK_TTL"), _positive("LOCK_HEARTBEAT")
    if beat * 3 > ttl:
        raise ImproperlyConfigured(
            f"SHUYUAN_PUBLISH['LOCK_HEARTBEAT'] ({beat:g} s) must be at most a third of LOCK_TTL ({ttl:g} s)."
        )
    return ttl, beat


def target_bounds() -> dict[str, float]:
    """The checked bounds on a slow target (see DEFAULTS)."""
    bounds = {name: _positive(name) for name in (
        "TARGET_TIMEOUT", "TARGET_CONNECT_TIMEOUT", "TARGET_READ_TIMEOUT", "TARGET_MAX_ATTEMPTS",
    )}
    if bounds["TARGET_MAX_ATTEMPTS"] != int(bounds["TARGET_MAX_ATTEMPTS"]):
        raise ImproperlyConfigured("SHUYUAN_PUBLISH['TARGET_MAX_ATTEMPTS'] must be a whole number.")
    return bounds


def validate() -> None:
    """Raise ImproperlyConfigured for a lease or timeout setting that cannot work (start-up checks and
    every publish call this)."""
    lease_seconds()
    target_bounds()


#: the static site's name as a consumer of the change feed (``deploy.pending``; ``deploy.affected``
#: reads its cursor too)
PUBLISH_CONSUMER = "publish"
