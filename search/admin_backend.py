"""Wagtail admin search that understands Chinese words.

Wagtail 8 searches the admin through ``modelsearch``'s database backend.  On
SQLite (FTS5, ``unicode61`` tokenizer) and PostgreSQL (``simple`` config) a
run of Chinese characters is one token, so "党建" never finds "党建工作通知".
This backend keeps modelsearch's storage and ranking and only changes the
text: index entries and queries are normalised (traditional -> simplified) and
segmented with the same analyzer as the site search, words separated by spaces.

    WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "search.admin_backend"}}

After switching to it, run ``manage.py update_index`` once to re-segment
existing entries.  Supported: SQLite with FTS5 (the default database).  On
other databases it falls back to modelsearch's backend unchanged.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import connection
from django.utils.encoding import force_str
from modelsearch.backends.database import SearchBackend as database_backend
from modelsearch.query import PlainText

logger = logging.getLogger("shuyuan.search")


def segment(text: str | None) -> str:
    """Search-mode words of ``text`` joined by spaces (what FTS tokenizers can split)."""
    if not text:
        return text or ""
    from search.dictionary import current_analyzer

    return " ".join(current_analyzer().tokens(text))


def _segment_query(query: Any) -> Any:
    if isinstance(query, str):
        return segment(query)
    if isinstance(query, PlainText):
        return PlainText(segment(query.query_string), operator=query.operator, boost=query.boost)
    return query


def _sqlite_backend(params: dict[str, Any]):
    from modelsearch.backends.database.sqlite.sqlite import SQLiteIndex, SQLiteSearchBackend
    from modelsearch.utils import get_content_type_pk

    class SegmentingSQLiteIndex(SQLiteIndex):
        def add_items(self, model, objs):
            objs = list(objs)
            super().add_items(model, objs)
            entries = list(
                self.entries.filter(
                    content_type_id=get_content_type_pk(model), object_id__in=[force_str(o.pk) for o in objs]
                )
            )
            for entry in entries:
                entry.title = segment(entry.title)
                entry.body = segment(entry.body)
                entry.autocomplete = segment(entry.autocomplete)
            # the FTS table follows through modelsearch's update trigger
            self.entries.bulk_update(entries, ["title", "body", "autocomplete"], batch_size=200)

    class SegmentingSQLiteSearchBackend(SQLiteSearchBackend):
        index_class = SegmentingSQLiteIndex

        def search(self, query, model_or_queryset, *args, **kwargs):
            return super().search(_segment_query(query), model_or_queryset, *args, **kwargs)

        def autocomplete(self, query, model_or_queryset, *args, **kwargs):
            return super().autocomplete(_segment_query(query), model_or_queryset, *args, **kwargs)

    return SegmentingSQLiteSearchBackend(params)


def SearchBackend(params: dict[str, Any]):  # noqa: N802 - modelsearch's factory convention
    backend = database_backend(params)
    if connection.vendor == "sqlite" and type(backend).__name__ == "SQLiteSearchBackend":
        return _sqlite_backend(params)
    logger.info("search.admin_backend: no Chinese segmentation for %s; using %s", connection.vendor, type(backend).__name__)
    return backend
