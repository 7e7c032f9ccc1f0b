"""The periodic-job chain (cms.jobs.Chain) the audit prune, the link check and the reminders share."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks import default_task_backend

from members.models import ReminderSchedule
from members.tasks import CHAIN, ensure_reminder_schedule, reminder_tick

DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


@pytest.fixture
def deferring(settings):
    settings.TASKS = DUMMY
    default_task_backend.clear()
    yield default_task_backend
    default_task_backend.clear()


def enqueued(backend, task):
    return [r for r in backend.results if r.task.name == task.name]


def test_without_a_deferring_backend_no_chain_starts(db):
    ensure_reminder_schedule()
    assert not ReminderSchedule.objects.exists()


def test_ensure_starts_one_chain_however_often_it_is_called(db, deferring):
    ensure_reminder_schedule()
    ensure_reminder_schedule()
    assert ReminderSchedule.objects.count() == 1
    jobs = enqueued(deferring, reminder_tick)
    assert len(jobs) == 1
    assert jobs[0].args == [ReminderSchedule.objects.get().token]
    assert jobs[0].task.run_after > timezone.now()


def test_a_dead_chain_is_replaced(db, deferring):
    ReminderSchedule.objects.create(name=CHAIN.name, token="dead", expires_at=timezone.now() - timedelta(hours=1))
    ensure_reminder_schedule()
    row = ReminderSchedule.objects.get()
    assert row.token != "dead"
    assert [j.args for j in enqueued(deferring, reminder_tick)] == [[row.token]]


def test_a_tick_of_the_live_chain_works_renews_and_enqueues_the_next(db, deferring):
    ReminderSchedule.objects.create(name=CHAIN.name, token="live", expires_at=timezone.now())
    assert reminder_tick.call("live")["status"] == "ok"
    assert ReminderSchedule.objects.get().expires_at > timezone.now()
    assert [j.args for j in enqueued(deferring, reminder_tick)] == [["live"]]


def test_a_superseded_tick_stops_without_a_successor(db, deferring):
    ReminderSchedule.objects.create(name=CHAIN.name, token="live", expires_at=timezone.now())
    assert reminder_tick.call("old") == {"status": "superseded"}
    assert enqueued(deferring, reminder_tick) == []
