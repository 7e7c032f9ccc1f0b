"""Wagtail admin search that understands Chinese words.

Wagtail 8 searches the admin through ``modelsearch``'s database backend.  On
SQLite (FTS5, ``unicode61`` tokenizer) and PostgreSQL (``simple`` config) a
run of Chinese characters is one token, so "党建" never finds "党建工作通知".
This backend keeps modelsearch's storage and ranking and only changes the
text: index entries and queries are normalised (traditional -> simplified) and
segmented with the same analyzer as the site search, words separated by spaces.

    WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "search.admin_backend"}}

After switching to it, run ``manage.py update_index`` once to re-segment
existing entries.  Supported: SQLite with FTS5 (the default database) and
PostgreSQL.  On other databases it falls back to modelsearch's backend
unchanged.

SQLite stores the plain text of an entry, so its index rewrites the stored
title/body/autocomplete after modelsearch has written them.  PostgreSQL stores
weighted tsvectors that cannot be re-split afterwards, so its index segments
each text just before modelsearch turns it into a tsvector
(``ObjectIndexer.as_vector``); the plain ``title_text``/``body_text`` columns
used by fuzzy search stay as written.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import connection
from django.utils.encoding import force_str
from modelsearch.backends.database import SearchBackend as database_backend
from modelsearch.query import And, Boost, Not, Or, Phrase, PlainText

logger = logging.getLogger("shuyuan.search")


def segment(text: str | None) -> str:
    """Search-mode words of ``text`` joined by spaces (what FTS tokenizers can split)."""
    if not text:
        return text or ""
    from search.dictionary import current_analyzer

    return " ".join(current_analyzer().tokens(text))


def _segment_query(query: Any) -> Any:
    """``query`` with its text segmented, through the combinations the admin's query parser builds
    (``党建 "工作要点"`` is ``And([PlainText, Phrase])``)."""
    if isinstance(query, str):
        return segment(query)
    if isinstance(query, PlainText):
        return PlainText(segment(query.query_string), operator=query.operator, boost=query.boost)
    if isinstance(query, Phrase):
        return Phrase(segment(query.query_string))
    if isinstance(query, (And, Or)):
        return type(query)([_segment_query(q) for q in query.subqueries])
    if isinstance(query, Not):
        return Not(_segment_query(query.subquery))
    if isinstance(query, Boost):
        return Boost(_segment_query(query.subquery), query.boost)
    return query


class SegmentingQueries:
    """Backend mixin: queries are segmented like the index entries."""

    def search(self, query, model_or_queryset, *args, **kwargs):
        return super().search(_segment_query(query), model_or_queryset, *args, **kwargs)

    def autocomplete(self, query, model_or_queryset, *args, **kwargs):
        return super().autocomplete(_segment_query(query), model_or_queryset, *args, **kwargs)


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

    class SegmentingSQLiteSearchBackend(SegmentingQueries, SQLiteSearchBackend):
        index_class = SegmentingSQLiteIndex

    return SegmentingSQLiteSearchBackend(params)


def _postgres_backend(params: dict[str, Any]):
    from modelsearch.backends.database.postgres.postgres import (
        IndexEntry,
        ObjectIndexer,
        PostgresIndex,
        PostgresSearchBackend,
    )
    from modelsearch.utils import get_content_type_pk

    class SegmentingObjectIndexer(ObjectIndexer):
        def as_vector(self, texts, for_autocomplete=False):
            return super().as_vector([(segment(text), weight) for text, weight in texts], for_autocomplete)

    class SegmentingPostgresIndex(PostgresIndex):
        # modelsearch's add_items builds its module-level ObjectIndexer directly, so this is that
        # method with the indexer swapped: the same upsert into the same columns (title_norm reset
        # to 1.0 and then refreshed, as modelsearch does), through the ORM instead of raw SQL.
        def add_items(self, model, objs):
            if not model.get_search_fields():
                return
            indexers = [SegmentingObjectIndexer(obj, self.backend) for obj in objs]
            if not indexers:
                return
            content_type_pk = get_content_type_pk(model)
            entries = [
                IndexEntry(
                    content_type_id=content_type_pk,
                    object_id=indexer.id,
                    title=indexer.title,
                    autocomplete=indexer.autocomplete,
                    body=indexer.body,
                    title_norm=1.0,
                    title_text=indexer.title_text,
                    body_text=indexer.body_text,
                )
                for indexer in indexers
            ]
            IndexEntry._default_manager.using(self.write_connection.alias).bulk_create(
                entries,
                update_conflicts=True,
                unique_fields=["content_type", "object_id"],
                update_fields=["title", "title_norm", "autocomplete", "body", "title_text", "body_text"],
            )
            self._refresh_title_norms()

    class SegmentingPostgresSearchBackend(SegmentingQueries, PostgresSearchBackend):
        index_class = SegmentingPostgresIndex

    return SegmentingPostgresSearchBackend(params)


def SearchBackend(params: dict[str, Any]):  # noqa: N802 - modelsearch's factory convention
    backend = database_backend(params)
    if connection.vendor == "sqlite" and type(backend).__name__ == "SQLiteSearchBackend":
        return _sqlite_backend(params)
    if connection.vendor == "postgresql" and type(backend).__name__ == "PostgresSearchBackend":
        return _postgres_backend(params)
    logger.info("search.admin_backend: no Chinese segmentation for %s; using %s", connection.vendor, type(backend).__name__)
    return backend
