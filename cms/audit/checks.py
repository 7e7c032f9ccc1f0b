"""Start-up checks: the audit log must be kept long enough (等保 level 3: 180 days)."""

from django.core.checks import Error, Tags, register

from .conf import MIN_RETENTION_DAYS


@register(Tags.security, deploy=False)
def check_retention(app_configs=None, **kwargs):
    from django.conf import settings

    value = getattr(settings, "SHUYUAN_AUDIT_RETENTION_DAYS", MIN_RETENTION_DAYS)
    try:
        days = int(value)
    except (TypeError, ValueError):
        days = None
    if days is None or days < MIN_RETENTION_DAYS:
        return [
            Error(
                f"SHUYUAN_AUDIT_RETENTION_DAYS={value!r}: 审计日志至少保留 {MIN_RETENTION_DAYS} 天（等保三级）。",
                hint=f"把 SHUYUAN_AUDIT_RETENTION_DAYS 设为不小于 {MIN_RETENTION_DAYS} 的整数。",
                id="audit.E001",
            )
        ]
    return []
