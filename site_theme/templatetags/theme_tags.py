"""Navigation, breadcrumbs and language alternates for the site theme.

Everything here is computed once per request and page and cached on the request, because the static
publisher renders thousands of pages per run and every saved query counts. The publisher shares one
store between all the pages of a build and puts a ``SiteIndex`` in it (``store["index"]``): the whole
site's menus, homes, translations and URLs loaded with a few queries, answered from memory. Without an
index (the CMS), each request asks the database, in a few queries.
"""

from __future__ import annotations

import re

from django import template
from django.conf import settings
from django.utils import translation
from wagtail.models import Locale, Page, Site
from wagtail.templatetags.wagtailcore_tags import pageurl

from cms import visibility

register = template.Library()

#: key of the shared ``SiteIndex`` in the store (set by the static publisher)
INDEX_KEY = "index"


def _store(request) -> dict:
    store = getattr(request, "_shuyuan_theme_cache", None)
    if store is None:
        store = {}
        if request is not None:
            request._shuyuan_theme_cache = store
    return store


def _cache(request, key, compute):
    store = _store(request)
    if key not in store:
        store[key] = compute()
    return store[key]


def _index(request):
    """The build-wide ``SiteIndex``, if the publisher provided one for this request's audience."""
    index = _store(request).get(INDEX_KEY) if request is not None else None
    if index is None:
        return None
    user = getattr(request, "user", None)
    if visibility.is_member(user) != visibility.is_member(index.user):
        return None
    return index


def _locales(request) -> dict[str, Locale]:
    return _cache(request, "locales", lambda: {loc.language_code: loc for loc in Locale.objects.all()})


def _home_for(request, page):
    index = _index(request)
    if index is not None:
        return index.home(getattr(page, "locale_id", None), translation.get_language())
    locale_id = page.locale_id if page is not None else None
    if locale_id is None:
        loc = _locales(request).get(translation.get_language() or settings.LANGUAGE_CODE)
        locale_id = loc.pk if loc else None

    def compute():
        from cms.models import HomePage

        return HomePage.objects.live().filter(locale_id=locale_id).first() if locale_id else None

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
    index = _index(request)
    if index is not None:
        return index.nav(home)
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
    index = _index(context.get("request"))
    if index is not None:
        return index.breadcrumbs(page)
    return list(page.get_ancestors().filter(depth__gt=1))


@register.simple_tag(takes_context=True)
def page_href(context, page):
    """``{% pageurl page %}``, remembered per page for the rest of the request (or of the build)."""
    request = context.get("request")
    if request is None or not isinstance(page, Page) or page.pk is None:
        return pageurl(context, page)
    index = _index(request)
    if index is not None:
        return index.url_of(page, request)
    return _cache(request, ("url", page.pk), lambda: pageurl(context, page))


