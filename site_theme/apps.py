from django.apps import AppConfig


class SiteThemeConfig(AppConfig):
    """Templates and front-end assets of the public site and the members' pages; the site's identity
    (footer) and mourning-day settings."""

    name = "site_theme"
    label = "site_theme"
    verbose_name = "站点主题"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import signals

        signals.connect()
