"""Start-up check: ``SHUYUAN_STUDY_RECORDS_DAYS`` is a whole number of days ≥ 1."""

from django.core import checks
from django.core.exceptions import ImproperlyConfigured


@checks.register()
def check_retention(app_configs=None, **kwargs):
    from .services import retention_days

    try:
        retention_days()
    except ImproperlyConfigured as exc:
        return [
            checks.Error(
                str(exc),
                hint="Set SHUYUAN_STUDY_RECORDS_DAYS to how many days study records are kept (default 730).",
                id="study_records.E001",
            )
        ]
    return []
