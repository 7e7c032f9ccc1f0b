"""Load text extractors named in ``settings.SHUYUAN_TEXT_EXTRACTORS``."""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from media.extractors.base import BaseTextExtractor


def build_text_extractor(alias: str) -> BaseTextExtractor:
    config = getattr(settings, "SHUYUAN_TEXT_EXTRACTORS", None) or {
        "default": {"BACKEND": "media.extractors.default", "OPTIONS": {}}
    }
    if alias not in config:
        raise ImproperlyConfigured(f"SHUYUAN_TEXT_EXTRACTORS has no {alias!r} entry.")
    entry = config[alias]
    path = entry.get("BACKEND")
    if not path:
        raise ImproperlyConfigured(f"SHUYUAN_TEXT_EXTRACTORS[{alias!r}] needs a BACKEND.")
    try:
        # "media.extractors.default" names a module ending with ``TextExtractor = ...``;
        # "pkg.module.SomeExtractor" names the class itself.
        cls = import_string(path if path.rsplit(".", 1)[-1][:1].isupper() else f"{path}.TextExtractor")
    except ImportError as exc:
        raise ImproperlyConfigured(f"SHUYUAN_TEXT_EXTRACTORS[{alias!r}]: cannot import {path!r}: {exc}") from exc
    try:
        return cls(entry.get("OPTIONS") or {})
    except (TypeError, ValueError) as exc:
        raise ImproperlyConfigured(f"SHUYUAN_TEXT_EXTRACTORS[{alias!r}]: {exc}") from exc


@cache
def get_text_extractor(alias: str = "default") -> BaseTextExtractor:
    """The configured extractor (built once per process)."""
    return build_text_extractor(alias)
