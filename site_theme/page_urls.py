"""Page URLs for many pages at once, without loading the pages.

``page.get_url(request)`` costs a URL ``reverse()`` per page (and the caller must load a ``Page``).
Sitemaps and the static publisher need the URL of every page, so ``PageURLs`` does what Wagtail's
``Page.get_url_parts`` / ``get_url`` do from a page's ``url_path`` alone, and replaces the reverse of
``wagtail_serve`` with the prefix it reversed once per language and the same quoting ``reverse()``
applies. Anything unusual (a page under several sites, a path the serve pattern wouldn't match, a
prefix that doesn't check out against a real reverse) takes Wagtail's own path.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from wagtail.coreutils import WAGTAIL_APPEND_SLASH, get_supported_content_language_variant
from wagtail.models import Page, Site

_SERVE_PATH = re.compile(r"(?:[\w\-]+/)*" if WAGTAIL_APPEND_SLASH else r"[\w\-/]*")
_SAFE = "!$&'()*+,;=" + "/~:@"  # django.urls.resolvers: RFC3986_SUBDELIMS + "/~:@"


class PageURLs:
    """``url(url_path)`` == ``page.get_url(request=request)`` for the page with that ``url_path``."""

    def __init__(self, request) -> None:
        self.request = request
        self._probe = Page()
        self.root_paths = self._probe._get_site_root_paths(request)
        self.num_sites = len({srp[0] for srp in self.root_paths})
        self.current_site = Site.find_for_request(request) if request is not None else None
        self._prefixes: dict[str, str | None] = {}

    def _slow(self, url_path: str) -> str | None:
        self._probe.url_path = url_path
        return self._probe.get_url(request=self.request, current_site=self.current_site)

    def _prefix(self, language_code: str, sample_rest: str, url_path: str) -> str | None:
        """``reverse("wagtail_serve", args=("",))`` in this language, if it predicts ``reverse`` right."""
        if language_code not in self._prefixes:
            prefix = None
            try:
                with translation.override(language_code):
                    prefix = reverse("wagtail_serve", args=("",))
            except NoReverseMatch:
                prefix = None
            if prefix is not None and self._fast_path(prefix, sample_rest) != self._slow_page_path(url_path):
                prefix = None
            self._prefixes[language_code] = prefix
        return self._prefixes[language_code]

    def _slow_page_path(self, url_path: str) -> str | None:
        self._probe.url_path = url_path
        parts = self._probe.get_url_parts(request=self.request)
        return parts[2] if parts else None

    @staticmethod
    def _fast_path(prefix: str, rest: str) -> str:
        page_path = quote(prefix + rest, safe=_SAFE)
        if not WAGTAIL_APPEND_SLASH and page_path != "/":
            page_path = page_path.rstrip("/")
        return page_path

    def url(self, url_path: str) -> str | None:
        possible = [srp for srp in self.root_paths if url_path.startswith(srp.root_path)]
        if not possible:
            return None
        if len({srp[0] for srp in possible}) > 1:
            return self._slow(url_path)
        site_id, root_path, root_url, language_code = possible[0]
        if getattr(settings, "WAGTAIL_I18N_ENABLED", False):
            try:
                if get_supported_content_language_variant(translation.get_language()) == language_code:
                    language_code = translation.get_language()
            except LookupError:
                pass
        rest = url_path[len(root_path) :]
        if not _SERVE_PATH.fullmatch(rest):
            return self._slow(url_path)
        prefix = self._prefix(language_code, rest, url_path)
        if prefix is None:
            return self._slow(url_path)
        page_path = self._fast_path(prefix, rest)
        if (self.current_site is not None and site_id == self.current_site.id) or self.num_sites == 1:
            return page_path
        return root_url + page_path
