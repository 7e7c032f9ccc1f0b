"""The background job that prunes the audit log past its retention (django-tasks).

Like ``deploy.tasks.schedule_tick``: ``ensure_prune_schedule`` starts a chain of ``prune_tick`` jobs,
one a day, each re-enqueuing the next; only the chain holding the current token survives, so calling
``ensure_prune_schedule`` often (it runs at every successful login, a cheap read) never starts two.
A backend that cannot defer (the immediate backend of the tests) has no chain: run
``manage.py prune_audit`` from cron instead.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django_tasks import task

from cms.jobs import Chain

from .models import PruneSchedule

logger = logging.getLogger("shuyuan.audit")
INTERVAL = timedelta(days=1)


CHAIN = Chain("audit-prune", PruneSchedule, lambda: INTERVAL, first_delay=timedelta(minutes=5))


def ensure_prune_schedule() -> None:
    """Start the daily prune chain unless a live one exists."""
    CHAIN.ensure(prune_tick)


@task()
def prune_tick(token: str) -> dict:
    from .retention import prune

    def work() -> dict:
        deleted = prune()
        logger.info("audit log pruned: %s", deleted)
        return {"status": "ok", "deleted": deleted}

    return CHAIN.tick(prune_tick, token, work)


@task()
def prune_now() -> dict:
    """One prune, for ``prune_audit --enqueue``."""
    from .retention import prune

    return {"status": "ok", "deleted": prune()}
