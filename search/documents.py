"""Map CMS pages to engine-neutral :class:`SearchDocument`s.

Indexed kinds: study materials (with the text of attached PDF/DOCX files,
page by page), articles, exhibitions and red-exhibition links, in every
locale.  The audience comes from ``cms.visibility`` (the one visibility rule);
an attachment's text is only included when the file itself is no more
restricted than the page (``media.audience.may_show_with_page``: a file that
follows its pages always is), so a public page never leaks an internal PDF.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator

from django.db import DatabaseError
from wagtail.models import Page

from cms import visibility
from search.backends.base import Attachment, SearchDocument

logger = logging.getLogger("shuyuan.search")

KINDS: dict[str, str] = {
    "studymaterialpage": "material",
    "articlepage": "article",
    "exhibitionpage": "exhibition",
    "redexhibitionpage": "red_exhibition",
}


def document_id(page_id: int) -> str:
    return f"page:{page_id}"


def page_id_of(doc_id: str) -> int | None:
    kind, _, pk = doc_id.partition(":")
    return int(pk) if kind == "page" and pk.isdigit() else None


def indexable_models() -> list[type[Page]]:
    from cms.models import ArticlePage, ExhibitionPage, RedExhibitionPage, StudyMaterialPage

    return [StudyMaterialPage, ArticlePage, ExhibitionPage, RedExhibitionPage]


def is_indexable(page: Page) -> bool:
    return page.specific_class is not None and page.specific_class._meta.model_name in KINDS


def _stream_text(page: Page, field_name: str) -> str:
    field = page._meta.get_field(field_name)
    value = getattr(page, field_name)
    try:
        return "\n".join(str(t) for t in field.get_searchable_content(value) if t)
    except (AttributeError, TypeError, ValueError) as exc:
        logger.warning("search: cannot read %s of page %s: %s", field_name, page.pk, exc)
        return ""


def _date(page: Page) -> dt.date | None:
    for name in ("issue_date", "date"):
        value = getattr(page, name, None)
        if isinstance(value, dt.date):
            return value
    stamp = page.first_published_at or page.latest_revision_created_at
    return stamp.date() if stamp else None


def attachment_texts(page: Page, page_audience: str) -> list[Attachment]:
    from media.audience import may_show_with_page
    from search.extraction import document_pages

    out: list[Attachment] = []
    for attachment in page.attachments.select_related("document").all():
        document = attachment.document
        if not may_show_with_page(document, page_audience):
            continue  # the file is more restricted than the page: its text stays out
        title = attachment.display_title
        for number, text in document_pages(document):
            if text.strip():
                out.append(Attachment(title=title, text=text, page=number))
    return out


def page_to_document(page: Page) -> SearchDocument | None:
    """The search document of a page, or None when it must not be in the index (not live, other type)."""
    page = page.specific
    kind = KINDS.get(page._meta.model_name)
    if kind is None or not page.live:
        return None
    audience = visibility.audience_of(page).value
    doc = SearchDocument(
        id=document_id(page.pk),
        kind=kind,
        title=page.title,
        audience=audience,
        locale=page.locale.language_code,
        summary=getattr(page, "summary", "") or "",
        date=_date(page),
        url=page.get_url() or "",
    )
    if kind == "material":
        doc.body = _stream_text(page, "body")
        doc.material_type = page.material_type.name if page.material_type_id else ""
        doc.topics = [t.name for t in page.topics.all()]
        doc.issuing_body = page.issuing_body
        doc.doc_number = page.doc_number
        doc.attachments = attachment_texts(page, audience)
    elif kind == "article":
        doc.subtitle = page.subtitle
        doc.body = _stream_text(page, "body")
        parent = page.get_parent()
        doc.column = parent.title if parent else ""
    elif kind == "exhibition":
        doc.subtitle = page.subtitle
        doc.body = "\n".join(p for p in (page.curator, _stream_text(page, "sections")) if p)
    elif kind == "red_exhibition":
        doc.body = "\n".join(p for p in (page.city, page.description) if p)
        doc.province = page.get_province_display() if page.province else ""
        doc.category = page.category.name if page.category_id else ""
    return doc


def iter_documents(chunk: int = 200) -> Iterator[SearchDocument]:
    """Every document that belongs in the index, read in chunks to bound memory."""
    for model in indexable_models():
        ids = list(model.objects.live().values_list("pk", flat=True).order_by("pk"))
        for start in range(0, len(ids), chunk):
            for page in model.objects.filter(pk__in=ids[start : start + chunk]).select_related("locale"):
                try:
                    doc = page_to_document(page)
                except DatabaseError:
                    raise
                if doc is not None:
                    yield doc


def expected_ids() -> set[str]:
    return {document_id(pk) for model in indexable_models() for pk in model.objects.live().values_list("pk", flat=True)}
