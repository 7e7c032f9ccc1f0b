"""Start-up validation of the search settings (``manage.py check`` and every server start)."""

from __future__ import annotations

from django.core import checks
from django.core.exceptions import ImproperlyConfigured


@checks.register()
def check_search_backends(app_configs=None, **kwargs):
    from search.loader import build_search_backend, search_config

    errors = []
    try:
        aliases = list(search_config())
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="search.E001")]
    for alias in aliases:
        try:
            build_search_backend(alias)  # constructing an engine opens nothing
        except ImproperlyConfigured as exc:
            errors.append(checks.Error(str(exc), hint="Fix SHUYUAN_SEARCH in settings.", id="search.E002"))
    return errors


@checks.register()
def check_text_extractors(app_configs=None, **kwargs):
    from django.conf import settings

    from media.extractors.loader import build_text_extractor

    errors = []
    for alias in getattr(settings, "SHUYUAN_TEXT_EXTRACTORS", {}) or {}:
        try:
            build_text_extractor(alias)
        except ImproperlyConfigured as exc:
            errors.append(checks.Error(str(exc), id="search.E003"))
    return errors