@register.simple_tag(takes_context=True)
def language_alternates(context):
    """One entry per site language: the translation of this page if it is readable, else that home."""
    request = context.get("request")
    page = context.get("page")
    user = getattr(request, "user", None)
    index = _index(request)
    if index is not None:
        return _cache(request, ("langs", getattr(page, "pk", None)), lambda: index.alternates(page, request))

    def compute():
        from cms.models import HomePage

        locales = _locales(request)
        translations = {}
        if page is not None and getattr(page, "translation_key", None):
            qs = visibility.pages_visible_to(user, Page.objects.filter(translation_key=page.translation_key))
            translations = {p.locale_id: p for p in qs}
        homes = {}
        # the homes this reader may read (an untranslated home is not one)
        for home in visibility.pages_visible_to(user, HomePage.objects.all()).order_by("path"):
            homes.setdefault(home.locale_id, home)
        items = []
        for code, name in settings.LANGUAGES:
            loc = locales.get(code)
            if loc is None:
                continue
            target = translations.get(loc.id) or homes.get(loc.id)
            url = target.get_url(request=request) if target is not None else None
            if url is None:  # no page of that language this reader may read, or one outside every site
                continue
            items.append(
                {
                    "code": code,
                    "name": name,
                    "url": url,
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


# -- fragments shared between pages -----------------------------------------------------------------------
def _key_part(value):
    """A hashable stand-in for a fragment key argument (pages by identity, lists element-wise)."""
    from django.db.models import Model

    if isinstance(value, Model):
        return (value._meta.label, value.pk)
    if isinstance(value, (list, tuple)):
        return tuple(_key_part(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _key_part(v)) for k, v in value.items()))
    return value


class FragmentNode(template.Node):
    def __init__(self, name, args, nodelist) -> None:
        self.name, self.args, self.nodelist = name, args, nodelist

    def render(self, context):
        request = context.get("request")
        if _index(request) is None:  # the CMS: render as usual
            return self.nodelist.render(context)
        key = (
            "fragment", self.name, translation.get_language(),
            *(_key_part(arg.resolve(context)) for arg in self.args),
        )
        store = _store(request)
        html = store.get(key)
        if html is None:
            html = store[key] = self.nodelist.render(context)
        return html


@register.tag
def fragment(parser, token):
    """``{% fragment "name" key1 key2 ... %}...{% endfragment %}``: while the static publisher builds the
    site, the output is rendered once per distinct key (and language) and reused on every page.

    The keys must name everything the fragment's output depends on besides the active language; in the
    CMS (no shared store) the fragment is rendered every time.
    """
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("fragment needs a name")
    name = bits[1].strip("\"'")
    args = [parser.compile_filter(b) for b in bits[2:]]
    nodelist = parser.parse(("endfragment",))
    parser.delete_first_token()
    return FragmentNode(name, args, nodelist)


@register.simple_tag(takes_context=True)
def nav_state(context, home, items):
    """What the main menu's markup depends on for this page: whether it is the home page and which
    menu items are marked current (same test as the template: ``item.path in page.path``)."""
    page = context.get("page")
    if not page:
        return (False, ())
    return (page.pk == getattr(home, "pk", None), tuple(i.pk for i in items if i.path in page.path))


@register.filter
def shown_with(file, page):
    """Whether a file a page uses may be listed (title and link) where the page is shown.

    A file an editor set stricter than the page (an internal PDF on a public page) is never published
    with it, so its title and a dead link must not be either (media.audience.may_show_with_page).
    """
    from wagtail.models import Page

    from cms.visibility import Audience, audience_of
    from media.audience import effective_audience, may_show_with_page

    if file is None:
        return False
    if not isinstance(page, Page):
        return effective_audience(file) == Audience.PUBLIC
    return may_show_with_page(file, audience_of(page))


@register.simple_tag(takes_context=True)
def site_identity(context):
    """The site's identity and mourning setting (``site_theme.models.SiteIdentity``): read once per
    request, or once per build while the static publisher renders (one store for every page)."""
    from site_theme.models import identity_for_site

    request = context.get("request")
    if request is None:
        return identity_for_site(Site.objects.filter(is_default_site=True).first())
    site = current_site(context)
    return _cache(request, ("identity", getattr(site, "pk", None)), lambda: identity_for_site(site))


@register.filter
def identity_organisation(identity):
    """The organisation's name in the active language (English, OpenCC's traditional, or as entered)."""
    return identity.organisation_in(translation.get_language()) if identity is not None else ""


@register.filter
def identity_address(identity):
    return identity.address_in(translation.get_language()) if identity is not None else ""


@register.filter
def utc_iso(value):
    """A time as JavaScript's ``Date.parse`` reads it everywhere: UTC, to the second (``2026-04-04T00:00:00Z``)."""
    from datetime import UTC

    if not value:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- page designs: the study library home, the exhibition's units, 红色云图's map ---------------------------
_CN_DIGITS = "零一二三四五六七八九"


@register.filter
def cn_ordinal(n):
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 99 → 九十九 (for 第一单元 …); other numbers stay digits."""
    n = int(n)
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    text = ("" if tens == 1 else _CN_DIGITS[tens]) + "十" if tens else ""
    return text + (_CN_DIGITS[ones] if ones else "")


@register.simple_tag(takes_context=True)
def library_sections(context, page, per_section=4):
    """The study library home's sections: per material type (in the page's language) the newest
    ``per_section`` materials, their count and the type's filter URL; and per topic the count.

    The materials are ``page.materials(user)``: the visibility rule (``cms.visibility``) decides what
    the reader (an anonymous visitor while the static site is built) may see, nothing here re-decides it.
    """
    from django.db.models import Count

    request = context.get("request")
    user = getattr(request, "user", None)
    materials = page.materials(user)
    base = page_href(context, page)
    types, topics = page._terms()
    by_type = dict(
        materials.order_by().values_list("material_type__translation_key").annotate(n=Count("pk")).values_list(
            "material_type__translation_key", "n"
        )
    )
    by_topic = dict(
        materials.order_by().values_list("topics__translation_key").annotate(n=Count("pk")).values_list(
            "topics__translation_key", "n"
        )
    )
    sections = []
    for term in types:
        count = by_type.get(term.translation_key, 0)
        if count:
            items = list(materials.filter(material_type__translation_key=term.translation_key)[:per_section])
            sections.append({"term": term, "count": count, "items": items, "url": f"{base}type/{term.slug}/"})
    return {
        "sections": sections,
        "type_counts": {t.pk: by_type.get(t.translation_key, 0) for t in types},
        "topic_counts": {t.pk: by_topic.get(t.translation_key, 0) for t in topics},
        "total": sum(by_type.values()),
    }


@register.filter
def count_of(counts, term):
    return counts.get(getattr(term, "pk", None), 0) if counts else 0


#: a heading that labels its own unit (第一单元 …, Unit 1: …): its label is kept and nothing is numbered
_OWN_LABEL = re.compile(r"^\s*(第[一二三四五六七八九十百〇零\d]+单元|unit\s*\d+)\s*[:：]?\s*(.*)$", re.I | re.S)
#: opening and closing units (序厅, 结语 …) are not numbered
_UNNUMBERED = re.compile(r"^\s*(序厅|序言|前言|引言|导言|结语|尾声|结束语|prologue|epilogue|introduction|conclusion)\b", re.I)


@register.simple_tag
def exhibition_units(sections):
    """An exhibition's blocks as a guided sequence of units: every text section with a heading starts a
    unit, and the pictures, videos and timelines after it belong to it (those before the first heading
    open the exhibition as an untitled first unit).

    Each unit has a ``label`` when its heading carries one (第一单元 开天辟地 → 第一单元, 开天辟地), else a
    ``number`` (第一单元 …) unless it is the opening or closing unit (序厅, 结语); when any heading labels
    itself, none is numbered, so an editor's own numbering is never contradicted.
    """
    units = []
    for block in sections or ():
        heading = (block.value.get("heading") or "").strip() if block.block_type == "section" else ""
        if heading or not units:
            units.append({"title": heading, "label": "", "number": None, "blocks": []})
        units[-1]["blocks"].append(block)
    own = False
    for unit in units:
        match = _OWN_LABEL.match(unit["title"])
        if match and match.group(2).strip():
            unit["label"], unit["title"], own = match.group(1).strip(), match.group(2).strip(), True
    number = 0
    for index, unit in enumerate(units, start=1):
        unit["anchor"] = f"unit-{index}"
        if not own and unit["title"] and not _UNNUMBERED.match(unit["title"]):
            number += 1
            unit["number"] = number
    for before, after in zip(units, units[1:], strict=False):
        before["next"], after["previous"] = after, before
    return units


_MAP_FILE = "site_theme/china-provinces.svg"


def _province_shapes() -> dict[str, str]:
    """{province code: SVG path data} from the map shipped with the theme (read once per process)."""
    from django.contrib.staticfiles import finders

    cached = getattr(_province_shapes, "_shapes", None)
    if cached is None:
        with open(finders.find(_MAP_FILE), encoding="utf-8") as f:
            svg = f.read()
        cached = _province_shapes._shapes = dict(re.findall(r'<path id="([a-z]+)" d="([^"]+)"/>', svg))
    return cached


#: shading steps of the map (CSS classes level-1 … level-4)
MAP_LEVELS = 4


@register.simple_tag(takes_context=True)
def china_map(context, page, current=None):
    """红色云图's map: every province with venues the reader may see is shaded by its count and links to
    the list filtered by that province (a static page: it works without JavaScript)."""
    from django.db.models import Count

    from cms.provinces import Province

    request = context.get("request")
    counts = dict(
        page.exhibitions(getattr(request, "user", None)).order_by().values_list("province").annotate(n=Count("pk"))
        .values_list("province", "n")
    )
    top = max(counts.values(), default=0)
    base = page_href(context, page)
    shapes = _province_shapes()
    provinces = []
    for code, name in Province.choices:
        if code not in shapes:
            continue
        n = counts.get(code, 0)
        level = -(-n * MAP_LEVELS // top) if n else 0
        provinces.append({"code": code, "name": name, "d": shapes[code], "count": n, "level": level,
                          "url": f"{base}province/{code}/" if n else "", "current": code == current})
    legend = []
    for level in range(1, MAP_LEVELS + 1):
        low, high = (level - 1) * top // MAP_LEVELS + 1, level * top // MAP_LEVELS
        if top and low <= high:
            legend.append({"level": level, "low": low, "high": high})
    return {"provinces": provinces, "legend": legend, "total": sum(counts.values())}


@register.simple_tag(takes_context=True)
def member_bar(context):
    """Who is signed in, for the members' pages the CMS serves: None for a visitor and always None while
    the static publisher renders (its requests are marked SHUYUAN_STATIC_BUILD and anonymous), so no
    published page carries a login state or anything per user."""
    from django.urls import NoReverseMatch, reverse

    from site_theme.account_views import display_name

    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or request.META.get("SHUYUAN_STATIC_BUILD") or not getattr(user, "is_authenticated", False):
        return None
    try:
        account_url = reverse("account")
    except NoReverseMatch:  # cms/urls.py has no account page yet: the password page is the account's page
        account_url = reverse("password_change")
    return {
        "name": display_name(user),
        "account_url": account_url,
        "logout_url": reverse("logout"),
    }
