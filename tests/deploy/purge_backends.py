"""Frontend-cache backends for tests (configured through WAGTAILFRONTENDCACHE like real ones)."""

import logging

from wagtail.contrib.frontend_cache.backends.base import BaseBackend

logger = logging.getLogger("wagtail.frontendcache")
PURGED: list[list[str]] = []
CALLS = {"failing": 0}


class RecordingBackend(BaseBackend):
    def purge_batch(self, urls):
        PURGED.append(list(urls))


class LoggingFailureBackend(BaseBackend):
    """Fails the way Wagtail's HTTP backend does: it logs an error and returns."""

    def purge_batch(self, urls):
        CALLS["failing"] += 1
        for url in urls:
            logger.error("Couldn't purge '%s' from HTTP cache. URLError: refused", url)


class RaisingBackend(BaseBackend):
    def purge_batch(self, urls):
        raise ConnectionError("CDN API unreachable")
