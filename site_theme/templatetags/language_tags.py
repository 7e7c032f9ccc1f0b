"""The language switcher and the hreflang links (issue 15, languages).

Both come from ``theme_tags.language_alternates`` (one entry per site language: this page's translation
where the visibility rule lets it be read, which leaves out untranslated copies, else that language's
home), so the CMS and the static publisher, with or without the build's ``SiteIndex``, give the same
answer. The switcher sends a reader whose page has no translation in a language to that language's
home with ``#untranslated``; the home then shows the note ``lang-note.js`` reveals (a static site cannot
read a query string on the server).
"""

from __future__ import annotations

from django import template
from django.conf import settings

from site_theme.templatetags.theme_tags import language_alternates

register = template.Library()

#: the fragment a switcher link to another language's home carries when the page has no translation there
UNTRANSLATED_FRAGMENT = "untranslated"

#: the note on a home reached that way, in the home's language
UNTRANSLATED_NOTES = {
    "zh-hans": "您所看的页面暂无简体中文版本，这里是简体中文首页。",
    "zh-hant": "您所看的頁面暫無繁體中文版本，這裡是繁體中文首頁。",
    "en": "The page you were reading has not been translated into English yet; this is the English home page.",
}


@register.simple_tag(takes_context=True)
def language_links(context):
    """The switcher's entries: ``code``, ``name``, ``url`` (to the home with ``#untranslated`` where the
    page has no translation in that language), ``is_translation`` and ``current``."""
    links = []
    for alt in language_alternates(context):
        link = dict(alt)
        if not alt["is_translation"] and not alt["current"]:
            link["url"] = f"{alt['url'].split('#', 1)[0]}#{UNTRANSLATED_FRAGMENT}"
        links.append(link)
    return links


@register.simple_tag(takes_context=True)
def hreflang_links(context):
    """``<link rel="alternate">`` entries: one per readable translation (this page included) and
    ``x-default`` for the source-language (zh-hans) version, when there is more than one language."""
    translated = [alt for alt in language_alternates(context) if alt["is_translation"]]
    if len(translated) < 2:
        return []
    links = [{"hreflang": alt["code"], "url": _absolute(alt["url"])} for alt in translated]
    default = next((alt for alt in translated if alt["code"] == settings.LANGUAGE_CODE), translated[0])
    links.append({"hreflang": "x-default", "url": _absolute(default["url"])})
    return links


def _absolute(url: str) -> str:
    """hreflang wants absolute addresses: a site path on the public site (``SHUYUAN_PUBLISH["BASE_URL"]``)."""
    from deploy.conf import publish_setting

    return publish_setting("BASE_URL").rstrip("/") + url if url.startswith("/") else url


@register.simple_tag(takes_context=True)
def untranslated_note(context) -> str:
    """The note for this page's language (shown on a home reached from an untranslated page)."""
    page = context.get("page")
    code = page.locale.language_code if page is not None and getattr(page, "locale_id", None) else settings.LANGUAGE_CODE
    return UNTRANSLATED_NOTES.get(code, UNTRANSLATED_NOTES[settings.LANGUAGE_CODE])
