from django.apps import AppConfig


class SiteThemeConfig(AppConfig):
    """Templates and front-end assets of the public site and the members' pages."""

    name = "site_theme"
    label = "site_theme"
    verbose_name = "站点主题"
