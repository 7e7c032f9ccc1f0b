from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "search"
    label = "search"
    verbose_name = _("站内搜索")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from search import checks, signals  # noqa: F401  (register checks and receivers)

        signals.connect_model_signals()
