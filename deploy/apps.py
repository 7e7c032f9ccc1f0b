from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeployConfig(AppConfig):
    name = "deploy"
    label = "deploy"
    verbose_name = _("静态发布")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import system_checks, tasks  # noqa: F401 - registers the checks

        tasks.register()  # the "publish" consumer of the change feed (cms.changes)
