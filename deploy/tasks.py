"""Background jobs (django-tasks): incremental publishing, full publishes, scheduled go-live/expiry.

The worker (``manage.py db_worker``) runs them. A publish that fails because the target or the CDN is
unreachable is retried with growing delays; the failure is recorded as a ``PublishRun`` that editors see
in the publish history and on the admin dashboard. The feed's cursor for the static site
(``deploy.pending``) moves only when a publish that covers the changes succeeds, so a retry never loses one.

Scheduled go-live and expiry need no cron job: ``schedule_tick`` runs Wagtail's ``publish_scheduled``
(whose publish/unpublish signals queue the changes), publishes (also when the last publish left CDN
purges undone, so a failed purge is retried within an interval, not at the next edit), and re-enqueues
itself for the next interval. Only one chain of ticks is alive: each carries a token, and a tick whose token is not the
current one stops.
"""

from __future__ import annotations

import io
import logging
import uuid
from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone
from django_tasks import task

from cms import changes
from cms.jobs import can_defer, retry_later

from . import pending
from .conf import publish_setting
from .models import PublishLock

logger = logging.getLogger("shuyuan.deploy")
TICK_LOCK = "schedule-tick"


def _retryable():
    from .service import LeaseLost, PublishBusy
    from .targets import TargetError

    return (TargetError, PublishBusy, LeaseLost, OSError)


def register() -> None:
    """Join the change feed as its ``publish`` consumer (``DeployConfig.ready``)."""
    changes.register(
        pending.CONSUMER, notify, events=pending.EVENTS, enabled=pending.enabled, remember=pending.remember
    )


def notify(rows) -> None:
    """After an editor's transaction committed: publish in the background if the site may have changed."""
    if any(pending.matters(row) for row in rows):
        enqueue_publish()


def enqueue_publish() -> None:
    """Called after an editor's transaction commits."""
    process_changes.enqueue(0)
    ensure_schedule()


@task()
def process_changes(attempt: int = 0) -> dict:
    """Publish whatever is pending (incrementally)."""
    from .service import publish

    if not pending.exists():
        return {"status": "nothing pending"}
    return _run_with_retry(lambda: publish(trigger="auto"), process_changes, attempt)


@task()
def publish_site_task(full: bool = True, user_id: int | None = None, attempt: int = 0) -> dict:
    """The admin's "publish the whole site" button."""
    from django.contrib.auth import get_user_model

    from .service import publish

    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    return _run_with_retry(
        lambda: publish(full=full, trigger="admin", user=user), publish_site_task, attempt, full, user_id
    )


def _run_with_retry(fn, t, attempt: int, *args) -> dict:
    try:
        result = fn()
    except _retryable() as e:
        delay = retry_later(t, attempt, *args, delays=publish_setting("RETRY_DELAYS"))
        if delay is not None:
            logger.warning("publish failed (%s); retrying in %ss", e, delay)
            return {"status": "retrying", "error": str(e), "retry_in": delay}
        logger.error("publish failed (%s); giving up after %d attempts", e, attempt + 1)
        raise
    return {"status": result.run.status, "run": result.run.pk, "uploaded": result.run.uploaded}


def ensure_schedule() -> None:
    """Start the chain of schedule ticks unless a live one exists (needs a backend that can defer)."""
    if not can_defer(schedule_tick):
        return
    interval = int(publish_setting("SCHEDULE_INTERVAL"))
    now = timezone.now()
    row = PublishLock.objects.filter(name=TICK_LOCK).first()
    if row is not None and row.expires_at > now - timedelta(seconds=3 * interval):
        return
    token = uuid.uuid4().hex
    PublishLock.objects.update_or_create(
        name=TICK_LOCK, defaults={"holder": token, "acquired_at": now, "expires_at": now + timedelta(seconds=interval)}
    )
    schedule_tick.using(run_after=now + timedelta(seconds=interval)).enqueue(token)


@task()
def schedule_tick(token: str) -> dict:
    row = PublishLock.objects.filter(name=TICK_LOCK).first()
    if row is None or row.holder != token:
        return {"status": "superseded"}
    interval = int(publish_setting("SCHEDULE_INTERVAL"))
    try:
        run_scheduled_publishing()
        if pending.exists() or purge_owed():
            from .service import PublishBusy, publish

            try:
                publish(trigger="schedule")
            except _retryable() as e:
                if not isinstance(e, PublishBusy):
                    logger.warning("scheduled publish failed: %s", e)
    finally:
        now = timezone.now()
        PublishLock.objects.filter(name=TICK_LOCK, holder=token).update(
            expires_at=now + timedelta(seconds=interval)
        )
        if can_defer(schedule_tick):
            schedule_tick.using(run_after=now + timedelta(seconds=interval)).enqueue(token)
    return {"status": "ok"}


def purge_owed() -> bool:
    """Did the last publish to the configured target leave CDN purges undone?

    A run that could not purge records ``purge_failed`` (and the target's manifest keeps the URLs); a
    run that starts with purges owed carries the flag until it has sent them. Asking the database keeps
    the tick from reading the manifest from the target every interval.
    """
    from .models import PublishRun
    from .service import configured_target

    target = configured_target()
    if target is None:
        return False
    last = (
        PublishRun.objects.filter(target=target.describe()[:500])
        .exclude(status__in=[PublishRun.Status.DRY_RUN, PublishRun.Status.RUNNING])
        .only("purge_failed")
        .first()
    )
    return bool(last and last.purge_failed)


def run_scheduled_publishing() -> None:
    """Wagtail's own go-live / expiry logic; its signals queue the affected pages."""
    call_command("publish_scheduled", stdout=io.StringIO())
    # a mourning greyscale (site_theme) that started or ended since it was last published: a full publish
    from site_theme.models import apply_mourning_schedule

    apply_mourning_schedule()
