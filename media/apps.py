from django.apps import AppConfig


class MediaConfig(AppConfig):
    """Images, documents, upload validation and text extraction."""

    name = "media"
    label = "media"
    verbose_name = "媒体"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import validation

        validation.install_pillow_limits()
