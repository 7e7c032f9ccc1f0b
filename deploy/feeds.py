"""Feeds (RSS 2.0 and Atom per column), per-language sitemaps, the sitemap index and robots.txt.

These are ordinary Django views so that the CMS serves them too; the static publisher renders them
through the same URLs. They list public pages only (``cms.visibility.public_pages``), use absolute URLs
on the public site (``SHUYUAN_PUBLISH["BASE_URL"]``), and are deterministic: the same content gives the
same bytes, so re-publishing an unchanged site uploads nothing.

A language's sitemap is split by page id into chunks of ``SITEMAP_CHUNK`` ids: ``/<language>/sitemap.xml``
lists the pages with ids below it (on a small site, every page), ``/<language>/sitemap-<n>.xml`` the pages
with ids from n × ``SITEMAP_CHUNK`` (only chunks with pages exist), and the sitemap index
(``/sitemap.xml``) lists them all. A page never changes chunk, so publishing one edit rewrites one
chunk, whatever the size of the site, and no file exceeds the protocol's 50,000 URLs.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, time
from xml.sax.saxutils import escape

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models import ExpressionWrapper, F, IntegerField, Value
from django.http import Http404, HttpResponse
from django.utils import feedgenerator, translation
from wagtail.models import Page, Site

from cms import visibility
from site_theme.page_urls import PageURLs

from .conf import publish_setting

FEED_LIMIT = 30
#: page ids per sitemap file
SITEMAP_CHUNK = 2000
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def base_url() -> str:
    return publish_setting("BASE_URL").rstrip("/")


def absolute(url: str) -> str:
    return url if url.startswith(("http://", "https://")) else base_url() + url


def site_languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def _check_language(language: str) -> None:
    if language not in site_languages():
        raise Http404


def _cached_request(request):
    """Page URLs for many pages: look the site root paths up once."""
    if not hasattr(request, "_wagtail_cached_site_root_paths"):
        request._wagtail_cached_site_root_paths = Site.get_site_root_paths()
    return request


class BuildScope:
    """What one publish reads once and every step shares: the visibility rule as the tree stands when
    the publish starts (``cms.visibility.Rule``: its restrictions, hidden branches and untranslated
    copies are a few queries over the whole page table, too many to repeat per step and per page on a
    site of 100,000 pages) and the languages that have a sitemap. Made afresh by ``build_scope`` for
    each publish and dropped when it ends: nothing is kept from one publish to the next, so a
    restriction or a withdrawal made between two publishes is seen by the second."""

    def __init__(self) -> None:
        self.rule = visibility.Rule()
        self._sitemap_languages: list[str] | None = None

    def public_pages(self, queryset=None):
        queryset = Page.objects.all() if queryset is None else queryset
        return queryset.filter(self.rule.public())

    def sitemap_languages(self) -> list[str]:
        if self._sitemap_languages is None:
            self._sitemap_languages = _sitemap_languages(self.public_pages())
        return list(self._sitemap_languages)


_SCOPE: ContextVar[BuildScope | None] = ContextVar("shuyuan_publish_scope", default=None)


@contextmanager
def build_scope():
    """One publish's ``BuildScope`` (the publisher enters it for the whole publish); outside one (the CMS
    serving these URLs), every call reads the rule afresh."""
    scope = BuildScope()
    token = _SCOPE.set(scope)
    try:
        with visibility.one_rule(scope.rule):  # the pages' own listings read it too
            yield scope
    finally:
        _SCOPE.reset(token)


def current_scope() -> BuildScope | None:
    return _SCOPE.get()


def public_pages(queryset=None):
    """``cms.visibility.public_pages``, with the current publish's rule inside a ``build_scope``."""
    scope = _SCOPE.get()
    return visibility.public_pages(queryset) if scope is None else scope.public_pages(queryset)


class _StableDates:
    def latest_post_date(self):
        dates = [i[k] for i in self.items for k in ("updateddate", "pubdate") if i.get(k) is not None]
        return max(dates) if dates else _EPOCH


class StableRss(_StableDates, feedgenerator.Rss201rev2Feed):
    pass


class StableAtom(_StableDates, feedgenerator.Atom1Feed):
    pass


def feed_columns(language: str | None = None):
    """Public pages that have a feed: those that list articles (columns)."""
    qs = public_pages()
    if language:
        qs = qs.filter(locale__language_code=language)
    return [p for p in qs.specific() if callable(getattr(p, "articles", None))]


