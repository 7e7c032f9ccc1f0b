"""Map CMS pages to engine-neutral :class:`SearchDocument`s.

Which page types are indexed, under which kind and label, and what their documents hold is said by
the page models themselves (``search_kind``, ``search_document_fields``: see ``cms.models.search``);
this module only reads those declarations (:func:`indexed_models`, :func:`kinds`) and adds what is
the same for every page: the id, the audience from ``cms.visibility`` (the one visibility rule), the
locale and URL, and the text of attached files. An attachment's text is only included when the file
itself is no more restricted than the page (``media.audience.may_show_with_page``: a file that
follows its pages always is), so a public page never leaks an internal PDF.

Documents of the library (``ShuyuanDocument``) whose text could be extracted are also search documents
of their own (kind ``document``, 文件; id ``document:<pk>``, never mistaken for a page's ``page:<pk>``),
unless a live page carries their text already: a file attached to a study material
(``StudyMaterialAttachment``) is found through that material, whose hit names the file and the page of
it the words are on. Every other file is found by itself: one no page uses, one an article links or
plays in its body, one only a draft uses. Such a document's audience is the file's effective audience
(``media.audience``: its editor's choice, else the widest live page that uses it; unused and following,
内部; classified or held by the secrecy review, 内部); its URL is the file's own download view
(``/documents/<id>/<name>``, which checks the same audience); its snippet says which page of the file
the words are on. A file has no language: it is indexed under the site's default content language.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.models import Page, get_page_models

from cms import visibility
from search.backends.base import Attachment, SearchDocument

logger = logging.getLogger("shuyuan.search")

#: What a kind code may look like: it is a value of the API's ``kind`` filter and of URLs people keep.
KIND_CODE_RE = re.compile(r"[a-z][a-z0-9_]*")

_UNDECLARED = object()


#: the kind of a library document's own search document (not a page type's: no page model may declare it)
FILE_KIND = "document"


def document_id(page_id: int) -> str:
    """The search document id of a page."""
    return f"page:{page_id}"


def page_id_of(doc_id: str) -> int | None:
    """The page behind a search document id, None for any other (a file's ``document:<pk>``)."""
    kind, _, pk = doc_id.partition(":")
    return int(pk) if kind == "page" and pk.isdigit() else None


def file_document_id(file_pk: int) -> str:
    """The search document id of a library document (a file)."""
    return f"{FILE_KIND}:{file_pk}"


def file_pk_of(doc_id: str) -> int | None:
    """The library document behind a search document id, None for any other (a page's ``page:<pk>``)."""
    kind, _, pk = doc_id.partition(":")
    return int(pk) if kind == FILE_KIND and pk.isdigit() else None


def project_page_models() -> list[type[Page]]:
    """The concrete page models of this project's apps (Wagtail's root ``Page`` and other libraries' left out)."""
    project = Path(settings.BASE_DIR).resolve()
    return [
        model
        for model in get_page_models()
        if model is not Page
        and (path := Path(model._meta.app_config.path).resolve()).is_relative_to(project)
        and "site-packages" not in path.parts  # apps nested in a package (members.surveys), not the venv's
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


def file_kind_label() -> str:
    return str(_("文件"))


def all_kinds() -> list[tuple[str, str]]:
    """:func:`kinds` and the library documents' own kind (文件), last: every kind a hit may have."""
    return [*kinds(), (FILE_KIND, file_kind_label())]


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
    """Every document that belongs in the index (pages, then library documents), read in chunks to
    bound memory."""
    for model in indexed_models():
        ids = list(model.objects.live().values_list("pk", flat=True).order_by("pk"))
        for start in range(0, len(ids), chunk):
            for page in model.objects.filter(pk__in=ids[start : start + chunk]).select_related("locale"):
                doc = page_to_document(page)
                if doc is not None:
                    yield doc
    yield from iter_file_documents(chunk=chunk)


def expected_ids() -> set[str]:
    page_ids = {
        document_id(pk)
        for model in indexed_models()
        for pk in model.objects.live().values_list("pk", flat=True)
    }
    return page_ids | {file_document_id(pk) for pk in files_with_text()}


# -- library documents as search documents of their own ------------------------------------------------
def _file_model():
    from wagtail.documents import get_document_model

    return get_document_model()


def file_locale() -> str:
    """The language a file is indexed under: the site's default content language."""
    codes = [code for code, _name in getattr(settings, "WAGTAIL_CONTENT_LANGUAGES", ())]
    return settings.LANGUAGE_CODE if settings.LANGUAGE_CODE in codes or not codes else codes[0]


def file_to_document(document, audience: str) -> SearchDocument | None:
    """The search document of a library document at this (effective) audience, or None when the file
    has no text (not extractable, skipped, blank): its pages of text become sections with their
    page numbers, so a snippet says which page of the PDF it is from."""
    from search.extraction import document_pages

    parts = [(number, text) for number, text in document_pages(document) if text.strip()]
    if not parts:
        return None
    name = Path(document.file.name or "").name or document.title
    created = getattr(document, "created_at", None)
    return SearchDocument(
        id=file_document_id(document.pk),
        kind=FILE_KIND,
        title=document.title,
        audience=str(audience),
        locale=file_locale(),
        url=document.url or "",
        date=timezone.localtime(created).date() if created else None,
        attachments=[Attachment(title=name, text=text, page=number) for number, text in parts],
    )


def carried_files(queryset=None, rule: visibility.Rule | None = None) -> set[int]:
    """The library documents (of ``queryset``) whose text a live page's search document carries
    (``search_attachments``: the attachments of study materials): they are found through that page.

    A file more restricted than every live page it is attached to (a 仅会员 PDF on a public material)
    is carried by none of them (``attachment_texts`` leaves it out), so it is not in this set: it is a
    search document of its own, found by those who may read it. A few queries for all of them."""
    from cms.models import StudyMaterialAttachment
    from media.audience import may_show_with_page

    links = StudyMaterialAttachment.objects.filter(page__live=True)
    if queryset is not None:
        links = links.filter(document__in=queryset.values("pk"))
    pairs = list(links.values_list("document_id", "page_id").distinct())
    if not pairs:
        return set()
    rule = rule or visibility.Rule()
    page_ids = {page for _doc, page in pairs}
    public = set(Page.objects.filter(rule.public(), pk__in=page_ids).values_list("pk", flat=True))
    members = set(Page.objects.filter(rule.members(), pk__in=page_ids).values_list("pk", flat=True))

    def audience(page_id: int) -> str:
        if page_id in public:
            return visibility.Audience.PUBLIC.value
        return (visibility.Audience.MEMBERS if page_id in members else visibility.Audience.INTERNAL).value

    files = _file_model().objects.in_bulk({doc for doc, _page in pairs})
    return {doc for doc, page in pairs if doc in files and may_show_with_page(files[doc], audience(page))}


def files_of_their_own(queryset=None, rule: visibility.Rule | None = None):
    """The library documents (of ``queryset``) that are search documents of their own if they have text."""
    queryset = queryset if queryset is not None else _file_model().objects.all()
    return queryset.exclude(pk__in=carried_files(queryset, rule))


def files_to_documents(
    documents, rule: visibility.Rule | None = None
) -> tuple[list[SearchDocument], list[str]]:
    """(search documents, ids to drop) for these library documents: each at its effective audience
    (``media.audience.effective_audiences``, a few queries for all of them); a file without text, or
    whose text a live page carries (:func:`carried_files`), has no search document (its id is dropped)."""
    from media.audience import effective_audiences

    documents = list(documents)
    asked = _file_model().objects.filter(pk__in=[d.pk for d in documents])
    own_ids = set(files_of_their_own(asked, rule).values_list("pk", flat=True))
    own = [d for d in documents if d.pk in own_ids]
    audiences = effective_audiences(own, rule=rule)
    docs, gone = [], [file_document_id(d.pk) for d in documents if d.pk not in own_ids]
    for document in own:
        doc = file_to_document(document, audiences[(type(document), document.pk)].value)
        if doc is None:
            gone.append(file_document_id(document.pk))
        else:
            docs.append(doc)
    return docs, gone


def iter_file_documents(chunk: int = 200) -> Iterator[SearchDocument]:
    """The search documents of every library document of its own (:func:`files_of_their_own`) that has
    text, at its effective audience."""
    model = _file_model()
    ids = list(files_of_their_own().values_list("pk", flat=True).order_by("pk"))
    rule = visibility.Rule() if ids else None
    for start in range(0, len(ids), chunk):
        docs, _gone = files_to_documents(
            model.objects.filter(pk__in=ids[start : start + chunk]).order_by("pk"), rule
        )
        yield from docs


def files_with_text(ids=None) -> set[int]:
    """Of the library documents of their own (or those of ``ids``), the ones with text in their current
    file: what :func:`iter_file_documents` indexes. Read from the extraction records; a file not
    extracted yet is extracted now (and recorded)."""
    from search.extraction import document_pages
    from search.models import ExtractedText

    model = _file_model()
    files = files_of_their_own(model.objects.all() if ids is None else model.objects.filter(pk__in=list(ids)))
    current = dict(files.values_list("pk", "file_hash"))
    found: set[int] = set()
    recorded: set[int] = set()
    records = ExtractedText.objects.filter(document_id__in=list(current)).values_list(
        "document_id", "file_hash", "pages"
    )
    for pk, file_hash, pages in records.iterator(chunk_size=100):
        if current.get(pk) != file_hash:
            continue
        recorded.add(pk)
        if any(str(p.get("text", "")).strip() for p in pages or ()):
            found.add(pk)
    for document in model.objects.filter(pk__in=sorted(set(current) - recorded)):
        if any(text.strip() for _number, text in document_pages(document)):
            found.add(document.pk)
    return found
