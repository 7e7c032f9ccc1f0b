"""Rendering: turn URLs of the CMS into static objects, through Django's own request handling.

Pages are served the way ``wagtail.views.serve`` serves them (``page.route``, the ``before_serve_page``
and ``on_serve_page`` hooks, ``page.serve``), with an anonymous request whose Site and site root paths
are looked up once per build instead of once per page: that lookup is most of the cost of a small
page. Everything else (feeds, sitemaps, robots.txt, documents, the root redirect) goes through a
``django.test.Client``, the full middleware stack. ``RENDER_MODE = "client"`` sends pages through the
client as well. Every response must be 200 (or an intended redirect, written as a redirect stub);
anything else fails the build with the URL and status.

Pages are scanned for the static files, image renditions and documents they reference; those are
published too, static files under content-hashed names (the page is rewritten to use them) so they can
be cached for a year. A rendition or document is published only when its file's effective audience
(``media.audience``) is public; anything else under the media URL that is not a rendition is refused.
Withdrawal needs nothing more: a page that stops being public leaves the build, assets no published page
refers to are collected (``manifest.collect_unreferenced``), and the next publish deletes them.
"""

from __future__ import annotations

import mimetypes
import posixpath
import re
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from html import escape
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.files.storage import default_storage
from django.http import Http404, HttpResponse
from django.http.request import validate_host
from django.test import Client, RequestFactory
from django.utils import translation
from django.views import defaults as default_views
from wagtail import hooks
from wagtail.models import Page, Site

from .conf import publish_setting
from .manifest import KIND_ASSET, KIND_PAGE, REFERENCED_ASSET_GROUP, RenderedObject, sha256_hex
from .preload import remember_listings

HTML = "text/html; charset=utf-8"
_ATTR_RE = re.compile(rb"""(?P<attr>\b(?:href|src|poster|data-src)=)(?P<q>["'])(?P<url>[^"'<>]+)(?P=q)""")
_SRCSET_RE = re.compile(rb"""\bsrcset=(?P<q>["'])(?P<val>[^"'<>]+)(?P=q)""")
_CSS_URL_RE = re.compile(rb"""url\(\s*(?P<q>["']?)(?P<url>[^"')]+)(?P=q)\s*\)""")
_HASH_IN_NAME = re.compile(r"\.[0-9a-f]{12}\.[^./]+$")
_LANGUAGE_SITEMAP = re.compile(r"/([^/]+)/sitemap\.xml")


class BuildError(Exception):
    """A URL did not render as a public 200 response; the build stops and nothing is uploaded."""


def page_group(page_id: int) -> str:
    return f"page:{page_id}"


def feed_group(page_id: int) -> str:
    return f"feed:{page_id}"


def sitemap_group(language: str, chunk: int = 0) -> str:
    """The group of a language's sitemap (``chunk``: a later file of it, ``deploy.feeds``)."""
    return f"sitemap:{language}" if chunk == 0 else f"sitemap:{language}:{chunk}"


SITE_GROUPS = ("robots", "404", "root", "redirects")


def output_path(url: str) -> str:
    """Object path of a URL path: ``/zh-hans/news/`` becomes ``zh-hans/news/index.html``."""
    path = unquote(urlsplit(url).path).lstrip("/")
    if not path or path.endswith("/"):
        return path + "index.html"
    return path


def redirect_stub(location: str) -> bytes:
    loc = escape(location, quote=True)
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="0; url={loc}"><link rel="canonical" href="{loc}">'
        f'<meta name="robots" content="noindex"></head><body><a href="{loc}">{loc}</a></body></html>'
    ).encode()


class PackedObject(RenderedObject):
    """A rendered text object whose body is kept compressed until it is read.

    A build holds every body it rendered until the upload (a full build of 100,000 pages, about 1.5 GB of
    HTML); compressed (zlib level 1, ~10x for our pages) the build's memory stays well under that. Reading
    ``body`` gives the bytes back; the size and hash are those of the bytes, as for ``RenderedObject``.
    Pickled (from a render worker to the publishing process) it stays compressed.
    """

    __slots__ = ("_packed", "_size")

    @property
    def body(self) -> bytes:
        return zlib.decompress(self._packed)

    @body.setter
    def body(self, value: bytes) -> None:
        self._packed = zlib.compress(value, 1)
        self._size = len(value)

    def entry(self):
        sha = self.sha256  # reads the body once
        entry = RenderedObject(
            path=self.path, body=b"", content_type=self.content_type, cache_control=self.cache_control,
            kind=self.kind, group=self.group, url=self.url, refs=self.refs, _sha256=sha,
        ).entry()
        return replace(entry, size=self._size)

    def __reduce__(self):
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "body"}
        return _unpack_pickled, (values, self._packed, self._size)


