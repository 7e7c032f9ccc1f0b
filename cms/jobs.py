"""Background jobs, the one way: enqueue after the transaction commits, retry later with back-off.

Every app enqueues its django-tasks jobs through these helpers, so the question "can this task backend
run a job later?" (the database backend of ``./dev up`` and production can; the immediate and dummy
backends of the tests cannot) and the back-off arithmetic have one home.
"""

from __future__ import annotations

import logging
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
