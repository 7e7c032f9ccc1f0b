"""Background jobs of the dashboard: the 红色云图 link checker (django-tasks).

Like ``cms.audit.tasks``: ``ensure_link_check_schedule`` starts a chain of ``link_check_tick`` jobs,
one every ``INTERVAL_HOURS``, each re-enqueuing the next; only the chain holding the current token
survives, so calling it often (every view of the admin home, a cheap read) never starts two. Links
found broken are checked again after ``RETRY_DELAYS`` (a server that was down for a minute is not
reported for a day). A backend that cannot defer (the immediate backend of the tests) has no chain:
run ``manage.py check_links`` from cron instead.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from cms.jobs import can_defer, retry_later

from .conf import link_check_settings
from .models import LinkCheckSchedule

logger = logging.getLogger("shuyuan.dashboard")
CHAIN = "link-check"


def _interval() -> timedelta:
    return timedelta(hours=link_check_settings()["INTERVAL_HOURS"])


def ensure_link_check_schedule() -> None:
    """Start the link-check chain unless a live one exists."""
    if not can_defer(link_check_tick):
        return
    now = timezone.now()
    interval = _interval()
    row = LinkCheckSchedule.objects.filter(name=CHAIN).first()
    if row is not None and row.expires_at > now - 2 * interval:
        return
    token = uuid.uuid4().hex
    LinkCheckSchedule.objects.update_or_create(name=CHAIN, defaults={"token": token, "expires_at": now + interval})
    link_check_tick.using(run_after=now + timedelta(minutes=1)).enqueue(token)


@task()
def link_check_tick(token: str) -> dict:
    row = LinkCheckSchedule.objects.filter(name=CHAIN).first()
    if row is None or row.token != token:
        return {"status": "superseded"}
    try:
        result = run_check(only_broken=False, attempt=0)
    finally:
        now = timezone.now()
        interval = _interval()
        LinkCheckSchedule.objects.filter(name=CHAIN, token=token).update(expires_at=now + interval)
        if can_defer(link_check_tick):
            link_check_tick.using(run_after=now + interval).enqueue(token)
    return result


@task()
def check_links_task(only_broken: bool = False, attempt: int = 0) -> dict:
    """One check of every link (or only the broken ones), for ``check_links --enqueue`` and retries."""
    return run_check(only_broken=only_broken, attempt=attempt)


def run_check(only_broken: bool, attempt: int) -> dict:
    from .links import check_links

    counts = check_links(only_broken=only_broken)
    logger.info("link check: %s", counts)
    retry_in = None
    if counts["broken"]:
        retry_in = retry_later(check_links_task, attempt, True, delays=link_check_settings()["RETRY_DELAYS"])
    return {"status": "ok", **counts, "retry_in": retry_in}
