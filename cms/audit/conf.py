"""The audit app's settings, read in one place."""

from django.conf import settings

MIN_RETENTION_DAYS = 180


def retention_days() -> int:
    return int(getattr(settings, "SHUYUAN_AUDIT_RETENTION_DAYS", MIN_RETENTION_DAYS))


def superusers_may_read() -> bool:
    return bool(getattr(settings, "SHUYUAN_AUDIT_SUPERUSERS_MAY_READ", False))
