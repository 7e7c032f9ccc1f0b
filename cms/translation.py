"""A machine translator for wagtail-localize that converts Simplified to Traditional Chinese.

zh-hans → zh-hant is a script conversion, not a translation, and OpenCC does it offline with
Taiwan/Hong Kong phrase tables; editors then only review. Other language pairs are refused.
"""

from functools import cache, partial

from wagtail_localize.machine_translators.base import BaseMachineTranslator
from wagtail_localize.strings import StringValue


@cache
def _converter(config: str):
    import opencc

    return opencc.OpenCC(config)


def to_traditional(text: str) -> str:
    return _converter("s2t.json").convert(text)


def to_simplified(text: str) -> str:
    return _converter("t2s.json").convert(text)


class OpenCCTranslator(BaseMachineTranslator):
    display_name = "OpenCC 简繁转换"

    def translate(self, source_locale, target_locale, strings):
        return {
            string: StringValue(to_traditional(string.data)) for string in strings
        }

    def can_translate(self, source_locale, target_locale):
        return source_locale.language_code.lower() in ("zh-hans", "zh-cn") and target_locale.language_code.lower() in (
            "zh-hant",
            "zh-tw",
            "zh-hk",
        )


def translate_page(page, locale, user=None):
    """Create or update the wagtail-localize translation of ``page`` in ``locale`` and publish it.

    The page's related snippets (material type, topics' categories ...) are translated along with it,
    as the admin's "Translate" action does. zh-hant strings are filled in by the OpenCC translator;
    other languages start as synced copies that fall back to the source text until a translator
    works through them. Parents must be translated first, as in the admin.
    """
    return translate_object_into(page.specific, locale, user=user)


def translate_object_into(instance, locale, user=None):
    """Translate a page or snippet (with the snippets it uses) into ``locale``; returns the copy."""
    from django.contrib.auth import get_user_model
    from wagtail.models import DraftStateMixin
    from wagtail_localize.models import TranslationSource
    from wagtail_localize.operations import TranslationCreator
    from wagtail_localize.views.edit_translation import apply_machine_translation

    TranslationSource.update_or_create_from_instance(instance)  # pick up the latest source text
    creator = TranslationCreator(user, [locale])
    creator.create_translations(instance)
    translator = OpenCCTranslator({})
    editor = user or get_user_model().objects.filter(is_superuser=True).first()
    target = None
    for source, translations in creator.mappings.items():
        for translation in translations:
            if (
                editor is not None
                and translator.can_translate(source.locale, locale)
                and apply_machine_translation(translation.id, editor, translator)
            ):
                source_instance = source.get_source_instance()
                publish = getattr(source_instance, "live", True) or not isinstance(source_instance, DraftStateMixin)
                translation.save_target(user=editor, publish=publish)
            if source.object_id == instance.translation_key:
                target = translation
    return target.get_target_instance() if target is not None else instance.get_translation(locale)


def translate_strings(instance, locale, translate, user=None, publish=True):
    """Record a translation into ``locale`` of every string segment of ``instance``'s current source (a
    zh-hans page or snippet already submitted for translation, e.g. by :func:`translate_object_into`) and
    save the target, as a translator working through wagtail-localize's editor would; returns the copy.

    ``translate``: a callable from the source text to its translation, or a mapping (strings it lacks
    stay untranslated, so the copy stays off the public site). Rich-text segments keep their inline tags
    (``<a id="a1">`` ...), which ``translate`` must keep too. Published when ``publish`` and the source is
    live, as the editor's 发布 would.
    """
    from django.contrib.auth import get_user_model
    from wagtail.models import DraftStateMixin
    from wagtail_localize.models import StringSegment, StringTranslation, Translation, TranslationSource

    source = TranslationSource.objects.get(object_id=instance.translation_key, locale_id=instance.locale_id)
    translation = Translation.objects.get(source=source, target_locale=locale)
    editor = user or get_user_model().objects.filter(is_superuser=True).first()
    lookup = translate.get if hasattr(translate, "get") else translate
    for segment in StringSegment.objects.filter(source=source).select_related("string", "context"):
        text = lookup(segment.string.data)
        if text is None:
            continue
        StringTranslation.objects.update_or_create(
            translation_of=segment.string,
            locale=locale,
            context=segment.context,
            defaults={
                "data": text,
                "translation_type": StringTranslation.TRANSLATION_TYPE_MANUAL,
                "last_translated_by": editor,
                "has_error": False,
                "field_error": "",
            },
        )
    source_instance = source.get_source_instance()
    live = getattr(source_instance, "live", True) or not isinstance(source_instance, DraftStateMixin)
    translation.save_target(user=editor, publish=publish and live)
    return translation.get_target_instance()