def _unpack_pickled(values: dict, packed: bytes, size: int) -> PackedObject:
    obj = PackedObject(body=b"", **values)
    obj._packed, obj._size = packed, size
    return obj


#: bodies smaller than this are kept as they are (not worth compressing)
PACK_MIN_BYTES = 2048


def pack(obj: RenderedObject) -> RenderedObject:
    """``obj`` with its body compressed in memory if it is text worth compressing."""
    if type(obj) is not RenderedObject or len(obj.body) < PACK_MIN_BYTES:
        return obj
    ctype = obj.content_type
    if not (ctype.startswith("text/") or "xml" in ctype or "json" in ctype or "javascript" in ctype):
        return obj
    return PackedObject(**{f.name: getattr(obj, f.name) for f in fields(obj)})


@dataclass
class BuildOutput:
    objects: dict[str, RenderedObject] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    pages_rendered: int = 0

    def add(self, obj: RenderedObject) -> None:
        self.objects[obj.path] = pack(obj)


class Renderer:
    """Renders pages and other URLs of one build. Not thread-safe; one per build."""

    def __init__(self, *, mode: str | None = None, output: BuildOutput | None = None) -> None:
        self.mode = mode or publish_setting("RENDER_MODE")
        self.out = output or BuildOutput()
        self.factory = RequestFactory()
        self.html_cache = publish_setting("HTML_CACHE_CONTROL")
        self.asset_cache = publish_setting("ASSET_CACHE_CONTROL")
        self.media_cache = publish_setting("MEDIA_CACHE_CONTROL")
        self._assets: dict[str, str | None] = {}  # source URL -> published path (None: not publishable)
        #: the build's ``deploy.affected.Plan`` when the publisher gives it (None: render everything asked):
        #: a listing's routes (``Plan.routes``) and the sitemap chunks to rebuild come from it
        self.plan = None
        #: {language: the chunks of its sitemap the target holds} (the last manifest's ``sitemap:`` groups),
        #: when the publisher gives them: an incremental build writes the sitemap index from them and the
        #: chunks it rebuilds, instead of asking the database which chunks of the whole site have pages
        self.published_sitemaps: dict[str, set[int]] | None = None
        self.static_url = settings.STATIC_URL or "/static/"
        self.media_url = settings.MEDIA_URL or "/media/"

    # -- requests -------------------------------------------------------------------------------------
    @cached_property
    def site(self) -> Site | None:
        return Site.objects.filter(is_default_site=True).select_related("root_page").first() or (
            Site.objects.select_related("root_page").first()
        )

    @cached_property
    def site_root_paths(self):
        return Site.get_site_root_paths()

    @cached_property
    def host(self) -> str:
        allowed = settings.ALLOWED_HOSTS or ["localhost", "127.0.0.1", "[::1]"]
        candidates = [self.site.hostname] if self.site else []
        candidates += [h for h in allowed if h and h not in ("*",) and not h.startswith(".")]
        candidates.append("localhost")
        for host in candidates:
            if validate_host(host, allowed) or (settings.DEBUG and host in ("localhost", "127.0.0.1")):
                return host
        return "localhost"

    @cached_property
    def theme_store(self) -> dict:
        """One store for the theme's lookups (home pages, menus, translations, URLs) for the whole build:
        none of them depends on the page being rendered, and the ``SiteIndex`` answers them for every
        page of the site from a few queries made once."""
        from site_theme.site_index import SiteIndex
        from site_theme.templatetags.theme_tags import INDEX_KEY

        return {INDEX_KEY: SiteIndex(user=None)}

    def prepare(self) -> None:
        """Load what every page needs (before worker processes fork and share it): a large build, so the
        theme's index loads the whole site at once."""
        from site_theme.templatetags.theme_tags import INDEX_KEY

        _ = (
            self.site, self.site_root_paths, self.host, self.theme_store, self._url_request, self._on_serve_hooks,
            self._public_file_ids,
        )
        self.theme_store[INDEX_KEY].load_all()

    @cached_property
    def _url_request(self):
        return self.request("/")

    @cached_property
    def client(self) -> Client:
        return Client(HTTP_HOST=self.host, SHUYUAN_STATIC_BUILD="1", raise_request_exception=True)

    def request(self, path: str, language: str | None = None):
        request = self.factory.get(path, HTTP_HOST=self.host, SHUYUAN_STATIC_BUILD="1")
        request.user = AnonymousUser()
        request.session = {}
        if self.site is not None:
            request._wagtail_site = self.site
        request._wagtail_cached_site_root_paths = self.site_root_paths
        # The theme caches per-request lookups (home page, menu); those don't depend on the page, so
        # one store serves the whole build.
        request._shuyuan_theme_cache = self.theme_store
        request.LANGUAGE_CODE = language or settings.LANGUAGE_CODE
        return request

    # -- pages ----------------------------------------------------------------------------------------
    def page_url(self, page: Page) -> str | None:
        from site_theme.templatetags.theme_tags import INDEX_KEY

        return self.theme_store[INDEX_KEY].url_of(page, self._url_request)

    def render_page(self, page: Page, routes: Iterable[str] | None = None) -> list[RenderedObject]:
        """The page itself and every sub-route it declares (pagination, filters); with ``routes``, only
        those (``""`` is the page itself: ``Plan.routes``, a listing where one edited item lands).

        Rendering every route asks the page for its items once and keeps them (``remember_listings``);
        a few routes ask the database for theirs (a page of a listing is one small query), so that one
        edit in a column of 10,000 articles does not load them all."""
        page = page.specific_deferred if type(page) is Page else page
        url = self.page_url(page)
        if url is None:
            return []
        if routes is None and self.plan is not None and not self.plan.full:
            routes = self.plan.routes.get(page.pk)
        if routes is not None:
            routes = sorted(set(routes))
        else:
            remember_listings(page)
            routes = [""]
            static_routes = getattr(page, "static_routes", None)
            if callable(static_routes):
                routes += list(static_routes(None))
        objs = []
        for route in routes:
            sub_url = url + route
            body = self._serve_page(page, sub_url, route)
            objs.append(self._html_object(sub_url, body, page_group(page.pk)))
        self.out.pages_rendered += 1
        return objs

    def _serve_page(self, page: Page, url: str, route: str) -> bytes:
        language = page.locale.language_code
        if self.mode == "client":
            return self.fetch(url, expect_html=True)
        request = self.request(url, language)
        components = [c for c in route.split("/") if c]
        with translation.override(language):
            try:
                page_, args, kwargs = page.route(request, components)
            except Http404 as e:
                raise BuildError(f"{url}: HTTP 404 (page does not route)") from e
            response = None
            for fn in hooks.get_hooks("before_serve_page"):
                result = fn(page_, request, args, kwargs)
                if isinstance(result, HttpResponse):
                    response = result
                    break
            if response is None:
                chain = _serve_chain
                for fn in reversed(self._on_serve_hooks):
                    chain = fn(chain)
                response = chain(page_, request, args, kwargs)
            if hasattr(response, "render"):
                response = response.render()
        return self._check(url, response, expect_html=True)

    @cached_property
    def _on_serve_hooks(self):
        # Wagtail's view-restriction check, our "a translation follows its source" check and the secrecy
        # hold cost queries per page and can only pass here: the build renders public pages only (which
        # apply all three rules), and checks.check_secrecy verifies that independently afterwards.
        from wagtail.wagtail_hooks import check_view_restrictions

        from cms.secrecy.wagtail_hooks import held_pages_are_not_served
        from cms.wagtail_hooks import translations_follow_their_source

        skip = {check_view_restrictions, translations_follow_their_source, held_pages_are_not_served}
        return [fn for fn in hooks.get_hooks("on_serve_page") if fn not in skip]

    # -- other URLs ---------------------------------------------------------------------------------------
    def fetch(self, url: str, *, expect_html: bool = False, allow_redirect: bool = False) -> bytes:
        response = self.client.get(url)
        return self._check(url, response, expect_html=expect_html, allow_redirect=allow_redirect)

    def _check(self, url, response, *, expect_html=False, allow_redirect=False) -> bytes:
        status = response.status_code
        if status in (301, 302, 307, 308) and (allow_redirect or expect_html):
            location = response["Location"]
            if urlsplit(location).path.startswith(("/admin", "/accounts")):
                raise BuildError(f"{url}: redirects to a login/admin page ({location}): not public")
            return redirect_stub(location)
        if status != 200:
            raise BuildError(f"{url}: HTTP {status}")
        if getattr(response, "streaming", False):
            return b"".join(response.streaming_content)
        return response.content

    def add_url(self, url: str, group: str, content_type: str | None = None, *, allow_redirect=False):
        sitemap = _LANGUAGE_SITEMAP.fullmatch(url)
        if sitemap and group == sitemap_group(sitemap[1]):
            return self._add_sitemaps(sitemap[1], url, group)
        if url == "/sitemap.xml" and self._incremental and self.published_sitemaps is not None:
            return self._add_sitemap_index(url, group)
        self._add_url(url, group, content_type, allow_redirect=allow_redirect)

    @property
    def _incremental(self) -> bool:
        return self.plan is not None and not self.plan.full

    def _add_sitemaps(self, language: str, url: str, group: str) -> None:
        """A language's sitemap files (``deploy.feeds``): every one, or on an incremental build those of
        the chunks the plan rebuilds (``Plan.sitemap_chunks``; the others keep their objects; a chunk
        left with no public page of the language has none)."""
        from .feeds import sitemap, sitemap_chunks, sitemap_url

        self._add_url(url, group)  # the first chunk: always (see Plan.sitemap_chunks)
        chunks = sorted(self.plan.sitemap_chunks() - {0}) if self._incremental else sitemap_chunks(language)
        for chunk in chunks:
            chunk_url = sitemap_url(language, chunk)
            # the view itself: the CMS's URLconf need not route the later chunks for the build to work
            try:
                response = sitemap(self.request(chunk_url, language), language, chunk)
            except Http404:  # no public page of this language in that chunk (any more)
                continue
            self.out.add(
                RenderedObject(
                    path=output_path(chunk_url), body=self._check(chunk_url, response),
                    content_type=response["Content-Type"], cache_control=self.html_cache, kind=KIND_PAGE,
                    group=sitemap_group(language, chunk), url=chunk_url,
                )
            )

    def _add_sitemap_index(self, url: str, group: str) -> None:
        """The sitemap index of an incremental build: the sitemap files the target holds, with the chunks
        of the languages this build rebuilt replaced by what it rendered (render them first)."""
        from .feeds import sitemap_index_body, sitemap_languages

        rebuilt = self.plan.sitemap_chunks() | {0}
        rendered: dict[str, set[int]] = {}
        for obj in self.out.objects.values():
            kind, _sep, rest = obj.group.partition(":")
            if kind == "sitemap":
                language, _sep, chunk = rest.partition(":")
                rendered.setdefault(language, set()).add(int(chunk or 0))
        chunks = {}
        for code in sitemap_languages():
            held = self.published_sitemaps.get(code, set())
            if code in rendered:
                held = (held - rebuilt) | rendered[code]
            chunks[code] = sorted(held | {0})
        self.out.add(
            RenderedObject(
                path=output_path(url), body=sitemap_index_body(chunks).encode(),
                content_type="application/xml; charset=utf-8", cache_control=self.html_cache, kind=KIND_PAGE,
                group=group, url=url,
            )
        )

    def _add_url(self, url: str, group: str, content_type: str | None = None, *, allow_redirect=False):
        response = self.client.get(url)
        body = self._check(url, response, allow_redirect=allow_redirect)
        ctype = content_type or response.get("Content-Type") or HTML
        if response.status_code != 200:
            ctype = HTML
        if ctype.startswith("text/html"):
            return self.out.add(self._html_object(url, body, group))
        self.out.add(
            RenderedObject(
                path=output_path(url), body=body, content_type=ctype, cache_control=self.html_cache,
                kind=KIND_PAGE, group=group, url=url,
            )
        )

    def add_feeds(self, page: Page, group: str) -> None:
        """The column's feeds, rendered by the feed views with the page this build just rendered (its
        article list is in memory); in ``client`` mode through the full stack like other URLs."""
        from .feeds import feed_urls

        language = page.locale.language_code
        for url, view in zip(feed_urls(page), (self._rss_view, self._atom_view), strict=True):
            if self.mode == "client":
                self.add_url(url, group)
                continue
            response = view(self.request(url, language), language=language, column_id=page.pk, built=page)
            body = self._check(url, response)
            self.out.add(
                RenderedObject(
                    path=output_path(url), body=body, content_type=response["Content-Type"],
                    cache_control=self.html_cache, kind=KIND_PAGE, group=group, url=url,
                )
            )

    @cached_property
    def _rss_view(self):
        from .feeds import ColumnFeed

        return ColumnFeed()

    @cached_property
    def _atom_view(self):
        from .feeds import ColumnAtomFeed

        return ColumnAtomFeed()

    def add_redirects(self) -> None:
        """Editors' redirects the public may follow (``deploy.redirects``), each a small page at its old
        address (``/old/path/index.html``: static hosts serve ``/old/path`` from it too)."""
        from .redirects import GROUP, static_redirects

        for redirect in static_redirects().redirects:
            self._html_object(redirect.urls[1], redirect_stub(redirect.location), GROUP)

    def add_404(self, language: str) -> None:
        """``404.html``: the CDN's / bucket's error document (the only place a 404 is intended)."""
        request = self.request(f"/{language}/404/", language)
        with translation.override(language):
            response = default_views.page_not_found(request, exception=None)
        self._html_object("/404.html", response.content, "404")

    # -- references ------------------------------------------------------------------------------------
    def _html_object(self, url: str, body: bytes, group: str) -> RenderedObject:
        body, refs = self._rewrite_references(body, base_url=url)
        obj = RenderedObject(
            path=output_path(url), body=body, content_type=HTML, cache_control=self.html_cache,
            kind=KIND_PAGE, group=group, url=url, refs=tuple(refs),
        )
        self.out.add(obj)
        return obj

    def _rewrite_references(self, body: bytes, base_url: str, css: bool = False) -> tuple[bytes, set[str]]:
        refs: set[str] = set()
        publishable = self._publishable_prefixes

        def publish_ref(raw: bytes) -> bytes:
            if not css and raw.startswith(b"/") and not raw.startswith(publishable) and not raw.startswith(b"//"):
                return raw  # a link to a page: nothing to publish
            url = raw.decode("utf-8", "replace")
            published = self.asset(url, base_url)
            if published is None:
                return raw
            refs.add(published)
            if url.startswith(self.static_url) or (css and not url.startswith("/")):
                # static files move to their hashed names; keep relative references relative
                new = "/" + published
                if css and not url.startswith("/"):
                    new = posixpath.relpath(new, posixpath.dirname("/" + output_path(base_url)))
                return new.encode()
            return raw

        if css:
            body = _CSS_URL_RE.sub(
                lambda m: b"url(" + m["q"] + publish_ref(m["url"]) + m["q"] + b")", body
            )
            return body, refs
        body = _ATTR_RE.sub(lambda m: m["attr"] + m["q"] + publish_ref(m["url"]) + m["q"], body)

        def srcset(m):
            parts = []
            for candidate in m["val"].split(b","):
                bits = candidate.strip().split(None, 1)
                if bits:
                    bits[0] = publish_ref(bits[0])
                parts.append(b" ".join(bits))
            return b"srcset=" + m["q"] + b", ".join(parts) + m["q"]

        body = _SRCSET_RE.sub(srcset, body)
        return body, refs

    @cached_property
    def _publishable_prefixes(self) -> tuple[bytes, ...]:
        return (self.static_url.encode(), self.media_url.encode(), b"/documents/")

    def asset(self, url: str, base_url: str = "/") -> str | None:
        """Publish the static file, rendition or document behind ``url``; return its object path."""
        split = urlsplit(url)
        if split.scheme or split.netloc or url.startswith(("#", "mailto:", "tel:", "data:", "javascript:")):
            return None
        path = split.path
        if not path.startswith("/"):
            path = posixpath.normpath(posixpath.join(posixpath.dirname(base_url), path))
        if path in self._assets:
            return self._assets[path]
        self._assets[path] = None  # guards against reference cycles between CSS files
        published = None
        if path.startswith(self.static_url):
            published = self._static_asset(path)
        elif path.startswith(self.media_url):
            published = self._media_asset(path)
        elif path.startswith("/documents/"):
            published = self._document_asset(path)
        self._assets[path] = published
        return published

    def _add_asset(self, path: str, body: bytes, content_type: str, cache: str, url: str, refs=()) -> str:
        self.out.add(
            RenderedObject(
                path=path, body=body, content_type=content_type, cache_control=cache,
                kind=KIND_ASSET, group=REFERENCED_ASSET_GROUP, url=url, refs=tuple(refs),
            )
        )
        return path

    def _static_asset(self, path: str) -> str | None:
        name = unquote(path[len(self.static_url) :])
        body = _read_static(name)
        if body is None:
            self.out.warnings.append(f"missing static file {path}")
            return None
        ctype = _guess_type(name)
        refs: set[str] = set()
        if ctype.startswith("text/css"):
            body, refs = self._rewrite_references(body, base_url=path, css=True)
        base, ext = posixpath.splitext(name)
        hashed = name if _HASH_IN_NAME.search(name) else f"{base}.{sha256_hex(body)[:12]}{ext}"
        published = posixpath.join(self.static_url.strip("/"), hashed)
        return self._add_asset(published, body, ctype, self.asset_cache, "/" + published, refs)

    def _media_asset(self, path: str) -> str | None:
        name = unquote(path[len(self.media_url) :])
        if name.startswith("original_images/") or name.startswith("documents/"):
            # originals and raw document files are only published through their public views
            self.out.warnings.append(f"skipped direct media link {path}")
            return None
        if not self._public_rendition(name):
            self.out.warnings.append(f"not publishing {path}: not a rendition of a public image")
            return None
        try:
            with default_storage.open(name, "rb") as fh:
                body = fh.read()
        except (FileNotFoundError, OSError):
            self.out.warnings.append(f"missing media file {path}")
            return None
        published = path.lstrip("/")
        return self._add_asset(published, body, _guess_type(name), self.media_cache, path)

    @cached_property
    def _public_file_ids(self) -> dict[str, frozenset[int]]:
        """Ids of the images and documents anyone may fetch (``media.audience``), read once per build."""
        from wagtail.documents import get_document_model
        from wagtail.images import get_image_model

        from media.audience import public_files

        return {
            kind: frozenset(public_files(model._default_manager.all()).values_list("pk", flat=True))
            for kind, model in (("image", get_image_model()), ("document", get_document_model()))
        }

    def _public_rendition(self, name: str) -> bool:
        """Whether the media file ``name`` is a rendition of an image whose effective audience is public
        (renditions are made while pages render, so they are looked up one by one)."""
        from wagtail.images import get_image_model

        rendition_model = get_image_model().get_rendition_model()
        image_ids = set(rendition_model.objects.filter(file=name).values_list("image_id", flat=True))
        return bool(image_ids) and image_ids <= self._public_file_ids["image"]

    def _document_asset(self, path: str) -> str | None:
        from wagtail.documents import get_document_model

        bits = path.split("/")
        try:
            doc = get_document_model().objects.get(pk=int(bits[2]))
        except (IndexError, ValueError, get_document_model().DoesNotExist):
            self.out.warnings.append(f"link to unknown document {path}")
            return None
        if doc.pk not in self._public_file_ids["document"]:
            self.out.warnings.append(f"not publishing non-public document {path}")
            return None
        response = self.client.get(path)
        if response.status_code != 200:
            self.out.warnings.append(f"not publishing document {path}: HTTP {response.status_code}")
            return None
        body = b"".join(response.streaming_content) if response.streaming else response.content
        ctype = response.get("Content-Type") or _guess_type(path)
        return self._add_asset(path.lstrip("/"), body, ctype, self.media_cache, path)


def _serve_chain(page, request, args, kwargs):
    return page.serve(request, *args, **kwargs)


def _read_static(name: str) -> bytes | None:
    found = finders.find(name)
    if found:
        with open(found, "rb") as fh:
            return fh.read()
    try:
        with staticfiles_storage.open(name, "rb") as fh:
            return fh.read()
    except (FileNotFoundError, OSError, NotImplementedError):
        return None


def _guess_type(name: str) -> str:
    ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if ctype.startswith("text/") or ctype in ("application/javascript", "image/svg+xml", "application/json"):
        ctype += "; charset=utf-8"
    return ctype


def render_pages(renderer: Renderer, pages: Iterable[Page], progress: Callable[[int], None] | None = None):
    for page in pages:
        renderer.render_page(page)
        if progress:
            progress(1)
