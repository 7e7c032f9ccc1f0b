from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "search"
    label = "search"
    verbose_name = _("站内搜索")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from search import checks, tasks  # noqa: F401  (checks register themselves)

        tasks.register()  # the "search" consumer of the change feed (cms.changes)
