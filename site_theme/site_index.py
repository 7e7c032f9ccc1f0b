"""Page-independent data for the theme, loaded once for many pages.

The CMS renders one page per request and looks up what the header, menu, breadcrumbs and language
switcher need with a few queries per request (``theme_tags``). The static publisher renders every page
of the site in one run; for it, ``SiteIndex`` loads the same data for the whole site with a handful of
queries (the pages one audience may read, grouped by translation and by parent; the home page of each
language; the pages that have children, for breadcrumbs) and answers every page from memory.

What is visible comes from ``cms.visibility.pages_visible_to``: the index never decides visibility
itself. Both paths give the same answers (tests render pages both ways and compare bytes).

An incremental publish renders a handful of pages of a site that may hold 100,000: loading every page's
row for them would make one edit cost as much as the site is large. So the index starts with what every
page shows (menus, homes, the pages that have children) and loads the translations of a page when it is
first asked for them; after ``EAGER_AFTER`` such look-ups (a large build) it loads the whole site at once
(``load_all``, which the publisher also calls before forking its render workers).
"""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from wagtail.models import Locale, Page

from cms import visibility

from .page_urls import PageURLs

STEPLEN = Page.steplen
#: look-ups of one translation group after which the index loads every visible page at once
EAGER_AFTER = 200
_FIELDS = ("pk", "translation_key", "locale_id", "path", "depth", "show_in_menus", "url_path", "content_type_id")


