"""The text extractors declared in ``settings.SHUYUAN_TEXT_EXTRACTORS``, built by :mod:`cms.backends`.

    SHUYUAN_TEXT_EXTRACTORS = {"default": {"BACKEND": "media.extractors.default", "OPTIONS": {...}}}

BACKEND is a module ending with ``TextExtractor = ...`` or a class path.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from cms.backends import backend_entry, build_backend, label_for, load_backend
from media.extractors.base import BaseTextExtractor

SETTING = "SHUYUAN_TEXT_EXTRACTORS"
_KIND = {"base_class": BaseTextExtractor, "kind": "text extractor", "module_attr": "TextExtractor"}


def extractor_aliases() -> list[str]:
    config = getattr(settings, SETTING, None)
    if not isinstance(config, dict) or "default" not in config:
        raise ImproperlyConfigured(f'{SETTING} must be a dict with a "default" entry.')
    return list(config)


def build_text_extractor(alias: str = "default") -> BaseTextExtractor:
    """A new extractor for ``alias`` (not cached)."""
    return build_backend(backend_entry(SETTING, alias), label=label_for(SETTING, alias), **_KIND)


def get_text_extractor(alias: str = "default") -> BaseTextExtractor:
    """The configured extractor, built once per process (again after the setting changes)."""
    return load_backend(SETTING, alias, **_KIND)
