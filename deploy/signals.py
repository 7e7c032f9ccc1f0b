"""Editor actions → pending changes → a background publish.

Handlers run inside the editor's request, so they only record what changed (one small insert) and,
once the transaction commits, enqueue the publish job. The job works out what the change affects and
rebuilds it; nothing is rendered or uploaded in the request.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete

from .conf import publish_setting

logger = logging.getLogger("shuyuan.deploy")
_UID = "shuyuan-deploy-"


def enabled() -> bool:
    return bool(publish_setting("AUTO_PUBLISH"))


def record(kind: str, *, object_id="", content_type: str = "", also_pages=(), reason: str = "") -> None:
    if not enabled():
        return
    from .models import PendingChange

    PendingChange.objects.create(
        kind=kind,
        object_id=str(object_id or ""),
        content_type=content_type,
        also_pages=sorted({int(p) for p in also_pages if p}),
        reason=reason[:200],
    )
    _enqueue_on_commit()


def _enqueue_on_commit() -> None:
    # One job per change; a job finding nothing pending (an earlier one took it) returns at once.
    def go():
        from .tasks import enqueue_publish

        enqueue_publish()

    transaction.on_commit(go)


# -- handlers -----------------------------------------------------------------------------------------
def on_page_published(sender, instance, **kwargs):
    kind = "subtree" if getattr(instance, "numchild", 0) else "page"
    record(kind, object_id=instance.pk, reason=f"published «{instance.title}»")


def on_page_unpublished(sender, instance, **kwargs):
    record("subtree", object_id=instance.pk, reason=f"unpublished «{instance.title}»")


def on_page_moved(sender, instance, parent_page_before=None, **kwargs):
    record(
        "subtree",
        object_id=instance.pk,
        also_pages=[parent_page_before.pk] if parent_page_before is not None else [],
        reason=f"moved «{instance.title}»",
    )


def on_page_deleted(sender, instance, **kwargs):
    from wagtail.models import Page

    if type(instance) is not Page:
        return  # multi-table inheritance sends one signal per table; the base Page row's is enough
    ancestors = list(Page.objects.filter(path__in=_ancestor_paths(instance)).values_list("pk", flat=True))
    record("page", object_id=instance.pk, also_pages=ancestors, reason=f"deleted «{instance.title}»")


def _ancestor_paths(page) -> list[str]:
    step = page.steplen
    return [page.path[:i] for i in range(step * 2, len(page.path), step)]


def on_restriction_changed(sender, instance, **kwargs):
    record("subtree", object_id=instance.page_id, reason="view restriction changed")


_watched: set | None = None
_media: set | None = None


def _watched_models() -> set:
    """Images, documents and snippets: content that pages embed. Looked up lazily (snippets register late)."""
    global _watched, _media
    if _watched is None:
        from wagtail.documents import get_document_model
        from wagtail.images import get_image_model
        from wagtail.snippets.models import get_snippet_models

        _media = {get_image_model(), get_document_model()}
        _watched = {*_media, *get_snippet_models()}
    return _watched


def on_object_saved(sender, instance, created=False, raw=False, **kwargs):
    if sender not in _watched_models() or raw:
        return
    if created and sender in _media:
        return  # a new image or document is not used by any page yet
    # a new snippet may be: a taxonomy term appears in the filters of its listings (a new sub-route),
    # and a new translation of a term changes the label that pages of its language show
    record(
        "object",
        object_id=instance.pk,
        content_type=instance._meta.label,
        reason=f"{instance._meta.verbose_name} «{instance}» {'added' if created else 'changed'}",
    )


def on_object_deleting(sender, instance, **kwargs):
    """Before the delete: afterwards the relations are gone (many-to-many rows deleted, foreign keys
    set to NULL) and nothing tells which pages showed the object."""
    if sender not in _watched_models():
        return
    from .affected import referring_page_ids, related_page_ids, term_listing_page_ids

    label = f"{instance._meta.verbose_name} «{instance}» deleted"
    pages = referring_page_ids(instance, depth=2) | related_page_ids(instance)
    if pages:
        record("page", also_pages=pages, reason=label)
    listings = term_listing_page_ids(instance)
    if listings:
        record("listing", also_pages=listings, reason=label)


def connect() -> None:
    from wagtail.models import PageViewRestriction
    from wagtail.signals import page_published, page_unpublished, post_page_move

    page_published.connect(on_page_published, dispatch_uid=_UID + "published")
    page_unpublished.connect(on_page_unpublished, dispatch_uid=_UID + "unpublished")
    post_page_move.connect(on_page_moved, dispatch_uid=_UID + "moved")
    post_delete.connect(on_page_deleted, dispatch_uid=_UID + "page-deleted")
    for signal in (post_save, post_delete):
        signal.connect(on_restriction_changed, sender=PageViewRestriction, dispatch_uid=_UID + f"pvr-{id(signal)}")
    post_save.connect(on_object_saved, dispatch_uid=_UID + "object-saved")
    pre_delete.connect(on_object_deleting, dispatch_uid=_UID + "object-deleting")
