"""Insert many generated leaf pages at once, for scale tests.

Creating a Wagtail page one by one costs about 70 ms (validation, tree bookkeeping, revisions,
signal handlers), so 10,000 pages would take twelve minutes. Generated scale pages need none of
that: they are leaves with no revisions, so we compute their tree paths as treebeard does and write
the rows with two bulk inserts per batch. Wagtail's own admin search index and reference index are
not updated for them (``manage.py update_index`` and ``rebuild_references_index`` do that); our
search engine indexes them from the database with ``manage.py search_index rebuild``.
"""

from __future__ import annotations

import uuid

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from wagtail.models import Page


@transaction.atomic
def bulk_add_children(parent: Page, pages: list[Page]) -> list[Page]:
    """Append ``pages`` (unsaved instances of one page model) as live children of ``parent``."""
    if not pages:
        return pages
    model = type(pages[0])
    if any(type(p) is not model for p in pages):
        raise TypeError("bulk_add_children takes pages of one model")
    parent = Page.objects.select_for_update().get(pk=parent.pk)
    last = parent.get_last_child()
    start = Page._str2int(last.path[-Page.steplen :]) + 1 if last else 1
    content_type = ContentType.objects.get_for_model(model)
    now = timezone.now()
    depth = parent.depth + 1
    for offset, page in enumerate(pages):
        page.path = Page._get_path(parent.path, depth, start + offset)
        page.depth, page.numchild = depth, 0
        page.content_type = content_type
        page.locale_id = parent.locale_id
        page.url_path = f"{parent.url_path}{page.slug}/"
        page.draft_title = page.title
        page.translation_key = uuid.uuid4()
        page.live, page.has_unpublished_changes = True, False
        page.first_published_at = page.first_published_at or now
        page.last_published_at = page.last_published_at or now
    base_fields = [f for f in Page._meta.concrete_fields if not f.primary_key]
    bases = Page.objects.bulk_create([Page(**{f.attname: getattr(p, f.attname) for f in base_fields}) for p in pages])
    for page, base in zip(pages, bases, strict=True):
        page.pk = page.page_ptr_id = base.pk
    # The specific table's rows. Django's bulk_create refuses multi-table models, so insert them the
    # way bulk_create itself inserts a parent table's rows.
    local_fields = [f for f in model._meta.local_concrete_fields]
    model._base_manager._insert(pages, fields=local_fields, using=Page.objects.db)
    Page.objects.filter(pk=parent.pk).update(numchild=F("numchild") + len(pages))
    return pages
