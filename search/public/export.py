"""Export the public search bundle (run inside the CMS; the only module here that needs Django).

What goes in is decided twice, like a publish: the documents are chosen by the one visibility
rule (``cms.visibility``'s public condition and each document's audience from ``search.documents``,
which also leaves out attachments more restricted than the page), then checked against the
publisher's independent recomputation (``deploy.checks.independently_public_ids``: page table, view
restrictions, secrecy-review records). A document the second does not call public stops the export
with :class:`PublicExportError` before anything is switched: members-only, 内部, secrecy-held pages,
drafts, expired or unpublished pages never reach the bundle.

Library documents of their own (``search.documents``' ``document:<pk>``) go in when their effective
audience is public *and* a public page uses them, so the static site, which publishes the files its
pages link to, has the file the hit leads to (a public file no page links to is not on the static site,
so it stays out); each is checked again against the publisher's own recomputation of
public files (``deploy.checks``: the editor's choice and the uses by independently public pages, the
secrecy records). A members-only, 内部, secrecy-held or draft-only file never reaches the bundle.

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
    """The search documents of every public page, then of every public library document a public page
    uses, by the visibility rule."""
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
    yield from public_file_documents(rule)


def public_file_documents(rule=None) -> Iterator[SearchDocument]:
    """The search documents of the public library documents of their own that a public page uses (the
    static site publishes those: a file no public page links to is not there for a hit to lead to)."""
    from wagtail.documents import get_document_model
    from wagtail.models import Page

    from cms import visibility
    from media.audience import public_files, used_by
    from search.documents import file_to_document, files_of_their_own

    rule = rule if rule is not None else visibility.Rule()
    model = get_document_model()
    files = files_of_their_own(public_files(model).filter(used_by(model, Page.objects.filter(rule.public()))))
    ids = list(files.values_list("pk", flat=True).order_by("pk"))
    for start in range(0, len(ids), 200):
        for document in model.objects.filter(pk__in=ids[start : start + 200]).order_by("pk"):
            doc = file_to_document(document, visibility.Audience.PUBLIC.value)
            if doc is not None:
                yield doc


def independently_public_files(public_ids: set[int]) -> set[int]:
    """The library documents the publisher's own check calls public (``deploy.checks``: worked out from
    the rows and the independently public pages, not through ``media.audience``)."""
    from wagtail.documents import get_document_model

    from deploy.checks import _independently_public_files

    model = get_document_model()
    return _independently_public_files(model, set(model.objects.values_list("pk", flat=True)), public_ids)


def checked(
    docs: Iterator[SearchDocument], public_ids: set[int], public_files: Callable[[], set[int]] | None = None
) -> Iterator[SearchDocument]:
    """``docs``, refusing any whose page (or library document) the publisher's own check does not call
    public. ``public_files``: the independently public documents, asked for at the first file."""
    from search.documents import file_pk_of, page_id_of

    files: set[int] | None = None
    for doc in docs:
        page_id, file_pk = page_id_of(doc.id), file_pk_of(doc.id)
        if file_pk is not None:
            if files is None:
                files = public_files() if public_files is not None else set()
            public = file_pk in files
        else:
            public = page_id is not None and page_id in public_ids
        if doc.audience != "public" or not public:
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


def public_forms(public_ids: set[int]) -> list[dict[str, Any]]:
    """The definitions of the public surveys and mailboxes (``members.surveys``), for the public
    service's ``POST /forms/<id>/``: live pages the visibility rule calls public *and* the publisher's
    own check does (a members-only, 内部, draft or held form never leaves the CMS)."""
    from cms import visibility
    from deploy.conf import publish_setting
    from members.surveys.models import MailboxPage, SurveyPage

    base = str(publish_setting("BASE_URL") or "").rstrip("/")
    rule = visibility.Rule()
    out = []
    for model in (SurveyPage, MailboxPage):
        for page in model.objects.live().filter(rule.public()).order_by("pk"):
            if page.pk not in public_ids:
                continue
            spec = page.form_spec()
            relative = page.url or ""
            spec["url"] = base + relative if relative.startswith("/") else relative
            out.append(spec)
    return out


def write_public_forms(dest: str | os.PathLike[str], forms: list[dict[str, Any]]) -> Path:
    """``<dest>/forms.json``, replaced atomically (the service re-reads it when it changes)."""
    import json

    root = Path(dest)
    root.mkdir(parents=True, exist_ok=True)
    target = root / "forms.json"
    tmp = root / f".forms.json.{os.getpid()}.tmp"
    tmp.write_text(json.dumps({"forms": forms}, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, target)
    return target


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
    public_ids = independently_public_ids()
    written = write_release(
        dest,
        checked(public_documents(), public_ids, lambda: independently_public_files(public_ids)),
        analyzer=current_analyzer(),
        ranking=engine_ranking(),
        choices=choices(),
        keep=keep,
        archive=archive,
        progress=progress,
        started=began,
        elasticsearch=elasticsearch if elasticsearch is not None else getattr(settings, "SHUYUAN_PUBLIC_SEARCH_ELASTICSEARCH", None),
    )
    write_public_forms(dest, public_forms(public_ids))
    seconds = time.monotonic() - started
    logger.info("public search exported: %s documents in %.1f s to %s", written.documents, seconds, written.path)
    return ExportResult(path=written.path, release=written.release, documents=written.documents, seconds=seconds, archive=written.archive)
