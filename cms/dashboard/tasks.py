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
from datetime import timedelta

from django_tasks import task

from cms.jobs import Chain, retry_later

from .conf import link_check_settings
from .models import LinkCheckSchedule

logger = logging.getLogger("shuyuan.dashboard")


def _interval() -> timedelta:
    return timedelta(hours=link_check_settings()["INTERVAL_HOURS"])


CHAIN = Chain("link-check", LinkCheckSchedule, _interval, first_delay=timedelta(minutes=1))


def ensure_link_check_schedule() -> None:
    """Start the link-check chain unless a live one exists."""
    CHAIN.ensure(link_check_tick)


@task()
def link_check_tick(token: str) -> dict:
    return CHAIN.tick(link_check_tick, token, lambda: run_check(only_broken=False, attempt=0))


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
