"""The search engines declared in ``settings.SHUYUAN_SEARCH``, built by :mod:`cms.backends`.

    SHUYUAN_SEARCH = {"default": {"BACKEND": "search.backends.embedded", "OPTIONS": {"PATH": ...},
                                  "RERANK": {"BACKEND": "search.semantic.E5Reranker", "OPTIONS": {...}}}}

BACKEND is a module ending with ``SearchBackend = ...`` or a class path.  RERANK (optional; None or
absent: words only) wraps the engine in :class:`search.backends.reranked.RerankedSearchBackend`.
Engines are built once per process, lazily, and dropped when the setting changes (tests).
Configuration errors raise ImproperlyConfigured naming the setting; ``search.checks`` surfaces them
at start-up.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from cms.backends import backend_entry, build_backend, label_for, load_backend
from search.backends.base import BaseSearchBackend

SETTING = "SHUYUAN_SEARCH"


def search_aliases() -> list[str]:
    """The declared engines' aliases ("default" among them)."""
    config = getattr(settings, SETTING, None)
    if not isinstance(config, dict) or "default" not in config:
        raise ImproperlyConfigured(f'{SETTING} must be a dict with a "default" entry.')
    return list(config)


def build_search_backend(alias: str = "default") -> BaseSearchBackend:
    """A new engine for ``alias``, wrapped by its re-ranker when it has one (not cached)."""
    search_aliases()
    entry = backend_entry(SETTING, alias)
    label = label_for(SETTING, alias)
    engine = build_backend(
        entry, BaseSearchBackend, label, kind="search engine", module_attr="SearchBackend", extra_keys=("RERANK",)
    )
    reranker = build_reranker(alias, entry.get("RERANK"))
    if reranker is None:
        return engine
    from search.backends.reranked import RerankedSearchBackend

    try:
        return RerankedSearchBackend(engine, reranker)
    except ValueError as exc:
        raise ImproperlyConfigured(f'{label}["RERANK"]: {exc}') from exc


def build_reranker(alias: str, entry: Any):  # -> search.semantic.Reranker | None
    """The re-ranking stage declared in ``SHUYUAN_SEARCH[alias]["RERANK"]`` (None: words only)."""
    if not entry:
        return None
    from search.semantic import Reranker

    return build_backend(entry, Reranker, label_for(SETTING, alias, "RERANK"), kind="re-ranker")


def get_search_backend(alias: str = "default") -> BaseSearchBackend:
    """The engine for ``alias``, built once per process, with the editors' dictionary loaded."""
    backend = load_backend(SETTING, alias, build=lambda: build_search_backend(alias))
    from search.dictionary import current_analyzer

    analyzer = current_analyzer()
    if backend._analyzer is not analyzer:
        backend.set_analyzer(analyzer)
    return backend


def reset_search_backends() -> None:
    from cms.backends import reset_backends

    reset_backends(SETTING)