class SiteIndex:
    """What the theme needs about the whole site, for one audience (``user``), in memory."""

    def __init__(self, user=None) -> None:
        from cms.models import HomePage

        self.user = user
        self.locales: dict[int, Locale] = {loc.pk: loc for loc in Locale.objects.all()}
        self.locale_by_code = {loc.language_code: loc for loc in self.locales.values()}
        # a publish's rule (deploy.feeds.build_scope), read once for the whole build; else a new one
        from deploy.feeds import current_scope

        scope = current_scope()
        rule = scope.rule if scope is not None else visibility.Rule()
        self._visible = visibility.pages_visible_to(user, rule=rule).filter(depth__gt=1)
        #: translation_key -> {locale_id: page id}, visible pages only (the keys loaded so far)
        self.translations: dict = defaultdict(dict)
        self._loaded_keys: set = set()
        self._complete = False
        self._lookups = 0
        #: parent path -> ids of visible children shown in menus, in tree order
        self.menu_children: dict[str, list[int]] = defaultdict(list)
        self._url_paths: dict[int, str] = {}
        self._content_types: dict[int, int] = {}
        for pk, _key, _locale_id, path, depth, _in_menu, url_path, ct in (
            self._visible.filter(show_in_menus=True).order_by("path").values_list(*_FIELDS)
        ):
            self._url_paths[pk] = url_path
            self._content_types[pk] = ct
            self.menu_children[path[: (depth - 1) * STEPLEN]].append(pk)
        # every page with children, visible or not, for breadcrumbs (ancestors are shown as they are)
        self._parents_by_path: dict[str, int] = dict(
            Page.objects.filter(depth__gt=1, numchild__gt=0).values_list("path", "pk")
        )
        self.homes: dict[int, Page] = {}
        # the homes this reader may read (an untranslated copy of the home is not one)
        for home in visibility.pages_visible_to(user, HomePage.objects.all(), rule=rule).order_by("path"):
            home.locale = self.locales.get(home.locale_id)
            self.homes.setdefault(home.locale_id, home)  # the first, as ``HomePage.objects...first()``
        self._pages: dict[int, Page] = {}
        self._urls: dict[int, str | None] = {}
        self._urls_for: PageURLs | None = None

    def load_all(self) -> None:
        """Load every visible page's translations and URL path (a large build: a few queries in all)."""
        if self._complete:
            return
        self.translations = defaultdict(dict)
        for pk, key, locale_id, _path, _depth, _in_menu, url_path, ct in self._visible.order_by("path").values_list(
            *_FIELDS
        ):
            self._url_paths[pk] = url_path
            self._content_types[pk] = ct
            if key is not None:
                self.translations[key].setdefault(locale_id, pk)
        self._complete = True

    def _translations_of(self, key) -> dict:
        """{locale_id: page id} of the visible pages with this translation key (loaded when first asked)."""
        if not self._complete and key not in self._loaded_keys:
            self._lookups += 1
            if self._lookups > EAGER_AFTER:
                self.load_all()
            else:
                self._loaded_keys.add(key)
                for pk, _key, locale_id, _path, _depth, _in_menu, url_path, ct in (
                    self._visible.filter(translation_key=key).order_by("path").values_list(*_FIELDS)
                ):
                    self._url_paths[pk] = url_path
                    self._content_types[pk] = ct
                    self.translations[key].setdefault(locale_id, pk)
        return self.translations.get(key, {})

    # -- pages ------------------------------------------------------------------------------------------
    def pages(self, ids) -> list[Page]:
        """Plain ``Page`` instances for these ids (loaded once, in one query for the missing ones)."""
        missing = [pk for pk in ids if pk not in self._pages]
        if missing:
            for page in Page.objects.filter(pk__in=missing):
                page.locale = self.locales.get(page.locale_id)
                self._pages[page.pk] = page
        return [self._pages[pk] for pk in ids if pk in self._pages]

    def _page_urls(self, request) -> PageURLs:
        # every request of a build is for the same site (the publisher sets it on each request)
        if self._urls_for is None:
            self._urls_for = PageURLs(request)
        return self._urls_for

    def url_of(self, page: Page, request) -> str | None:
        """``page.get_url(request)``, remembered for the rest of the build."""
        try:
            return self._urls[page.pk]
        except KeyError:
            if type(page).get_url_parts is Page.get_url_parts and "url_path" in page.__dict__:
                url = self._page_urls(request).url(page.url_path)
            else:  # a page type with its own routing
                url = page.get_url(request=request)
            self._urls[page.pk] = url
            return url

    def url(self, pk: int, request) -> str | None:
        """The URL of a visible page, as ``{% pageurl %}`` gives it, without loading the page."""
        if pk not in self._urls:
            page = self._pages.get(pk)
            if page is not None:
                return self.url_of(page, request)
            model = ContentType.objects.get_for_id(self._content_types[pk]).model_class()
            if model is not None and model.get_url_parts is not Page.get_url_parts:
                return self.url_of(Page.objects.get(pk=pk).specific, request)
            self._urls[pk] = self._page_urls(request).url(self._url_paths[pk])
        return self._urls[pk]

    # -- what the theme asks ----------------------------------------------------------------------------
    def home(self, locale_id: int | None, language: str | None = None):
        if locale_id is None:
            loc = self.locale_by_code.get(language or settings.LANGUAGE_CODE)
            locale_id = loc.pk if loc else None
        return self.homes.get(locale_id)

    def nav(self, home: Page) -> list[Page]:
        return self.pages(self.menu_children.get(home.path, ()))

    def breadcrumbs(self, page: Page) -> list[Page]:
        ids = []
        for depth in range(2, page.depth):
            pk = self._parents_by_path.get(page.path[: depth * STEPLEN])
            if pk is not None:
                ids.append(pk)
        return self.pages(ids)

    def alternates(self, page: Page | None, request) -> list[dict]:
        translations = {}
        key = getattr(page, "translation_key", None) if page is not None else None
        if key is not None:
            translations = self._translations_of(key)
        items = []
        for code, name in settings.LANGUAGES:
            loc = self.locale_by_code.get(code)
            if loc is None:
                continue
            if loc.pk in translations:
                url = self.url(translations[loc.pk], request)
            elif loc.pk in self.homes:
                url = self.url_of(self.homes[loc.pk], request)
            else:
                continue
            if url is None:  # a page outside every site
                continue
            items.append(
                {
                    "code": code,
                    "name": name,
                    "url": url,
                    "is_translation": loc.pk in translations,
                    "current": page is not None and page.locale_id == loc.pk,
                }
            )
        return items
