"""Background jobs, the one way: enqueue after the transaction commits, retry later with back-off.

Every app enqueues its django-tasks jobs through these helpers, so the question "can this task backend
run a job later?" (the database backend of ``./dev up`` and production can; the immediate and dummy
backends of the tests cannot) and the back-off arithmetic have one home.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_tasks import task_backends

logger = logging.getLogger("shuyuan.jobs")


def can_defer(task) -> bool:
    """Whether ``task``'s backend can hold a job until a given time (``run_after``)."""
    return bool(task_backends[task.backend].supports_defer)


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Enqueue ``task`` once the current transaction commits (at once outside a transaction): a job
    never sees data its editor's transaction may still roll back."""
    transaction.on_commit(lambda: task.enqueue(*args, **kwargs))


def enqueue_later(task, seconds: float, *args, **kwargs) -> bool:
    """Enqueue ``task`` to run in ``seconds`` if its backend can defer (otherwise at once). Returns
    whether it was deferred."""
    if seconds and can_defer(task):
        task.using(run_after=timezone.now() + timedelta(seconds=seconds)).enqueue(*args, **kwargs)
        return True
    task.enqueue(*args, **kwargs)
    return False


def retry_later(task, attempt: int, *args, delays: Sequence[float], repeat_last: bool = False, **kwargs) -> float | None:
    """Enqueue ``task`` again as attempt ``attempt + 1`` (passed as the ``attempt`` keyword) after the
    ``attempt``-th of ``delays`` seconds.

    Returns the delay, or None when no retry was scheduled: the backend cannot defer, or the attempts
    are used up (with ``repeat_last``, the last delay repeats for ever: for work that must happen
    eventually, such as catching up with the search index after an outage).
    """
    delays = list(delays)
    if not delays or not can_defer(task):
        return None
    if attempt >= len(delays) and not repeat_last:
        return None
    delay = delays[min(attempt, len(delays) - 1)]
    task.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue(*args, attempt=attempt + 1, **kwargs)
    return delay


class Chain:
    """A periodic job kept alive by its own ticks: each tick does the work and enqueues the next.

    The chain's row in ``schedule_model`` (fields ``name``, ``token``, ``expires_at``) holds the token of
    the live chain; a tick holding another token is superseded and stops, so ``ensure`` may be called
    often (every admin view, every login: a cheap read) and never starts two chains. A chain whose row
    has not been renewed for ``stale_after`` intervals is taken to be dead (its job lost) and replaced.
    A backend that cannot defer (the immediate backend of the tests) has no chain: each app offers a
    command for cron instead.
    """

    def __init__(self, name: str, schedule_model, interval, *, stale_after: int = 2, first_delay: timedelta | None = None):
        self.name = name
        self.schedule_model = schedule_model
        self.interval = interval  # a callable returning the timedelta (read from settings at each tick)
        self.stale_after = stale_after
        self.first_delay = first_delay

    def ensure(self, tick) -> None:
        """Start the chain of ``tick`` jobs unless a live one exists."""
        if not can_defer(tick):
            return
        now, interval = timezone.now(), self.interval()
        rows = self.schedule_model.objects
        row = rows.filter(name=self.name).first()
        if row is not None and row.expires_at > now - self.stale_after * interval:
            return
        token = uuid.uuid4().hex
        rows.update_or_create(name=self.name, defaults={"token": token, "expires_at": now + interval})
        tick.using(run_after=now + (self.first_delay if self.first_delay is not None else interval)).enqueue(token)

    def tick(self, tick, token: str, work) -> dict:
        """Body of a tick job: ``work()`` (its result returned) unless superseded, then the next tick."""
        rows = self.schedule_model.objects
        row = rows.filter(name=self.name).first()
        if row is None or row.token != token:
            return {"status": "superseded"}
        try:
            return work()
        finally:
            now, interval = timezone.now(), self.interval()
            rows.filter(name=self.name, token=token).update(expires_at=now + interval)
            if can_defer(tick):
                tick.using(run_after=now + interval).enqueue(token)
