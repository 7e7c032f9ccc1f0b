"""Background job of 学习记录: deleting records older than ``SHUYUAN_STUDY_RECORDS_DAYS`` (django-tasks).

Like ``members.tasks``: ``ensure_purge_schedule`` starts a ``cms.jobs.Chain`` of ``purge_tick`` jobs,
one a day, each purging and enqueuing the next; only the chain holding the current token
(``PurgeSchedule``) goes on, so calling it often (the 学习情况 dashboard panel does) never starts two.
A backend that cannot defer (the tests' immediate backend) has no chain: run
``manage.py purge_study_records`` from cron instead. The purge is re-runnable: a second run finds
nothing more to delete.
"""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from cms.jobs import Chain

from .models import PurgeSchedule


def _interval() -> timedelta:
    return timedelta(days=1)


CHAIN = Chain("study_records_purge", PurgeSchedule, _interval, first_delay=timedelta(minutes=5))


def ensure_purge_schedule() -> None:
    """Start the daily purge chain unless a live one exists."""
    CHAIN.ensure(purge_tick)


@task()
def purge_tick(token: str) -> dict:
    return CHAIN.tick(purge_tick, token, run_purge)


@task()
def purge_study_records() -> dict:
    """Purge once now."""
    return run_purge()


def run_purge() -> dict:
    from .services import purge

    return {"status": "ok", **purge()}
