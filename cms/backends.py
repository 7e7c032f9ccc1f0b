"""One way to declare a backend: ``{"BACKEND": "dotted.path", "OPTIONS": {...}}``.

Search engines (``SHUYUAN_SEARCH``), the semantic re-ranker (``SHUYUAN_SEARCH[alias]["RERANK"]``),
text extractors (``SHUYUAN_TEXT_EXTRACTORS``) and the publish target (``SHUYUAN_PUBLISH_TARGET``) are
all declared this way and built here, as Wagtail's frontend-cache backends are.

* ``BACKEND`` names a class, or (for kinds that say so, such as search engines) a module ending with
  an alias like ``SearchBackend = EmbeddedSearchBackend``.
* ``OPTIONS`` is handed to the class, which checks its own options in ``__init__`` and raises
  ``ValueError`` (or ``TypeError``/``KeyError``) for a bad one.
* A missing setting, a missing or unimportable BACKEND, a class of the wrong kind and a refused OPTIONS
  all become ``ImproperlyConfigured`` naming the setting (``SHUYUAN_SEARCH["default"]: ...``); the
  apps' system checks build every declared backend, so such an error stops start-up.

:func:`load_backend` builds a backend once per process (thread-safe) and forgets it when its setting
changes (``override_settings`` in tests). Building a backend opens nothing: no connection, no file.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Hashable, Mapping
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

T = TypeVar("T")

#: The errors a backend's ``__init__`` raises for options it refuses.
OPTION_ERRORS = (ValueError, TypeError, KeyError, ImproperlyConfigured)

_cache: dict[tuple[str, Hashable], Any] = {}
_lock = threading.RLock()


def label_for(setting: str, alias: str | None = None, *keys: str) -> str:
    """How messages name a declaration: ``SHUYUAN_SEARCH["default"]["RERANK"]``."""
    return setting + "".join(f'["{k}"]' for k in ((alias,) if alias is not None else ()) + keys)


def backend_entry(setting: str, alias: str | None = None) -> Any:
    """The declaration ``settings.<setting>[alias]`` (the setting itself when ``alias`` is None)."""
    config = getattr(settings, setting, None)
    if config is None:
        raise ImproperlyConfigured(f'{setting} is not set: declare it as {{"BACKEND": "dotted.path", "OPTIONS": {{...}}}}.')
    if alias is None:
        return config
    if not isinstance(config, Mapping):
        raise ImproperlyConfigured(f'{setting} must be a dict of aliases, each {{"BACKEND": ..., "OPTIONS": {{...}}}}.')
    if alias not in config:
        raise ImproperlyConfigured(f'{setting} has no "{alias}" entry.')
    return config[alias]


def backend_class(path: Any, base_class: type[T], label: str, *, kind: str, module_attr: str | None = None) -> type[T]:
    """The class ``path`` names, checked to be a ``base_class``."""
    if not isinstance(path, str) or not path:
        raise ImproperlyConfigured(f"{label} needs a BACKEND (a dotted path to a {kind} class).")
    # "search.backends.embedded" names a module ending with ``SearchBackend = ...``;
    # "pkg.module.SomeClass" names the class itself.
    target = path if module_attr is None or path.rsplit(".", 1)[-1][:1].isupper() else f"{path}.{module_attr}"
    try:
        cls = import_string(target)
    except ImportError as exc:
        raise ImproperlyConfigured(f"{label}: BACKEND {path!r} cannot be imported: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, base_class)):
        raise ImproperlyConfigured(
            f"{label}: BACKEND {path!r} is not a {kind} (a {base_class.__module__}.{base_class.__qualname__} subclass)."
        )
    return cls


def build_backend(
    entry: Any,
    base_class: type[T],
    label: str,
    *,
    kind: str,
    module_attr: str | None = None,
    factory: Callable[[type[T], dict[str, Any]], T] | None = None,
    extra_keys: Collection[str] = (),
) -> T:
    """A new backend from one declaration (not cached).

    ``factory(cls, options)`` builds it (default: ``cls(options)``); ``extra_keys`` are keys besides
    BACKEND and OPTIONS that the caller reads itself (``RERANK`` beside a search engine)."""
    if not isinstance(entry, Mapping):
        raise ImproperlyConfigured(f'{label} must be a dict: {{"BACKEND": "dotted.path", "OPTIONS": {{...}}}}.')
    unknown = set(entry) - {"BACKEND", "OPTIONS", *extra_keys}
    if unknown:
        raise ImproperlyConfigured(f"{label} has unknown keys {sorted(unknown)} (expected BACKEND and OPTIONS).")
    cls = backend_class(entry.get("BACKEND"), base_class, label, kind=kind, module_attr=module_attr)
    options = entry.get("OPTIONS")
    if options is None:
        options = {}
    if not isinstance(options, Mapping):
        raise ImproperlyConfigured(f"{label}: OPTIONS must be a dict, not {type(options).__name__}.")
    try:
        return factory(cls, dict(options)) if factory is not None else cls(dict(options))
    except OPTION_ERRORS as exc:
        raise ImproperlyConfigured(f'{label} ({entry["BACKEND"]}): {exc}') from exc


def load_backend(setting: str, alias: str | None = None, build: Callable[[], T] | None = None, **kwargs: Any) -> T:
    """The backend declared in ``settings.<setting>[alias]``, built once per process.

    ``build`` makes it (for composite backends, such as an engine wrapped by its re-ranker); without
    it the declaration is built by :func:`build_backend` with ``kwargs`` (``base_class``, ``kind``...).
    Dropped when ``setting`` changes."""
    key = (setting, alias)
    try:
        return _cache[key]
    except KeyError:
        pass
    with _lock:
        if key not in _cache:
            if build is None:
                _cache[key] = build_backend(backend_entry(setting, alias), label=label_for(setting, alias), **kwargs)
            else:
                _cache[key] = build()
        return _cache[key]


def reset_backends(setting: str | None = None) -> None:
    """Forget the built backends (of one setting, or all)."""
    with _lock:
        for key in [k for k in _cache if setting is None or k[0] == setting]:
            del _cache[key]


@receiver(setting_changed)
def _on_setting_changed(setting: str, **kwargs: Any) -> None:
    reset_backends(setting)
