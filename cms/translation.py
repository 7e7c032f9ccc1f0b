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

    zh-hant is filled in by the OpenCC translator; other languages start as synced copies that
    fall back to the source text until a translator works through the segments in the editor.
    Parents must be translated first, as in the admin.
    """
    from django.contrib.auth import get_user_model
    from wagtail_localize.models import Translation, TranslationSource
    from wagtail_localize.operations import translate_object
    from wagtail_localize.views.edit_translation import apply_machine_translation

    TranslationSource.update_or_create_from_instance(page.specific)  # pick up the latest source text
    translate_object(page.specific, [locale], user=user)
    translation = Translation.objects.get(source__object_id=page.translation_key, target_locale=locale)
    translator = OpenCCTranslator({})
    if translator.can_translate(translation.source.locale, locale):
        editor = user or get_user_model().objects.filter(is_superuser=True).first()
        if editor is not None and apply_machine_translation(translation.id, editor, translator):
            translation.save_target(user=editor, publish=page.live)
    return translation.get_target_instance()
