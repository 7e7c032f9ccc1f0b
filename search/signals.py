"""Keep the index current: publish, unpublish, delete, move and privacy changes enqueue a task."""

from __future__ import annotations

from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver
from wagtail.models import Page, PageViewRestriction
from wagtail.signals import page_published, page_unpublished, post_page_move

from search.indexing import enqueue_page_update


def _with_translations(page_id: int) -> list[int]:
    """A page and its translations: a translation is never more visible than its source
    (``cms.visibility``), so its indexed audience changes with the source's."""
    key = Page.objects.filter(pk=page_id).values("translation_key")
    return [page_id, *Page.objects.filter(translation_key__in=key).exclude(pk=page_id).values_list("pk", flat=True)]


@receiver(pre_save)
def _remember_liveness(sender, instance, **kwargs):
    """Note whether a page with children was visible before this save: publishing a section that was
    unpublished or expired makes its whole subtree visible again, so the subtree must be re-indexed."""
    if isinstance(instance, Page) and instance.pk and instance.numchild:
        was = Page.objects.filter(pk=instance.pk).values_list("live", "expired").first()
        instance._search_was_visible = bool(was and was[0] and not was[1])


@receiver(page_published)
def _published(sender, instance, **kwargs):
    # Unknown previous state (a different instance was saved): re-index the subtree to be safe.
    reappeared = bool(instance.numchild) and not getattr(instance, "_search_was_visible", False)
    enqueue_page_update(_with_translations(instance.pk), descendants=reappeared)


@receiver(page_unpublished)
def _unpublished(sender, instance, **kwargs):
    # An unpublished or expired page hides everything below it (cms.visibility): drop the subtree too.
    enqueue_page_update([instance.pk], descendants=True)


@receiver(post_page_move)
def _moved(sender, instance, **kwargs):
    # URLs and inherited restrictions of the whole subtree may change (and of its translations')
    enqueue_page_update(_with_translations(instance.pk), descendants=True)


@receiver(post_delete)
def _deleted(sender, instance, **kwargs):
    if isinstance(instance, Page):
        enqueue_page_update([instance.pk])


@receiver(post_save, sender=PageViewRestriction)
@receiver(post_delete, sender=PageViewRestriction)
def _restriction_changed(sender, instance, **kwargs):
    enqueue_page_update(_with_translations(instance.page_id), descendants=True)


@receiver(m2m_changed, sender=PageViewRestriction.groups.through)
def _restriction_groups_changed(sender, instance, action, **kwargs):
    if action in ("post_add", "post_remove", "post_clear") and isinstance(instance, PageViewRestriction):
        enqueue_page_update(_with_translations(instance.page_id), descendants=True)


def _document_saved(sender, instance, **kwargs):
    """A replaced file or changed audience of a document: re-index the materials that attach it."""
    from cms.models import StudyMaterialAttachment

    page_ids = StudyMaterialAttachment.objects.filter(document_id=instance.pk).values_list("page_id", flat=True)
    enqueue_page_update(list(page_ids))


#: seconds a dictionary edit waits before its rebuild, so that editors adding several words in a row
#: (each save would otherwise start a full rebuild) get one rebuild; ``SHUYUAN_DICTIONARY_REBUILD_DELAY``
DICTIONARY_REBUILD_DELAY = 60


def _dictionary_changed(sender, instance, **kwargs):
    """Custom words change segmentation: reload the analyzer and rebuild the index in the background,
    once for a burst of edits (see ``tasks.rebuild_search_index``)."""
    from django.db import transaction

    from search.dictionary import invalidate

    invalidate()

    def _enqueue() -> None:
        from datetime import timedelta

        from django.conf import settings
        from django.utils import timezone
        from django_tasks import task_backends

        from search.dictionary import fingerprint
        from search.tasks import rebuild_search_index

        task = rebuild_search_index
        delay = getattr(settings, "SHUYUAN_DICTIONARY_REBUILD_DELAY", DICTIONARY_REBUILD_DELAY)
        if delay and task_backends[task.backend].supports_defer:
            task = task.using(run_after=timezone.now() + timedelta(seconds=delay))
        task.enqueue(fingerprint())

    transaction.on_commit(_enqueue)


def connect_model_signals() -> None:
    from django.apps import apps
    from django.conf import settings

    from search.models import DictionaryEntry

    document_model = apps.get_model(settings.WAGTAILDOCS_DOCUMENT_MODEL)
    post_save.connect(_document_saved, sender=document_model, dispatch_uid="search-document-saved")
    post_save.connect(_dictionary_changed, sender=DictionaryEntry, dispatch_uid="search-dictionary-saved")
    post_delete.connect(_dictionary_changed, sender=DictionaryEntry, dispatch_uid="search-dictionary-deleted")
