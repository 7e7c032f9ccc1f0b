"""The analyzer built from the editors' dictionary (search.DictionaryEntry) plus built-in words.

It is rebuilt when the dictionary changes: each process checks a cheap
version stamp (entry count + latest update) at most every few seconds.
"""

from __future__ import annotations

import threading
import time

from django.db import DatabaseError

from search.text import DEFAULT_CUSTOM_WORDS, Analyzer

CHECK_EVERY = 5.0  # seconds between version checks in one process

_state: dict[str, object] = {"analyzer": None, "version": None, "checked": 0.0}
_lock = threading.Lock()


def _version() -> tuple[int, str]:
    from django.db.models import Count, Max

    from search.models import DictionaryEntry

    agg = DictionaryEntry.objects.aggregate(n=Count("id"), latest=Max("updated_at"))
    return agg["n"], str(agg["latest"])


def fingerprint() -> str:
    """The dictionary's version stamp as text: it changes with every save or delete of an entry (the
    entry count or the latest ``updated_at``), which is what a rebuild waits out."""
    count, latest = _version()
    return f"{count}:{latest}"


def build_analyzer() -> Analyzer:
    from search.models import DictionaryEntry

    words = list(DEFAULT_CUSTOM_WORDS)
    synonyms = []
    for entry in DictionaryEntry.objects.filter(enabled=True):
        words.append(entry.word)
        syn = entry.synonym_list()
        if syn:
            synonyms.append([entry.word, *syn])
    return Analyzer(custom_words=words, synonyms=synonyms)


def current_analyzer() -> Analyzer:
    now = time.monotonic()
    analyzer = _state["analyzer"]
    if analyzer is not None and now - float(_state["checked"]) < CHECK_EVERY:
        return analyzer  # type: ignore[return-value]
    with _lock:
        try:
            version = _version()
        except DatabaseError:
            # no table yet (before migrate): built-in words only
            version = None
        if analyzer is None or version != _state["version"]:
            analyzer = build_analyzer() if version is not None else Analyzer()
            _state["analyzer"], _state["version"] = analyzer, version
        _state["checked"] = now
        return analyzer  # type: ignore[return-value]


def invalidate() -> None:
    with _lock:
        _state["checked"] = 0.0
        _state["version"] = object()
