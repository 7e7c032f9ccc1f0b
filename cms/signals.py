"""Domain rules that follow editors' actions (not change-feed listeners: ``cms.changes`` records the
changes themselves, and publishing, search and the API cache consume them there).

Keep a page's ``audience`` field and its Wagtail view restriction saying the same thing. Editors set the audience on the page (it travels with revisions and needs approval like any other
change); it becomes a restriction when the page is saved with it. Editors who use Wagtail's own
privacy dialog instead update the field through the reverse receiver.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver
from wagtail.models import Page, PageViewRestriction, ReferenceIndex
from wagtail.signals import page_published, page_unpublished

from cms import visibility
from cms.models.pages import AudienceMixin


@receiver(post_save)
def sync_audience_restriction(sender, instance, update_fields=None, raw=False, **kwargs):
    if raw or not isinstance(instance, AudienceMixin):
        return
    if update_fields is not None and "audience" not in update_fields:
        # A draft save of a live page: the new audience takes effect when it is published.
        return
    visibility.sync_restriction(instance, instance.audience)


def _reflect_restriction(page_id):
    from wagtail.models import Page

    page = Page.objects.filter(pk=page_id).first()
    if page is None:
        return
    specific_class = page.specific_class
    if specific_class is None or not issubclass(specific_class, AudienceMixin):
        return
    own = PageViewRestriction.objects.filter(page_id=page_id).prefetch_related("groups")
    audience = visibility.strictest(*(visibility.restriction_audience(r) for r in own))
    specific_class.objects.filter(pk=page_id).exclude(audience=audience).update(audience=audience)


@receiver(post_delete, sender=PageViewRestriction)
def restriction_deleted(sender, instance, **kwargs):
    _reflect_restriction(instance.page_id)


@receiver(m2m_changed, sender=PageViewRestriction.groups.through)
def restriction_groups_changed(sender, instance, action, **kwargs):
    if action in ("post_add", "post_remove", "post_clear") and isinstance(instance, PageViewRestriction):
        _reflect_restriction(instance.page_id)


@receiver(post_save, sender=PageViewRestriction)
def restriction_saved(sender, instance, created, **kwargs):
    if instance.restriction_type != PageViewRestriction.GROUPS:
        _reflect_restriction(instance.page_id)


_auto_translation_suspended: ContextVar[bool] = ContextVar("auto_translation_suspended", default=False)


@contextmanager
def auto_translation_suspended():
    """For bulk jobs (the demo loader) that translate pages themselves."""
    token = _auto_translation_suspended.set(True)
    try:
        yield
    finally:
        _auto_translation_suspended.reset(token)


@receiver(page_published)
def keep_traditional_chinese_in_sync(sender, instance, **kwargs):
    """zh-hans pages get their zh-hant copy refreshed by a background job after each publish."""
    if not getattr(settings, "SHUYUAN_AUTO_TRADITIONAL", False) or _auto_translation_suspended.get():
        return
    if instance.locale.language_code != settings.LANGUAGE_CODE:
        return
    from cms.jobs import enqueue_on_commit
    from cms.tasks import sync_traditional_translation

    enqueue_on_commit(sync_traditional_translation, instance.pk)


@receiver(page_unpublished)
def translations_follow_unpublish(sender, instance, **kwargs):
    """Unpublishing (or the expiry of) a zh-hans page unpublishes its translations in the same
    transaction, whichever way it happened: the admin's 取消发布 (with or without subpages: each
    subpage's own signal takes its translations), bulk actions, scheduled expiry, code.

    Wagtail's own cascade (the ``construct_translated_pages_to_cascade_actions`` hook) reaches only
    the single-page admin views; this receiver is the one place that withdraws copies. Re-publishing
    the source does not bring them back: with ``SHUYUAN_AUTO_TRADITIONAL`` the zh-hant copy is
    refreshed and published again by ``keep_traditional_chinese_in_sync``; other languages stay
    unpublished until an editor publishes them.
    """
    from cms.translation import unpublish_followers

    unpublish_followers(instance)


@receiver(post_delete)
def translations_follow_delete(sender, instance, **kwargs):
    """Deleting a zh-hans page unpublishes its translations in the same transaction and deletes them
    (with their subpages) when it commits (``cms.translation.delete_followers`` says why).

    Multi-table inheritance sends one signal per table; the base ``Page`` row's is the one acted on.
    """
    if type(instance) is not Page:
        return
    from cms.translation import delete_followers

    delete_followers(instance)


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def admin_in_simplified_chinese(sender, instance, created, raw=False, **kwargs):
    """New accounts use the admin in the site's language (简体中文) whatever their browser asks for;
    each user can still choose another language in 账户设置."""
    if not created or raw:
        return
    from wagtail.users.models import UserProfile

    UserProfile.objects.get_or_create(user=instance, defaults={"preferred_language": settings.LANGUAGE_CODE})


@receiver(page_published)
def index_references_on_publish(sender, instance, **kwargs):
    """Record which files the published page uses now, in the publishing transaction.

    A file that follows its pages is public once a public page uses it (``media.audience`` asks the
    ReferenceIndex). Wagtail updates the index in a background job, which may run after the publish
    that needs it: the page's new image would be left out of the static site, and nothing would publish
    it later. The job still runs and finds the index already current.
    """
    ReferenceIndex.create_or_update_for_object(instance)
