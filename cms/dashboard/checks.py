"""Start-up check of the link checker's settings (``manage.py check``, ``migrate``, the worker)."""

from django.core import checks
from django.core.exceptions import ImproperlyConfigured


@checks.register(checks.Tags.compatibility)
def check_link_check_settings(app_configs=None, **kwargs):
    from .conf import link_check_settings

    try:
        link_check_settings()
    except ImproperlyConfigured as e:
        return [checks.Error(str(e), id="shuyuan.E300")]
    return []
