"""Start-up check: every ``SHUYUAN_NOTIFY`` backend builds (building one opens no connection)."""

from django.core import checks
from django.core.exceptions import ImproperlyConfigured


@checks.register()
def check_notify_backends(app_configs=None, **kwargs):
    from .notify import validate

    try:
        validate()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), hint="Fix SHUYUAN_NOTIFY (see README: Reminders and notifications).", id="members.E001")]
    return []
