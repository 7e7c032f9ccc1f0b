"""Start-up checks for the publisher's configuration."""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


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
    from .conf import publish_setting

    base = publish_setting("BASE_URL")
    if base and not base.startswith(("http://", "https://")):
        errors.append(checks.Error("SHUYUAN_PUBLISH['BASE_URL'] must be an absolute http(s) URL.", id="deploy.E001"))
    from .conf import validate

    try:
        validate()  # the lease and the bounds on a slow target
    except ImproperlyConfigured as exc:
        errors.append(checks.Error(str(exc), id="deploy.E004"))
    return errors


@checks.register()
def check_publish_target(app_configs=None, **kwargs):
    """SHUYUAN_PUBLISH_TARGET names an adapter that can drive its storage (building one opens nothing)."""
    from .targets import build_target

    try:
        build_target()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), hint="Fix SHUYUAN_PUBLISH_TARGET (or its storage in STORAGES).", id="deploy.E002")]
    return []


@checks.register()
def check_frontend_cache_backends(app_configs=None, **kwargs):
    """Every WAGTAILFRONTENDCACHE backend builds: its options are checked at start-up (building one opens nothing)."""
    from wagtail.contrib.frontend_cache.utils import get_backends

    try:
        get_backends()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), hint="Fix WAGTAILFRONTENDCACHE (or its CDN_* variables).", id="deploy.E003")]
    return []


@checks.register()
def check_release_settings(app_configs=None, **kwargs):
    """SHUYUAN_RELEASES_KEEP, and an archive storage that is private (apart from the published site)."""
    from .releases import check_settings

    return [
        checks.Error(problem, hint="Fix SHUYUAN_RELEASES_STORAGE / SHUYUAN_RELEASES_KEEP.", id="deploy.E010")
        for problem in check_settings()
    ]
