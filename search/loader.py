"""Build the search engines named in ``settings.SHUYUAN_SEARCH``.

    SHUYUAN_SEARCH = {"default": {"BACKEND": "search.backends.embedded", "OPTIONS": {"PATH": ...},
                                  "RERANK": {"BACKEND": "search.semantic.E5Reranker", "OPTIONS": {...}}}}

BACKEND is a module ending with ``SearchBackend = ...`` or a class path.
Engines are built once per process, lazily (no side effects at import), and
dropped when the setting changes (tests).  Configuration errors raise
ImproperlyConfigured; ``search.checks`` surfaces them at start-up.
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from search.backends.base import BaseSearchBackend

_backends: dict[str, BaseSearchBackend] = {}
_lock = threading.Lock()


def search_config() -> dict[str, Any]:
    config = getattr(settings, "SHUYUAN_SEARCH", None)
    if not config:
        return {"default": {"BACKEND": "search.backends.embedded", "OPTIONS": {"IN_MEMORY": True}}}
    if not isinstance(config, dict) or "default" not in config:
        raise ImproperlyConfigured('SHUYUAN_SEARCH must be a dict with a "default" entry.')
    return config


def backend_class(path: str) -> type[BaseSearchBackend]:
    try:
        obj = import_string(path if path.rsplit(".", 1)[-1][:1].isupper() else f"{path}.SearchBackend")
    except ImportError as exc:
        raise ImproperlyConfigured(f"Search backend {path!r} cannot be imported: {exc}") from exc
    if not (isinstance(obj, type) and issubclass(obj, BaseSearchBackend)):
        raise ImproperlyConfigured(f"{path!r} is not a search backend (a BaseSearchBackend subclass).")
    return obj


def build_search_backend(alias: str = "default") -> BaseSearchBackend:
    """A new engine for ``alias`` (not cached)."""
    config = search_config()
    if alias not in config:
        raise ImproperlyConfigured(f"SHUYUAN_SEARCH has no {alias!r} entry.")
    entry = config[alias]
    path = entry.get("BACKEND") if isinstance(entry, dict) else None
    if not path:
        raise ImproperlyConfigured(f"SHUYUAN_SEARCH[{alias!r}] needs a BACKEND.")
    cls = backend_class(path)
    try:
        backend = cls(entry.get("OPTIONS") or {})
    except (ValueError, TypeError, KeyError) as exc:
        raise ImproperlyConfigured(f"SHUYUAN_SEARCH[{alias!r}] ({path}): {exc}") from exc
    backend.reranker = build_reranker(alias, entry.get("RERANK"))
    return backend


def build_reranker(alias: str, entry: Any):  # -> search.semantic.Reranker | None
    """The semantic re-ranking stage of ``SHUYUAN_SEARCH[alias]["RERANK"]`` (None: words only)."""
    if not entry:
        return None
    path = entry.get("BACKEND") if isinstance(entry, dict) else None
    if not path:
        raise ImproperlyConfigured(f'SHUYUAN_SEARCH[{alias!r}]["RERANK"] needs a BACKEND (or set RERANK to None).')
    from search.semantic import Reranker

    try:
        cls = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"Re-ranker {path!r} cannot be imported: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, Reranker)):
        raise ImproperlyConfigured(f"{path!r} is not a re-ranker (a search.semantic.Reranker subclass).")
    try:
        return cls(entry.get("OPTIONS") or {})
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f'SHUYUAN_SEARCH[{alias!r}]["RERANK"] ({path}): {exc}') from exc


def get_search_backend(alias: str = "default") -> BaseSearchBackend:
    """The engine for ``alias``, built once per process, with the editors' dictionary loaded."""
    backend = _backends.get(alias)
    if backend is None:
        with _lock:
            backend = _backends.get(alias)
            if backend is None:
                backend = build_search_backend(alias)
                _backends[alias] = backend
    from search.dictionary import current_analyzer

    analyzer = current_analyzer()
    if backend._analyzer is not analyzer:
        backend.set_analyzer(analyzer)
    return backend


def reset_search_backends() -> None:
    with _lock:
        _backends.clear()


@receiver(setting_changed)
def _on_setting_changed(setting: str, **kwargs: Any) -> None:
    if setting == "SHUYUAN_SEARCH":
        reset_search_backends()