class ColumnFeed(Feed):
    """One instance serves every request (it is in the URLconf): keep no per-request state on it."""

    feed_type = StableRss
    filename = "rss.xml"

    def __call__(self, request, *args, **kwargs):
        with translation.override(kwargs.get("language")):
            return super().__call__(request, *args, **kwargs)

    def get_object(self, request, language, column_id, built: Page | None = None):
        """``built``: the static publisher's call, right after rendering this public column (the URLconf
        never passes it): the same page object, whose article list it already has in memory."""
        _check_language(language)
        if built is not None:
            return built
        page = public_pages().filter(pk=column_id, locale__language_code=language).first()
        page = page.specific if page else None
        if page is None or not callable(getattr(page, "articles", None)):
            raise Http404
        return page

    def title(self, obj):
        return obj.title

    def link(self, obj):
        return absolute(obj.get_url())

    def feed_url(self, obj):
        return absolute(f"/{obj.locale.language_code}/feeds/{obj.pk}/{self.filename}")

    def description(self, obj):
        return getattr(obj, "intro", "") or getattr(obj, "summary", "") or obj.title

    def items(self, obj):
        # the RSS and Atom feeds of a column list the same items: the static publisher renders both
        # with the same page object, which keeps them (one query, not two, for a column's feeds)
        items = obj.__dict__.get("_shuyuan_feed_items")
        if items is None:
            items = obj.__dict__["_shuyuan_feed_items"] = list(obj.articles(None)[:FEED_LIMIT])
        return items

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        return getattr(item, "summary", "") or ""

    def item_link(self, item):
        return absolute(item.get_url())

    def item_guid(self, item):
        return absolute(item.get_url())

    def item_pubdate(self, item):
        date = getattr(item, "date", None)
        if date is not None:
            return datetime.combine(date, time(0, 0), tzinfo=UTC)
        return item.first_published_at

    def item_updateddate(self, item):
        return item.last_published_at


class ColumnAtomFeed(ColumnFeed):
    feed_type = StableAtom
    filename = "atom.xml"
    subtitle = ColumnFeed.description


def feed_urls(page: Page) -> list[str]:
    """The feeds of a column."""
    language, pk = page.locale.language_code, page.pk
    return [f"/{language}/feeds/{pk}/rss.xml", f"/{language}/feeds/{pk}/atom.xml"]


def sitemap_chunk_of(page_id: int) -> int:
    return page_id // SITEMAP_CHUNK


def sitemap_url(language: str, chunk: int = 0) -> str:
    return f"/{language}/sitemap.xml" if chunk == 0 else f"/{language}/sitemap-{chunk}.xml"


def sitemap_chunks(language: str) -> list[int]:
    """The chunks after the first that hold public pages of ``language`` (one query)."""
    chunk = ExpressionWrapper(F("pk") / Value(SITEMAP_CHUNK), output_field=IntegerField())
    qs = public_pages().filter(locale__language_code=language, pk__gte=SITEMAP_CHUNK)
    return sorted(set(qs.order_by().annotate(chunk=chunk).values_list("chunk", flat=True).distinct()))


def sitemap(request, language: str, chunk: int = 0) -> HttpResponse:
    """The sitemap of a language (its first chunk; ``chunk``: a later one): every public page of that
    language in the chunk's id range, with its last publish date."""
    _check_language(language)
    request = _cached_request(request)
    chunk = int(chunk)
    pages = public_pages().filter(locale__language_code=language, pk__lt=(chunk + 1) * SITEMAP_CHUNK)
    if chunk:
        pages = pages.filter(pk__gte=chunk * SITEMAP_CHUNK)
        if not pages.exists():
            raise Http404
    pages = pages.order_by("path")
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    urls = PageURLs(request)
    custom = _types_with_own_urls()
    for pk, url_path, content_type, last_published_at in pages.values_list(
        "pk", "url_path", "content_type_id", "last_published_at"
    ):
        if content_type in custom:
            url = Page.objects.get(pk=pk).specific.get_url(request=request)
        else:
            url = urls.url(url_path)
        if url is None:
            continue
        lines.append(f"<url><loc>{escape(absolute(url))}</loc>")
        if last_published_at:
            lines.append(f"<lastmod>{last_published_at.date().isoformat()}</lastmod>")
        lines.append("</url>")
    lines.append("</urlset>\n")
    return HttpResponse("\n".join(lines), content_type="application/xml; charset=utf-8")


def _types_with_own_urls() -> set[int]:
    """Content types of page models that compute their own URLs (none in Shuyuan today)."""
    from django.contrib.contenttypes.models import ContentType
    from wagtail.models import get_page_models

    return {
        ContentType.objects.get_for_model(model).pk
        for model in get_page_models()
        if model.get_url_parts is not Page.get_url_parts
    }


def sitemap_languages() -> list[str]:
    """The site's languages that have a public home (computed once per publish in a ``build_scope``)."""
    scope = _SCOPE.get()
    return scope.sitemap_languages() if scope is not None else _sitemap_languages(public_pages())


def _sitemap_languages(public) -> list[str]:
    present = set(public.filter(depth=2).values_list("locale__language_code", flat=True))
    return [code for code in site_languages() if code in present]


def sitemap_index(request) -> HttpResponse:
    chunks = {code: [0, *sitemap_chunks(code)] for code in sitemap_languages()}
    return HttpResponse(sitemap_index_body(chunks), content_type="application/xml; charset=utf-8")


def sitemap_index_body(chunks: dict[str, list[int]]) -> str:
    """The sitemap index listing these sitemap files ({language: chunks, the first included}, in the
    order of the site's languages). The static publisher writes it from what the target holds."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for code, numbers in chunks.items():
        for chunk in numbers:
            lines.append(f"<sitemap><loc>{escape(absolute(sitemap_url(code, chunk)))}</loc></sitemap>")
    lines.append("</sitemapindex>\n")
    return "\n".join(lines)


def robots_txt(request) -> HttpResponse:
    lines = ["User-agent: *", "Allow: /", f"Sitemap: {absolute('/sitemap.xml')}"]
    lines += [f"Sitemap: {absolute(f'/{code}/sitemap.xml')}" for code in sitemap_languages()]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
