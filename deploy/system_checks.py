"""Start-up checks for the publisher's configuration."""

from django.conf import settings
from django.core import checks


@checks.register()
def check_publish_settings(app_configs=None, **kwargs):
    errors = []
    if "wagtail.contrib.frontend_cache" in settings.INSTALLED_APPS and getattr(settings, "WAGTAILFRONTENDCACHE", None):
        errors.append(
            checks.Warning(
                "wagtail.contrib.frontend_cache is installed: it purges the CMS's page URLs as soon as a "
                "page is published, before the static copy is updated, so the CDN may cache the old "
                "copy again.",
                hint="Remove it from INSTALLED_APPS; deploy purges through its backends after uploading.",
                id="deploy.W001",
            )
        )
    base = getattr(settings, "SHUYUAN_PUBLISH", {}).get("BASE_URL", "")
    if base and not base.startswith(("http://", "https://")):
        errors.append(checks.Error("SHUYUAN_PUBLISH['BASE_URL'] must be an absolute http(s) URL.", id="deploy.E001"))
    return errors