def completes_translation(page) -> bool:
    """Whether publishing ``page`` may make it (and what is below it) appear: a copy wagtail-localize
    keeps in sync in a language OpenCC does not convert, while the visibility rule hides untranslated
    copies. Its publish may complete a translation (the copy was live but hidden until now), so the
    change feed treats its subtree as reappearing. zh-hant copies are converted before every publish:
    never hidden, so never reappearing."""
    from wagtail.models import Locale
    from wagtail_localize.models import Translation

    from cms import visibility

    if not visibility.hides_untranslated() or is_source(page) or not page.numchild:
        return False
    if OpenCCTranslator({}).can_translate(Locale(language_code="zh-hans"), page.locale):
        return False
    return Translation.objects.filter(
        enabled=True, source__object_id=page.translation_key, target_locale_id=page.locale_id
    ).exists()


# -- the reference index of translated pages ------------------------------------------------------------
def index_references_through_parents(**kwargs) -> None:
    """Queue the reference-index job of an inline child (a material's attachment) for its page.

    Wagtail queues ``update_reference_index_task`` naming each child row saved, and the job indexes the
    child's page. wagtail-localize's Translate (the admin's, and the automatic zh-hant refresh through
    :func:`translate_object_into`) copies a page with its children, then publishes the translation with
    new children in place of the copied ones: when the worker runs the jobs naming the copied rows they
    are gone (``StudyMaterialAttachment.DoesNotExist``, a FAILED job). Naming the page instead indexes
    the same thing and never fails (the page stays). Saves Wagtail's own
    ``disable_reference_index_auto_update`` silences stay silent.

    Call it from an ``AppConfig.ready`` (it registers the page models with the reference index first,
    as Wagtail's own ``ready`` does, so Wagtail does not connect its handler again later) and it stays
    in force after ``migrate`` and ``flush``, whose ``post_migrate`` reconnects Wagtail's handlers.
    Idempotent.
    """
    from django.apps import apps
    from django.db.models.signals import post_migrate, post_save, pre_migrate
    from wagtail.models import AbstractPage, ReferenceIndex
    from wagtail.signal_handlers import (
        connect_reference_index_signal_handlers,
        update_reference_index_on_save,
    )

    for model in apps.get_models():
        if issubclass(model, AbstractPage):
            ReferenceIndex.register_model(model)
    for model in list(ReferenceIndex.tracked_models):
        if _parental_keys(model):
            post_save.disconnect(update_reference_index_on_save, sender=model)
            post_save.connect(_index_parent_on_save, sender=model, dispatch_uid=_uid(model))
    # quiet while migrations run, as Wagtail's own handlers are; back after them: Wagtail's post_migrate
    # receiver first (its own connecting it again later is a no-op), then this one
    pre_migrate.connect(_quiet_during_migrate, dispatch_uid="shuyuan.references.before_migrate")
    post_migrate.connect(connect_reference_index_signal_handlers)
    post_migrate.connect(index_references_through_parents, dispatch_uid="shuyuan.references.after_migrate")


def _uid(model) -> str:
    return f"shuyuan.references.{model._meta.label_lower}"


