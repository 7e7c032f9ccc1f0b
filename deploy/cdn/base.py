"""What the Alibaba Cloud and Tencent Cloud purge backends share: options, batching, the daily quota.

A vendor backend says how it refreshes a list of URLs and a list of directories on one host
(``refresh``) and its API's limits (per call and per day, from the vendor's documentation, cited
in each module). This class turns any batch that ``deploy.purge`` (or Wagtail) hands it into calls
within those limits:

- URLs are percent-encoded as browsers send them (the CDN caches them under that form), grouped by
  host and sent in chunks of at most ``max_urls_per_call``;
- the whole batch is counted against the day's URL quota before anything is sent; if it doesn't fit,
  the batch is refreshed by directory instead (the fewest directories that cover it, within the
  directory quota), and if that doesn't fit either it is refused without calling the API, with an
  error logged that says why; ``deploy.purge`` then records the batch as failed and the publisher
  keeps its URLs for the next run (so they are deferred, never lost);
- a call the vendor refuses (bad credentials, throttling...) is logged as an error for its chunk,
  and its URLs are uncounted.

Errors are logged on Wagtail's ``wagtail.frontendcache`` logger, as Wagtail's own backends do, which
is how ``deploy.purge`` learns that a batch failed; they reach the admin's publish history, so they
are written in Chinese.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.encoding import iri_to_uri
from wagtail.contrib.frontend_cache.backends.base import BaseBackend

from .quota import DailyQuota, Reservation

logger = logging.getLogger("wagtail.frontendcache")


class RefreshRefused(Exception):
    """The vendor's API refused a refresh call (or could not be reached)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _option(params: dict, name: str, default=None, *, required: bool = False):
    value = params.get(name, default)
    if required and not value:
        raise ImproperlyConfigured(f"WAGTAILFRONTENDCACHE: this backend requires '{name}'.")
    return value


def missing_sdk(package: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"WAGTAILFRONTENDCACHE: this backend needs the {package} package (pip install {package}).")


def _count_option(params: dict, name: str, default: int) -> int:
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ImproperlyConfigured(f"WAGTAILFRONTENDCACHE: '{name}' must be a whole number ≥ 0 (got {value!r}).")
    return value


def normalise_urls(urls: Iterable[str]) -> list[str]:
    """Absolute http(s) URLs, percent-encoded as a browser sends them, each once, in their order."""
    seen: dict[str, None] = {}
    for url in urls:
        if urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"not an absolute http(s) URL: {url!r}")
        seen.setdefault(iri_to_uri(url), None)
    return list(seen)


