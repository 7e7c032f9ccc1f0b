"""Which files a page (as the editor just saved it, draft or not) uses, and which of them are wider.

The ReferenceIndex records what *live* pages use; an editor saving a draft needs to hear about the
draft, so this reads the page object in memory with the same per-field extraction Wagtail's index
uses (``extract_references`` of StreamField and rich text, foreign keys, inline children).
"""

from __future__ import annotations

from modelcluster.models import get_all_child_relations
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import Page, PageViewRestriction

from cms import visibility

from .audience import stricter_than_file


def _references(obj) -> list[tuple[type, str]]:
    found = []
    for field in obj._meta.concrete_fields:
        if hasattr(field, "extract_references"):
            value = field.value_from_object(obj)
            for model, pk, _path, _content in field.extract_references(value):
                found.append((model, str(pk)))
        elif field.many_to_one and field.related_model is not None:
            pk = getattr(obj, field.attname, None)
            if pk is not None:
                found.append((field.related_model, str(pk)))
    return found


def files_used_by(page: Page) -> dict[type, set[int]]:
    """{document model: ids, image model: ids} that the page object refers to, children included."""
    wanted = {get_document_model(): set(), get_image_model(): set()}
    objects = [page]
    for relation in get_all_child_relations(page):
        objects += list(getattr(page, relation.get_accessor_name()).all())
    for obj in objects:
        for model, pk in _references(obj):
            for file_model, ids in wanted.items():
                if isinstance(model, type) and issubclass(model, file_model) and pk.isdigit():
                    ids.add(int(pk))
    return wanted


def intended_audience(page: Page) -> str:
    """The audience the page is meant for: its own choice and its ancestors' restrictions (a draft is
    judged by what it will be once published)."""
    restrictions = PageViewRestriction.objects.filter(page__in=page.get_ancestors()).prefetch_related("groups")
    own = getattr(page, "audience", visibility.Audience.PUBLIC)
    return visibility.strictest(own, *(visibility.restriction_audience(r) for r in restrictions)).value


def files_more_public_than(page: Page):
    """``(page audience, [files])`` for the files an editor fixed wider than this page, else None."""
    page_audience = intended_audience(page)
    if page_audience == visibility.Audience.PUBLIC:
        return None
    files = []
    for model, ids in files_used_by(page).items():
        if ids:
            files += [f for f in model.objects.filter(pk__in=ids) if stricter_than_file(f.audience, page_audience)]
    return (page_audience, sorted(files, key=lambda f: f.title)) if files else None
