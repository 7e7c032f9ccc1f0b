from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """数据看板: charts of the site's figures on the admin home, and the 红色云图 link checker."""

    name = "cms.dashboard"
    label = "dashboard"
    verbose_name = "数据看板"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import checks  # noqa: F401  (registers the settings check)