def _directory(url: str) -> tuple[str, tuple[str, ...]]:
    """The host (with scheme) and the path segments of the directory holding ``url``.

    A page's URL is itself a directory (``/news/a/``); refreshing its parent (``/news/``) is what
    covers it, so a trailing slash is dropped first."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    return f"{parts.scheme}://{parts.netloc}", tuple(segments[:-1])


def covering_directories(urls: Iterable[str], limit: int) -> list[str]:
    """The fewest directory URLs (``https://host/a/b/``), at most ``limit``, whose refresh covers every URL.

    Directories are cut to the same depth, the deepest at which there are no more than ``limit``
    of them (depth 0 is each host's root); none if even the hosts' roots are more than ``limit``."""
    dirs = {_directory(u) for u in urls}
    if not dirs or limit <= 0:
        return []
    best: set[tuple[str, tuple[str, ...]]] | None = None
    for depth in range(max(len(segs) for _, segs in dirs), -1, -1):
        cut = {(host, segs[:depth]) for host, segs in dirs}
        # a directory inside another one in the set is covered by it
        cut = {
            (host, segs) for host, segs in cut
            if not any(h == host and len(s) < len(segs) and segs[: len(s)] == s for h, s in cut)
        }
        if len(cut) <= limit:
            best = cut
            break
    if best is None:
        return []
    return sorted(f"{host}/" + "".join(f"{s}/" for s in segs) for host, segs in best)


def _by_host(urls: list[str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for url in urls:
        groups.setdefault(urlsplit(url).netloc, []).append(url)
    return groups


class ChinaCdnBackend(BaseBackend):
    #: shown in logged errors
    vendor = ""
    #: prefix of the quota's cache key (the account's id is added)
    quota_prefix = ""
    max_urls_per_call = 1000
    max_directories_per_call = 100
    default_daily_urls = 10000
    default_daily_directories = 100

    def __init__(self, params: dict) -> None:
        super().__init__(params)
        protocol = params.get("PROTOCOL", "https")
        if protocol not in ("http", "https"):
            raise ImproperlyConfigured(f"WAGTAILFRONTENDCACHE: 'PROTOCOL' must be 'http' or 'https' (got {protocol!r}).")
        self.protocol = protocol
        timeout = params.get("TIMEOUT", 10)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ImproperlyConfigured(f"WAGTAILFRONTENDCACHE: 'TIMEOUT' must be a number of seconds > 0 (got {timeout!r}).")
        self.timeout = timeout
        self.directory_fallback = bool(params.get("DIRECTORY_FALLBACK", True))
        self.url_quota_limit = _count_option(params, "DAILY_URL_QUOTA", self.default_daily_urls)
        self.directory_quota_limit = _count_option(params, "DAILY_DIRECTORY_QUOTA", self.default_daily_directories)
        # The directory quota is small (100 a day): one oversized batch may not spend it all, so that
        # later batches and later publishes today can still fall back.
        self.directories_per_batch = _count_option(params, "DIRECTORIES_PER_BATCH", 10)
        self._quota_cache = params.get("QUOTA_CACHE", "default")
        self._quota_tz = params.get("QUOTA_TIMEZONE", "Asia/Shanghai")
        try:
            ZoneInfo(self._quota_tz)
        except (ZoneInfoNotFoundError, ValueError, TypeError) as e:
            raise ImproperlyConfigured(f"WAGTAILFRONTENDCACHE: 'QUOTA_TIMEZONE' is no time zone: {self._quota_tz!r}.") from e
        self._quota_key = params.get("QUOTA_KEY")
        if self._quota_cache not in settings.CACHES:
            raise ImproperlyConfigured(f"WAGTAILFRONTENDCACHE: 'QUOTA_CACHE' names no cache in CACHES: {self._quota_cache!r}.")

    def _quotas(self, account: str) -> tuple[DailyQuota, DailyQuota]:
        """The URL and directory quotas of ``account`` (the vendors count per account, not per backend)."""
        key = self._quota_key or f"{self.quota_prefix}:{hashlib.sha256(account.encode()).hexdigest()[:16]}"
        opts = {"cache_alias": self._quota_cache, "tz": self._quota_tz}
        return (
            DailyQuota(f"{key}:urls", self.url_quota_limit, **opts),
            DailyQuota(f"{key}:dirs", self.directory_quota_limit, **opts),
        )

    # -- what a vendor module provides --------------------------------------------------------

    url_quota: DailyQuota
    directory_quota: DailyQuota

    def refresh(self, kind: str, paths: list[str]) -> None:
        """Refresh ``paths`` (kind ``"url"`` or ``"directory"``, one host, within the per-call limit).

        Raises RefreshRefused when the vendor refuses."""
        raise NotImplementedError

    # -- the frontend_cache contract ----------------------------------------------------------

    def purge(self, url: str) -> None:
        self.purge_batch([url])

    def purge_batch(self, urls) -> None:
        urls = normalise_urls(urls)
        if not urls:
            return
        reservation = self.url_quota.take(len(urls))
        if reservation is not None:
            self._send("url", urls, self.max_urls_per_call, reservation)
            return
        left = self.url_quota.remaining()
        if self.directory_fallback:
            limit = min(self.directory_quota.remaining(), self.max_directories_per_call, self.directories_per_batch)
            dirs = covering_directories(urls, limit)
            reservation = self.directory_quota.take(len(dirs)) if dirs else None
            if reservation is not None:
                logger.warning(
                    "%s 今日 URL 刷新额度不足（剩余 %d/%d，本批 %d 个 URL），改为刷新 %d 个目录：%s",
                    self.vendor, left, self.url_quota_limit, len(urls), len(dirs), "，".join(dirs),
                )
                self._send("directory", dirs, self.max_directories_per_call, reservation)
                return
        logger.error(
            "%s 今日刷新额度不足，本批 %d 个 URL 未发送，留待下次发布：URL 额度剩余 %d/%d，目录额度剩余 %d/%d%s。",
            self.vendor, len(urls), left, self.url_quota_limit,
            self.directory_quota.remaining(), self.directory_quota_limit,
            "" if self.directory_fallback else "（未启用按目录刷新）",
        )

    def _send(self, kind: str, paths: list[str], per_call: int, reservation: Reservation) -> None:
        try:
            for host_paths in _by_host(paths).values():
                for i in range(0, len(host_paths), per_call):
                    chunk = host_paths[i : i + per_call]
                    try:
                        self.refresh(kind, chunk)
                    except RefreshRefused as e:
                        reservation.release(len(chunk))
                        logger.error(
                            "%s 刷新失败（%s，%d 个%s，首个 %s）：%s",
                            self.vendor, e.code, len(chunk), "URL" if kind == "url" else "目录", chunk[0], e.message,
                        )
                    else:
                        reservation.settle(len(chunk))
        finally:
            # whatever was neither sent nor refused (an exception escaped): uncount it
            reservation.release(reservation.count)
