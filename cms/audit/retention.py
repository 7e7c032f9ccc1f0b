"""Retention: the audit log is kept ``SHUYUAN_AUDIT_RETENTION_DAYS`` (at least 180) and no longer.

``prune`` is the only code that deletes audit events; it also removes Wagtail's log entries
(publish, workflow, edits) older than the same cutoff, so the whole audit trail has one retention.
The system check ``audit.E001`` refuses to start with a retention under 180 days.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from .conf import MIN_RETENTION_DAYS, retention_days
from .models import AuditEvent
from .reading import wagtail_log_models


def cutoff(now: datetime | None = None) -> datetime:
    days = retention_days()
    if days < MIN_RETENTION_DAYS:  # the system check stops start-up; this stops a direct call
        raise ValueError(f"SHUYUAN_AUDIT_RETENTION_DAYS={days} 小于 {MIN_RETENTION_DAYS}")
    return (now or timezone.now()) - timedelta(days=days)


@transaction.atomic
def prune(now: datetime | None = None) -> dict[str, int]:
    """Delete audit events and Wagtail log entries older than the retention; return counts by model."""
    limit = cutoff(now)
    deleted = {"audit.AuditEvent": AuditEvent.objects.older_than(limit).delete()[0]}
    for model in wagtail_log_models():
        deleted[model._meta.label] = model.objects.filter(timestamp__lt=limit).delete()[0]
    return deleted
