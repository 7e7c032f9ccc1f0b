"""``SHUYUAN_PUBLISH`` with its defaults, read at call time (never at import)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

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
    # Lease on the target: a publish holds it while running; a dead one's lease runs out.
    "LOCK_TTL": 600,
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
