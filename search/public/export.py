"""Export the public search bundle (run inside the CMS; the only module here that needs Django).

What goes in is decided twice, like a publish: the documents are chosen by the one visibility
rule (``cms.visibility``'s public condition and each document's audience from ``search.documents``,
which also leaves out attachments more restricted than the page), then checked against the
publisher's independent recomputation (``deploy.checks.independently_public_ids``: page table, view
restrictions, secrecy-review records). A document the second does not call public stops the export
with :class:`PublicExportError` before anything is switched: members-only, 内部, secrecy-held pages,
drafts, expired or unpublished pages never reach the bundle.

The bundle's layout and writing are in :mod:`search.public.bundle` (no Django).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from search.backends.base import SearchDocument

from .bundle import ranking_options, write_release

logger = logging.getLogger("shuyuan.search")

DEFAULT_KEEP = 2


class PublicExportError(Exception):
    """The export would have put a non-public document in the public index; nothing was switched."""


@dataclass
class ExportResult:
    path: Path
    release: str
    documents: int
    seconds: float
    archive: Path | None = None


def public_documents() -> Iterator[SearchDocument]:
    """The search documents of every public page, by the visibility rule."""
    from cms import visibility
    from search.documents import indexed_models, page_to_document

    rule = visibility.Rule()
    for model in indexed_models():
        ids = list(model.objects.live().filter(rule.public()).values_list("pk", flat=True).order_by("pk"))
        for start in range(0, len(ids), 200):
            for page in model.objects.filter(pk__in=ids[start : start + 200]).select_related("locale"):
                # the rule's one query said public: no per-page audience_of (two thirds of the time);
                # the publisher's check (``checked``) still confirms every page independently
                doc = page_to_document(page, audience=visibility.Audience.PUBLIC.value)
                if doc is not None:
                    yield doc


def checked(docs: Iterator[SearchDocument], public_ids: set[int]) -> Iterator[SearchDocument]:
    """``docs``, refusing any whose page the publisher's own check does not call public."""
    from search.documents import page_id_of

    for doc in docs:
        page_id = page_id_of(doc.id)
        if doc.audience != "public" or page_id is None or page_id not in public_ids:
            raise PublicExportError(f"{doc.id} is not public by the publisher's secrecy check; the export was stopped.")
        yield doc


def choices() -> dict[str, Any]:
    """What the service's parameters may name (the CMS API's choices, from settings and models)."""
    from cms.api.params import kinds, locale_codes, province_names

    return {"locales": list(locale_codes()), "kinds": list(kinds()), "provinces": province_names()}


def engine_ranking() -> dict[str, Any]:
    """The ranking options of the CMS's engine, so the public index ranks as the CMS's does."""
    from django.conf import settings

    entry = (getattr(settings, "SHUYUAN_SEARCH", None) or {}).get("default") or {}
    return ranking_options(dict(entry.get("OPTIONS") or {}))


def export_public_search(
    dest: str | os.PathLike[str],
    *,
    keep: int = DEFAULT_KEEP,
    archive: str | os.PathLike[str] | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    elasticsearch: dict[str, Any] | None = None,
) -> ExportResult:
    """Write a new release of the public search bundle into ``dest`` and make it the live one.

    ``elasticsearch`` (default: ``settings.SHUYUAN_PUBLIC_SEARCH_ELASTICSEARCH``, e.g. ``{"URL": ...,
    "INDEX": "shuyuan-public"}``): put the documents on that cluster's alias instead of into the folder.
    """
    from django.conf import settings

    from deploy.checks import independently_public_ids
    from search.dictionary import current_analyzer

    started = time.monotonic()
    began = dt.datetime.now(dt.UTC)
    written = write_release(
        dest,
        checked(public_documents(), independently_public_ids()),
        analyzer=current_analyzer(),
        ranking=engine_ranking(),
        choices=choices(),
        keep=keep,
        archive=archive,
        progress=progress,
        started=began,
        elasticsearch=elasticsearch if elasticsearch is not None else getattr(settings, "SHUYUAN_PUBLIC_SEARCH_ELASTICSEARCH", None),
    )
    seconds = time.monotonic() - started
    logger.info("public search exported: %s documents in %.1f s to %s", written.documents, seconds, written.path)
    return ExportResult(path=written.path, release=written.release, documents=written.documents, seconds=seconds, archive=written.archive)
