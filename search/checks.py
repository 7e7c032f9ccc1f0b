"""Start-up validation of the search settings (``manage.py check`` and every server start).

Each declared backend is built (building one opens nothing), so a bad BACKEND or OPTIONS stops
start-up with the message of :mod:`cms.backends`, which names the setting.
"""

from __future__ import annotations

from django.core import checks
from django.core.exceptions import ImproperlyConfigured


@checks.register()
def check_search_backends(app_configs=None, **kwargs):
    from search.loader import build_search_backend, search_aliases

    errors = []
    try:
        aliases = search_aliases()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="search.E001")]
    for alias in aliases:
        try:
            build_search_backend(alias)
        except ImproperlyConfigured as exc:
            errors.append(checks.Error(str(exc), hint="Fix SHUYUAN_SEARCH in settings.", id="search.E002"))
    return errors


@checks.register()
def check_text_extractors(app_configs=None, **kwargs):
    from media.extractors.loader import build_text_extractor, extractor_aliases

    errors = []
    try:
        aliases = extractor_aliases()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="search.E003")]
    for alias in aliases:
        try:
            build_text_extractor(alias)
        except ImproperlyConfigured as exc:
            errors.append(checks.Error(str(exc), hint="Fix SHUYUAN_TEXT_EXTRACTORS in settings.", id="search.E003"))
    return errors


@checks.register()
def check_page_models_declare_search(app_configs=None, **kwargs):
    """Every page type says whether search indexes it, under a kind code of its own (cms.models.search)."""
    from search.documents import declaration_errors

    return [checks.Error(problem, hint="See cms.models.search.", id="search.E004") for problem in declaration_errors()]
