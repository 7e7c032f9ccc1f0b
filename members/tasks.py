"""Background jobs: sending due reminders (django-tasks).

Like ``cms.dashboard.tasks``: ``ensure_reminder_schedule`` starts a chain of ``reminder_tick`` jobs,
one every ``SHUYUAN_REMINDER_INTERVAL`` seconds (default 60), each sending what is due and re-enqueuing
the next; only the chain holding the current token survives, so calling it often (every saved
reminder) never starts two. Saving a reminder also enqueues ``send_due_reminders`` for its send time.
A backend that cannot defer (the immediate backend of the tests) has no chain: run
``manage.py send_reminders`` from cron instead.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from cms.jobs import Chain, can_defer

from .models import ReminderSchedule


def _interval() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "SHUYUAN_REMINDER_INTERVAL", 60)))


CHAIN = Chain("reminders", ReminderSchedule, _interval, stale_after=3)


def ensure_reminder_schedule() -> None:
    """Start the reminder chain unless a live one exists."""
    CHAIN.ensure(reminder_tick)


@task()
def reminder_tick(token: str) -> dict:
    return CHAIN.tick(reminder_tick, token, run_due)


@task()
def send_due_reminders() -> dict:
    """Send what is due now (enqueued for a reminder's send time, and by ``send_reminders --enqueue``)."""
    return run_due()


def run_due() -> dict:
    from .services import send_due

    outcomes = send_due()
    return {"status": "ok", "reminders": {o.reminder_id: o.status for o in outcomes}}


def schedule(reminder) -> None:
    """After a reminder is saved: send it at its time (and keep the chain alive)."""
    from cms.jobs import enqueue_later

    if can_defer(send_due_reminders):
        delay = max(0.0, (reminder.send_at - timezone.now()).total_seconds())
        enqueue_later(send_due_reminders, delay)
        ensure_reminder_schedule()
