from django.apps import AppConfig


class CmsConfig(AppConfig):
    """Page models, blocks, snippets, the visibility rule and the API router."""

    name = "cms"
    label = "cms"
    verbose_name = "内容"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects receivers; no queries at import time)
