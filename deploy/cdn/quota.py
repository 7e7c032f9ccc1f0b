"""A daily count of URLs (or directories) sent to a CDN, shared by every process through Django's cache.

The vendors refuse refreshes beyond an account's daily quota; counting on our side lets a backend
decide before sending (purge by directory instead, or defer) rather than learn it from an API error.
The count is kept under a key per account, kind and calendar day in the vendor's time zone, in the
configured cache (production: Redis or the database cache, shared by the web processes and the
worker). It is a reservation: ``take`` counts a batch before it is sent, and the batch's
``Reservation.release`` uncounts what the vendor refused, since refused refreshes use no quota.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.core.cache import caches

# A key outlives its day by a day, so a clock a little off at midnight still finds it.
KEY_TIMEOUT = 2 * 24 * 3600


def now() -> datetime:
    """The current time (a function so that tests can move the clock to the next day)."""
    return datetime.now(UTC)


@dataclass
class Reservation:
    cache_alias: str
    cache_key: str
    count: int

    def release(self, n: int) -> None:
        """Uncount ``n`` of the reserved items (the vendor refused them); on the day they were counted."""
        n = min(n, self.count)
        if n > 0:
            try:
                caches[self.cache_alias].decr(self.cache_key, n)
            except ValueError:  # the key expired meanwhile: nothing left to uncount
                pass
            self.count -= n

    def settle(self, n: int) -> None:
        """``n`` of the reserved items were sent: they stay counted."""
        self.count -= min(n, self.count)


class DailyQuota:
    def __init__(self, key: str, limit: int, *, cache_alias: str = "default", tz: str = "Asia/Shanghai") -> None:
        self.key = key
        self.limit = limit
        self.cache_alias = cache_alias
        self.tz = ZoneInfo(tz)

    def _cache_key(self) -> str:
        return f"shuyuan:cdn-quota:{self.key}:{now().astimezone(self.tz).date().isoformat()}"

    def used(self) -> int:
        return int(caches[self.cache_alias].get(self._cache_key(), 0))

    def remaining(self) -> int:
        return max(0, self.limit - self.used())

    def take(self, n: int) -> Reservation | None:
        """Count ``n`` more for today if they all fit in the quota (else count nothing and return None)."""
        cache, key = caches[self.cache_alias], self._cache_key()
        cache.add(key, 0, KEY_TIMEOUT)
        if n <= 0:
            return Reservation(self.cache_alias, key, 0)
        if cache.incr(key, n) > self.limit:
            cache.decr(key, n)
            return None
        return Reservation(self.cache_alias, key, n)
