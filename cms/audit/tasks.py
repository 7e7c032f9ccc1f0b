"""The background job that prunes the audit log past its retention (django-tasks).

Like ``deploy.tasks.schedule_tick``: ``ensure_prune_schedule`` starts a chain of ``prune_tick`` jobs,
one a day, each re-enqueuing the next; only the chain holding the current token survives, so calling
``ensure_prune_schedule`` often (it runs at every successful login, a cheap read) never starts two.
A backend that cannot defer (the immediate backend of the tests) has no chain: run
``manage.py prune_audit`` from cron instead.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from cms.jobs import can_defer

from .models import PruneSchedule

logger = logging.getLogger("shuyuan.audit")
CHAIN = "audit-prune"
INTERVAL = timedelta(days=1)


def ensure_prune_schedule() -> None:
    """Start the daily prune chain unless a live one exists."""
    if not can_defer(prune_tick):
        return
    now = timezone.now()
    row = PruneSchedule.objects.filter(name=CHAIN).first()
    if row is not None and row.expires_at > now - 2 * INTERVAL:
        return
    token = uuid.uuid4().hex
    PruneSchedule.objects.update_or_create(
        name=CHAIN, defaults={"token": token, "expires_at": now + INTERVAL}
    )
    prune_tick.using(run_after=now + timedelta(minutes=5)).enqueue(token)


@task()
def prune_tick(token: str) -> dict:
    from .retention import prune

    row = PruneSchedule.objects.filter(name=CHAIN).first()
    if row is None or row.token != token:
        return {"status": "superseded"}
    try:
        deleted = prune()
        logger.info("audit log pruned: %s", deleted)
    finally:
        now = timezone.now()
        PruneSchedule.objects.filter(name=CHAIN, token=token).update(expires_at=now + INTERVAL)
        if can_defer(prune_tick):
            prune_tick.using(run_after=now + INTERVAL).enqueue(token)
    return {"status": "ok", "deleted": deleted}


@task()
def prune_now() -> dict:
    """One prune, for ``prune_audit --enqueue``."""
    from .retention import prune

    return {"status": "ok", "deleted": prune()}
