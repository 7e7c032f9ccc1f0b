"""Background jobs: import the public service's inbox (``members.surveys.inbox``).

``ensure_import_schedule`` (called from the admin's home and ``import_submissions --schedule``) starts
a chain of ``import_tick`` jobs, one every ``SHUYUAN_FORMS_IMPORT_INTERVAL`` seconds, when an inbox is
configured (``cms.jobs.Chain``). A backend that cannot defer has no chain: run
``manage.py import_submissions`` from cron instead.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django_tasks import task

from cms.jobs import Chain
from members.models import ReminderSchedule


def _interval() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "SHUYUAN_FORMS_IMPORT_INTERVAL", 60)))


CHAIN = Chain("forms-inbox", ReminderSchedule, _interval, stale_after=3, first_delay=timedelta(seconds=5))


def ensure_import_schedule() -> None:
    """Start the inbox import chain unless one is live (nothing without a configured inbox)."""
    from .inbox import inbox_path

    if inbox_path() is not None:
        CHAIN.ensure(import_tick)


def run_import() -> dict:
    from .inbox import import_inbox

    result = import_inbox()
    return {"status": "ok", "imported": result.imported, "already": result.already, "rejected": len(result.rejected)}


@task()
def import_tick(token: str) -> dict:
    return CHAIN.tick(import_tick, token, run_import)


@task()
def import_submissions_task() -> dict:
    return run_import()
