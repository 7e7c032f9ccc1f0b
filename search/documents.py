"""Map CMS pages to engine-neutral :class:`SearchDocument`s.

Which page types are indexed, under which kind and label, and what their documents hold is said by
the page models themselves (``search_kind``, ``search_document_fields``: see ``cms.models.search``);
this module only reads those declarations (:func:`indexed_models`, :func:`kinds`) and adds what is
the same for every page: the id, the audience from ``cms.visibility`` (the one visibility rule), the
locale and URL, and the text of attached files. An attachment's text is only included when the file
itself is no more restricted than the page (``media.audience.may_show_with_page``: a file that
follows its pages always is), so a public page never leaks an internal PDF.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from wagtail.models import Page, get_page_models

from cms import visibility
from search.backends.base import Attachment, SearchDocument

logger = logging.getLogger("shuyuan.search")

#: What a kind code may look like: it is a value of the API's ``kind`` filter and of URLs people keep.
KIND_CODE_RE = re.compile(r"[a-z][a-z0-9_]*")

_UNDECLARED = object()


def document_id(page_id: int) -> str:
    return f"page:{page_id}"


def page_id_of(doc_id: str) -> int | None:
    kind, _, pk = doc_id.partition(":")
    return int(pk) if kind == "page" and pk.isdigit() else None


def project_page_models() -> list[type[Page]]:
    """The concrete page models of this project's apps (Wagtail's root ``Page`` and other libraries' left out)."""
    project = Path(settings.BASE_DIR).resolve()
    return [
        model
        for model in get_page_models()
        if model is not Page and Path(model._meta.app_config.path).resolve().parent == project
    ]


def declaration_errors() -> list[str]:
    """What is wrong in the page models' search declarations (empty when every type says what it is)."""
    errors: list[str] = []
    seen: dict[str, str] = {}
    for model in project_page_models():
        kind = vars(model).get("search_kind", _UNDECLARED)
        if kind is _UNDECLARED:
            errors.append(
                f"{model._meta.label} does not say whether search indexes it: set search_kind to a kind "
                "code (and fill search_document_fields) or to None (see cms.models.search)."
            )
        elif kind is None:
            continue
        elif not isinstance(kind, str) or not KIND_CODE_RE.fullmatch(kind):
            errors.append(
                f"{model._meta.label}.search_kind {kind!r} is not a kind code ({KIND_CODE_RE.pattern})."
            )
        elif kind in seen:
            errors.append(f"{model._meta.label} and {seen[kind]} both declare search_kind {kind!r}.")
        else:
            seen[kind] = model._meta.label
            if not str(model.search_kind_label()).strip():
                errors.append(f"{model._meta.label} has no label for its search kind {kind!r}.")
    return errors


def indexed_models() -> list[type[Page]]:
    """The page models search indexes, in display order (the order they are defined in)."""
    return [model for model in project_page_models() if getattr(model, "search_kind", None)]


def kinds() -> list[tuple[str, str]]:
    """(code, label) of every indexed kind, in display order, labels in the active language.

    The codes are the values of the search API's ``kind`` filter and facet; the labels are what
    members read on the search pages.
    """
    return [(model.search_kind, str(model.search_kind_label())) for model in indexed_models()]


def kind_of(page: Page) -> str | None:
    """The kind of a page in search, or None when its type is not indexed."""
    model = page.specific_class
    return getattr(model, "search_kind", None) if model is not None else None


def is_indexable(page: Page) -> bool:
    return kind_of(page) is not None


def attachment_texts(page: Page, page_audience: str) -> list[Attachment]:
    """The text of a page's attached files, page by page, leaving out files more restricted than the page."""
    from media.audience import may_show_with_page
    from search.extraction import document_pages

    out: list[Attachment] = []
    for title, document in page.search_attachments():
        if not may_show_with_page(document, page_audience):
            continue  # the file is more restricted than the page: its text stays out
        for number, text in document_pages(document):
            if text.strip():
                out.append(Attachment(title=title, text=text, page=number))
    return out


def page_to_document(page: Page, audience: str | None = None) -> SearchDocument | None:
    """The search document of a page, or None when it must not be in the index (not live, not indexed).

    ``audience``: the page's audience when the caller already read it from ``cms.visibility`` for many
    pages at once (the public search export); otherwise it is asked for this page."""
    kind = kind_of(page)
    if kind is None or not page.live:
        return None
    page = page.specific
    audience = audience or visibility.audience_of(page).value
    fields = page.search_document_fields()
    try:
        doc = SearchDocument(
            id=document_id(page.pk),
            kind=kind,
            audience=audience,
            locale=page.locale.language_code,
            url=page.get_url() or "",
            **fields,
        )
    except TypeError as exc:  # a field name SearchDocument does not have: a mistake in the model
        raise ImproperlyConfigured(f"{type(page)._meta.label}.search_document_fields(): {exc}") from exc
    doc.attachments = attachment_texts(page, audience)
    return doc


def iter_documents(chunk: int = 200) -> Iterator[SearchDocument]:
    """Every document that belongs in the index, read in chunks to bound memory."""
    for model in indexed_models():
        ids = list(model.objects.live().values_list("pk", flat=True).order_by("pk"))
        for start in range(0, len(ids), chunk):
            for page in model.objects.filter(pk__in=ids[start : start + chunk]).select_related("locale"):
                doc = page_to_document(page)
                if doc is not None:
                    yield doc


def expected_ids() -> set[str]:
    return {
        document_id(pk)
        for model in indexed_models()
        for pk in model.objects.live().values_list("pk", flat=True)
    }
