"""Navigation, breadcrumbs and language alternates for the site theme.

Everything here is computed once per request and page and cached on the request, because the static
publisher renders thousands of pages per run and every saved query counts.
"""

from __future__ import annotations

from django import template
from django.conf import settings
from django.utils import translation
from wagtail.models import Locale, Page, Site

from cms import visibility

register = template.Library()


def _cache(request, key, compute):
    store = getattr(request, "_shuyuan_theme_cache", None)
    if store is None:
        store = {}
        if request is not None:
            request._shuyuan_theme_cache = store
    if key not in store:
        store[key] = compute()
    return store[key]


def _home_for(request, page):
    locale_id = page.locale_id if page is not None else None

    def compute():
        from cms.models import HomePage

        qs = HomePage.objects.live()
        if locale_id:
            qs = qs.filter(locale_id=locale_id)
        else:
            qs = qs.filter(locale__language_code=translation.get_language() or settings.LANGUAGE_CODE)
        return qs.first()

    return _cache(request, ("home", locale_id), compute)


@register.simple_tag(takes_context=True)
def site_home(context):
    return _home_for(context.get("request"), context.get("page"))


@register.simple_tag(takes_context=True)
def nav_items(context):
    """The top-level sections (columns, library, exhibitions ...) of the current language's home page."""
    request = context.get("request")
    home = _home_for(request, context.get("page"))
    if home is None:
        return []
    user = getattr(request, "user", None)
    return _cache(
        request,
        ("nav", home.pk, getattr(user, "pk", None)),
        lambda: list(visibility.pages_visible_to(user).child_of(home).in_menu()),
    )


@register.simple_tag(takes_context=True)
def breadcrumbs(context):
    page = context.get("page")
    if page is None or page.depth <= 2:
        return []
    return list(page.get_ancestors().filter(depth__gt=1))


@register.simple_tag(takes_context=True)
def language_alternates(context):
    """One entry per site language: the translation of this page if it is readable, else that home."""
    request = context.get("request")
    page = context.get("page")
    user = getattr(request, "user", None)

    def compute():
        locales = {loc.language_code: loc for loc in Locale.objects.all()}
        translations = {}
        if page is not None and getattr(page, "translation_key", None):
            qs = visibility.pages_visible_to(user, Page.objects.filter(translation_key=page.translation_key))
            translations = {p.locale_id: p for p in qs}
        homes = {}
        from cms.models import HomePage

        for home in HomePage.objects.live():
            homes[home.locale_id] = home
        items = []
        for code, name in settings.LANGUAGES:
            loc = locales.get(code)
            if loc is None:
                continue
            target = translations.get(loc.id) or homes.get(loc.id)
            if target is None:
                continue
            items.append(
                {
                    "code": code,
                    "name": name,
                    "url": target.get_url(request=request),
                    "is_translation": loc.id in translations,
                    "current": page is not None and page.locale_id == loc.id,
                }
            )
        return items

    return _cache(request, ("langs", getattr(page, "pk", None), getattr(user, "pk", None)), compute)


@register.simple_tag(takes_context=True)
def current_site(context):
    request = context.get("request")
    return _cache(request, "site", lambda: Site.find_for_request(request) if request else Site.objects.first())


@register.filter
def page_range_window(page_obj, width=2):
    """Page numbers around the current one, with None for the gaps, for compact pagination."""
    current, last = page_obj.number, page_obj.paginator.num_pages
    shown = {1, last, *range(max(1, current - width), min(last, current + width) + 1)}
    result, previous = [], 0
    for n in sorted(shown):
        if n - previous > 1:
            result.append(None)
        result.append(n)
        previous = n
    return result


@register.simple_tag(takes_context=True)
def term_label(context, term):
    """A taxonomy term's name in the page's language (a translated page may point at the source term)."""
    if term is None:
        return ""
    page = context.get("page")
    locale_id = getattr(page, "locale_id", None)
    if locale_id is None or term.locale_id == locale_id:
        return term.name
    request = context.get("request")

    def compute():
        translated = type(term).objects.filter(translation_key=term.translation_key, locale_id=locale_id).first()
        return (translated or term).name

    return _cache(request, ("term", type(term).__name__, term.translation_key, locale_id), compute)
