"""CDN purge of exactly the URLs a publish changed, through Wagtail's frontend-cache backends.

Backends come from ``WAGTAILFRONTENDCACHE`` through ``wagtail.contrib.frontend_cache.utils.get_backends``
(CloudFront, Cloudflare, Azure, HTTP PURGE...). Wagtail's backends report most failures by logging an
error instead of raising, so each batch is run with a handler that collects the error records it
logs; a batch that raised or logged an error is retried with backoff, and every batch is recorded as a
``PurgeRecord``. A purge failure never fails the publish: the caller keeps the URLs and retries them on
the next run.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from wagtail.contrib.frontend_cache.utils import get_backends

from .conf import publish_setting

logger = logging.getLogger("shuyuan.deploy")


@dataclass
class PurgeOutcome:
    sent: int = 0
    failed_urls: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed_urls


class _ErrorCollector(logging.Handler):
    """Collects ERROR records logged by the current thread while a backend runs."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.thread = threading.get_ident()
        self.messages: list[str] = []
        self._seen: set[int] = set()

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread and id(record) not in self._seen:
            self._seen.add(id(record))
            self.messages.append(record.getMessage())


def _call_collecting_errors(fn: Callable[[], None]) -> list[str]:
    collector = _ErrorCollector()
    loggers = [logging.getLogger("wagtail.frontendcache"), logging.getLogger()]
    for lg in loggers:
        lg.addHandler(collector)
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - any backend failure is retried and recorded, never lost
        collector.messages.append(f"{type(e).__name__}: {e}")
    finally:
        for lg in loggers:
            lg.removeHandler(collector)
    return collector.messages


def absolute_urls(paths: Iterable[str], base_url: str | None = None) -> list[str]:
    base = (base_url or publish_setting("BASE_URL")).rstrip("/")
    return sorted({p if urlsplit(p).scheme else f"{base}/{p.lstrip('/')}" for p in paths})


def purge(
    urls: Iterable[str],
    *,
    run=None,
    backend_settings: dict | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> PurgeOutcome:
    """Purge absolute URLs from every configured backend, in batches, with retries."""
    from .models import PurgeRecord

    urls = sorted(set(urls))
    outcome = PurgeOutcome()
    if not urls:
        return outcome
    backends = get_backends(backend_settings)
    if not backends:
        return outcome
    batch_size = int(publish_setting("PURGE_BATCH_SIZE"))
    retries = int(publish_setting("PURGE_RETRIES"))
    backoff = float(publish_setting("PURGE_BACKOFF"))
    failed: set[str] = set()
    for name, backend in backends.items():
        mine = [u for u in urls if backend.invalidates_hostname(urlsplit(u).netloc)]
        for i in range(0, len(mine), batch_size):
            batch = mine[i : i + batch_size]
            errors: list[str] = []
            attempt = 0
            for attempt in range(1, retries + 2):  # noqa: B007 - recorded below
                errors = _call_collecting_errors(lambda b=batch, be=backend: be.purge_batch(b))
                if not errors:
                    break
                if attempt <= retries:
                    sleep(backoff * 2 ** (attempt - 1))
            PurgeRecord.objects.create(
                run=run,
                backend=name,
                url_count=len(batch),
                urls=batch[:200],
                ok=not errors,
                attempts=attempt,
                error="\n".join(errors[:20]),
            )
            if errors:
                logger.warning("CDN purge via %s failed for %d URLs: %s", name, len(batch), errors[0])
                failed.update(batch)
                outcome.errors.append(f"{name}: {errors[0]}")
            else:
                outcome.sent += len(batch)
    outcome.failed_urls = sorted(failed)
    return outcome
