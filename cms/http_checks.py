"""Start-up checks for what several server processes must share: the cache behind the rate limits.

The API's rate limits count in Django's default cache. A per-process cache (``LocMemCache``) gives each worker its own count, so two granian
workers allow twice the limit, and a ``DummyCache`` counts nothing at all. Production therefore uses
Redis (``REDIS_URL``) or, without it, the database cache; these checks refuse a per-process cache when
more than one worker runs (``WEB_CONCURRENCY`` or ``GRANIAN_WORKERS`` above 1) and say when the database
cache's table has not been created (``manage.py createcachetable``).

A WSGI server never runs system checks, so ``CmsConfig.ready`` also calls :func:`enforce_shared_cache`:
granian refuses to start with the same message that ``manage.py check`` and ``migrate`` give.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from django.core import checks

#: cache backends that keep their data inside one process
PER_PROCESS_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)
WORKER_VARIABLES = ("WEB_CONCURRENCY", "GRANIAN_WORKERS")


def worker_count(environ: Mapping[str, str] = os.environ) -> int:
    """The number of server processes the environment asks for (1 when nothing says otherwise)."""
    counts = [1]
    for name in WORKER_VARIABLES:
        raw = environ.get(name, "").strip()
        if not raw:
            continue
        try:
            counts.append(int(raw))
        except ValueError as e:
            raise ValueError(f"{name} must be a whole number of worker processes, not {raw!r}") from e
    return max(counts)


def shared_cache_problem(caches: Mapping[str, Mapping], environ: Mapping[str, str] = os.environ) -> str | None:
    """Why the default cache cannot serve several workers, or None when it can (or one worker runs)."""
    backend = (caches.get("default") or {}).get("BACKEND", "django.core.cache.backends.locmem.LocMemCache")
    workers = worker_count(environ)
    if backend in PER_PROCESS_CACHES and workers > 1:
        return (
            f"CACHES['default'] is {backend.rsplit('.', 1)[-1]}, which each process keeps for itself, but "
            f"{workers} workers are configured ({' / '.join(WORKER_VARIABLES)}): every worker would count "
            "rate limits on its own. Set REDIS_URL, or use the database cache "
            "(django.core.cache.backends.db.DatabaseCache) and run `manage.py createcachetable`."
        )
    return None


def enforce_shared_cache() -> None:
    """Raise ImproperlyConfigured when the cache cannot serve the configured workers (no queries)."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        problem = shared_cache_problem(settings.CACHES)
    except ValueError as e:
        raise ImproperlyConfigured(str(e)) from e
    if problem:
        raise ImproperlyConfigured(problem)


@checks.register(checks.Tags.caches)
def check_shared_cache(app_configs=None, **kwargs):
    from django.conf import settings

    try:
        problem = shared_cache_problem(settings.CACHES)
    except ValueError as e:
        return [checks.Error(str(e), id="shuyuan.E101")]
    return [checks.Error(problem, id="shuyuan.E100")] if problem else []


@checks.register(checks.Tags.caches, checks.Tags.database)
def check_cache_table(app_configs=None, databases=None, **kwargs):
    """The database cache's table exists (run by ``migrate`` and ``check --database default``)."""
    from django.conf import settings
    from django.db import connections
    from django.db.utils import DatabaseError

    warnings = []
    for alias, config in settings.CACHES.items():
        if config.get("BACKEND") != "django.core.cache.backends.db.DatabaseCache":
            continue
        table = config["LOCATION"]
        for db in databases or []:
            try:
                with connections[db].cursor() as cursor:
                    present = table in connections[db].introspection.table_names(cursor)
            except DatabaseError as e:
                warnings.append(checks.Warning(f"cannot look for the cache table {table!r}: {e}", id="shuyuan.W101"))
                continue
            if not present:
                warnings.append(
                    checks.Warning(
                        f"The cache {alias!r} uses the database table {table!r}, which does not exist yet: "
                        "every rate-limited API request fails until it does.",
                        hint="Run `python manage.py createcachetable` (after `migrate`).",
                        id="shuyuan.W100",
                    )
                )
    return warnings


@checks.register(checks.Tags.compatibility)
def check_untranslated_setting(app_configs=None, **kwargs):
    """``SHUYUAN_HIDE_UNTRANSLATED`` is a bool (cms/visibility.py reads it on every rule)."""
    from django.core.exceptions import ImproperlyConfigured

    from cms.visibility import hides_untranslated

    try:
        hides_untranslated()
    except ImproperlyConfigured as e:
        return [checks.Error(str(e), id="shuyuan.E102")]
    return []
