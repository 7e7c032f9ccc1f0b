"""Background jobs: sending due reminders (django-tasks).

Like ``cms.dashboard.tasks``: ``ensure_reminder_schedule`` starts a chain of ``reminder_tick`` jobs,
one every ``SHUYUAN_REMINDER_INTERVAL`` seconds (default 60), each sending what is due and re-enqueuing
the next; only the chain holding the current token survives, so calling it often (every saved
reminder) never starts two. Saving a reminder also enqueues ``send_due_reminders`` for its send time.
A backend that cannot defer (the immediate backend of the tests) has no chain: run
``manage.py send_reminders`` from cron instead.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from cms.jobs import can_defer

from .models import ReminderSchedule

CHAIN = "reminders"


def _interval() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "SHUYUAN_REMINDER_INTERVAL", 60)))


def ensure_reminder_schedule() -> None:
    """Start the reminder chain unless a live one exists."""
    if not can_defer(reminder_tick):
        return
    now = timezone.now()
    interval = _interval()
    row = ReminderSchedule.objects.filter(name=CHAIN).first()
    if row is not None and row.expires_at > now - 3 * interval:
        return
    token = uuid.uuid4().hex
    ReminderSchedule.objects.update_or_create(name=CHAIN, defaults={"token": token, "expires_at": now + interval})
    reminder_tick.using(run_after=now + interval).enqueue(token)


@task()
def reminder_tick(token: str) -> dict:
    row = ReminderSchedule.objects.filter(name=CHAIN).first()
    if row is None or row.token != token:
        return {"status": "superseded"}
    try:
        result = run_due()
    finally:
        now = timezone.now()
        interval = _interval()
        ReminderSchedule.objects.filter(name=CHAIN, token=token).update(expires_at=now + interval)
        if can_defer(reminder_tick):
            reminder_tick.using(run_after=now + interval).enqueue(token)
    return result


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