def _quiet_during_migrate(**kwargs) -> None:
    from django.db.models.signals import post_save
    from wagtail.models import ReferenceIndex

    for model in list(ReferenceIndex.tracked_models):
        post_save.disconnect(sender=model, dispatch_uid=_uid(model))


def _parental_keys(model) -> list:
    from modelcluster.fields import ParentalKey

    return [f for f in model._meta.get_fields() if isinstance(f, ParentalKey)]


def _index_parent_on_save(sender, instance, raw=False, **kwargs) -> None:
    from wagtail.signal_handlers import reference_index_auto_update_disabled
    from wagtail.tasks import update_reference_index_task

    if raw or getattr(reference_index_auto_update_disabled, "value", False):
        return
    parent = instance
    while keys := _parental_keys(type(parent)):  # the object Wagtail's job would index (as it finds it)
        parent = getattr(parent, keys[0].name)
        if parent is None:
            return
    update_reference_index_task.enqueue(parent._meta.app_label, parent._meta.model_name, str(parent.pk))


# -- withdrawal -----------------------------------------------------------------------------------------
#: the log action of a translation withdrawn with its source (named in 报告 → 网站历史 and the page history)
WITHDRAWN_WITH_SOURCE = "shuyuan.unpublish_with_source"


def is_source(page) -> bool:
    """zh-hans (``settings.LANGUAGE_CODE``) pages are the sources; their translations follow them."""
    from django.conf import settings

    return page.locale.language_code == settings.LANGUAGE_CODE


def followers(page):
    """The pages in other languages that go with ``page`` when it is withdrawn (none unless ``page`` is
    a zh-hans source page): wagtail-localize's translations and Wagtail's aliases alike."""
    from wagtail.models import Page

    if not is_source(page):
        return Page.objects.none()
    return Page.objects.filter(translation_key=page.translation_key).exclude(locale_id=page.locale_id).order_by(
        "locale__language_code"
    )


def unpublish_followers(page) -> list:
    """Unpublish the live translations of a source page that was just unpublished (or expired).

    Runs inside the same transaction as the source's unpublish, through Wagtail's own
    ``UnpublishPageAction``: each translation is logged (as the acting user, from Wagtail's log
    context), its aliases follow, and its ``page_unpublished`` reaches the publisher and the search
    index, so the publish that removes the source removes its copies too. Permissions are not checked
    again: whoever may withdraw a source may withdraw its copies (as Wagtail's own cascade does).
    """
    from wagtail.actions.unpublish_page import UnpublishPageAction

    withdrawn = []
    for translation in followers(page).live().specific():
        UnpublishPageAction(translation, log_action=WITHDRAWN_WITH_SOURCE).execute(skip_permission_checks=True)
        withdrawn.append(translation)
    return withdrawn


def delete_followers(page) -> list[int]:
    """A source page was deleted: its translations are unpublished at once, in the same transaction, and
    deleted (with their subpages, through Wagtail's ``DeletePageAction``, logged as the acting user)
    once that transaction commits. Returns their ids.

    Unpublishing at once matters: a copy whose source is gone counts as its own source, so it must not
    stay live for a moment. Deleting after the commit keeps code that deletes a list of pages it has
    loaded (Wagtail's bulk delete with a source and its copy selected, a loader clearing the tree) from
    meeting a page that is already gone.
    """
    from django.db import transaction

    ids = list(followers(page).values_list("pk", flat=True))
    if ids:
        unpublish_followers(page)
        transaction.on_commit(partial(_delete_pages, ids))
    return ids


def _delete_pages(ids: list[int]) -> None:
    from wagtail.actions.delete_page import DeletePageAction
    from wagtail.models import Page

    for translation in Page.objects.filter(pk__in=ids).order_by("path").specific():
        if Page.objects.filter(pk=translation.pk).exists():  # not gone below another one
            DeletePageAction(translation).execute(skip_permission_checks=True)
