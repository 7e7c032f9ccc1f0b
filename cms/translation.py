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
