"""A machine translator for wagtail-localize that converts Simplified to Traditional Chinese.

zh-hans → zh-hant is a script conversion, not a translation, and OpenCC does it offline with
Taiwan/Hong Kong phrase tables; editors then only review. Other language pairs are refused.
"""

from functools import cache

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
