"""Turn stored content into API JSON for one caller, with a constant number of queries.

StreamField bodies and rich text are stored as JSON and database HTML that name images, documents
and pages by id. ``Resolver`` walks the raw values of every object in a listing first, collects
those ids, and loads each kind once (images with their renditions in two queries, documents in one,
linked pages in one), so a listing costs the same number of queries whatever its page size.

Every reference is resolved *for the caller*: an image or document whose effective audience
(``media.audience``: the editor's choice, or the pages that use it) the caller can't read comes out as
``null`` (a rich-text link to it loses its ``href``, an embedded image disappears); a link to a page the
caller can't see keeps its text and loses the link. Nothing about restricted items reaches the response.
"""

from __future__ import annotations

import re
from html import escape

from django.conf import settings
from django.core.cache import cache
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from wagtail import blocks
from wagtail.api.utils import get_full_url
from wagtail.contrib.table_block.blocks import TableBlock
from wagtail.documents import get_document_model
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.fields import RichTextField, StreamField
from wagtail.images import get_image_model
from wagtail.images.blocks import ImageChooserBlock
from wagtail.models import Page, Site
from wagtail.rich_text import RichText
from wagtail.rich_text.rewriters import extract_attrs

from cms import visibility
from deploy.conf import publish_setting
from media import audience as file_audience

from .conf import api_setting

LINK_RE = re.compile(r"<a\b([^>]*)>(.*?)</a>", re.S | re.I)
EMBED_RE = re.compile(r"<embed\b([^>]*?)/?>", re.I)


def _int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def content_fields(model) -> list[tuple[str, object]]:
    """(name, model field) of the StreamField and RichTextField api_fields of a model."""
    found = []
    for api_field in getattr(model, "api_fields", ()):
        name = getattr(api_field, "name", api_field)
        try:
            field = model._meta.get_field(name)
        except Exception:  # noqa: BLE001 - a property or child relation, not a content field
            continue
        if isinstance(field, StreamField | RichTextField):
            found.append((name, field))
    return found


def image_fk_names(model) -> list[str]:
    image_model = get_image_model()
    return [
        f.name
        for f in model._meta.get_fields()
        if getattr(f, "many_to_one", False) and f.related_model is image_model and f.concrete
    ]


class Resolver:
    """Per-request cache of the images, documents and page links the response will mention."""

    def __init__(
        self, request, user, audiences: frozenset[str] | None = None, visible_pages=None, draft=False, rule=None
    ):
        self.request = request
        self._visible_pages = visible_pages  # a callable giving the caller's visible pages, if the view has one
        self._rule = rule  # the view's visibility.Rule, if it has built one for this request
        # A preview of a draft: files that follow their pages are shown (the draft uses them, and a
        # draft is previewed only when it is public or members-only); explicit audiences still apply.
        self.draft = draft
        self._file_audiences: dict[tuple[type, int], str] = {}
        self.user = user
        self.audiences = audiences if audiences is not None else visibility.audiences_for(user)
        self.images: dict[int, object] = {}
        self.documents: dict[int, object] = {}
        self.page_urls: dict[int, str] = {}
        self._want_images: set[int] = set()
        self._want_documents: set[int] = set()
        self._want_pages: set[int] = set()
        self._loaded_pages: set[int] = set()
        self._public_page_ids: set[int] = set()
        self._audience_known: set[int] = set()
        self._root_paths = None
        self._want_translations: set = set()  # translation keys of the pages prepared
        self._translations: dict = {}  # translation key -> the caller's visible pages with that key

    # --- collection ------------------------------------------------------------------------------
    def prepare(self, objects) -> None:
        """Collect and bulk-load everything ``objects`` (specific pages or page revisions) refer to."""
        root_paths = None
        for obj in objects:
            model = type(obj)
            if isinstance(obj, Page):
                # ``html_url`` asks each page for the sites' root paths (``page.full_url``), which Wagtail
                # memoises per page: read them once per request and hand them to every page.
                if root_paths is None:
                    root_paths = self.site_root_paths()
                obj._wagtail_cached_site_root_paths = root_paths
                if obj.translation_key not in self._translations:
                    self._want_translations.add(obj.translation_key)
            for name in image_fk_names(model):
                image_id = getattr(obj, f"{name}_id", None)
                if image_id:
                    self._want_images.add(image_id)
            for name, field in content_fields(model):
                value = getattr(obj, name)
                if isinstance(field, StreamField):
                    self._collect_block(value.stream_block, list(value.raw_data))
                else:
                    self._collect_html(value)
            attachments = getattr(obj, "attachments", None)
            if attachments is not None and hasattr(attachments, "all"):
                for attachment in attachments.all():
                    self._want_documents.add(attachment.document_id)
        self.load()

    def _collect_html(self, html) -> None:
        if not html:
            return
        html = html.source if isinstance(html, RichText) else str(html)
        for match in LINK_RE.finditer(html):
            attrs = extract_attrs(match.group(1))
            target = _int(attrs.get("id"))
            if target is None:
                continue
            if attrs.get("linktype") == "page":
                self._want_pages.add(target)
            elif attrs.get("linktype") == "document":
                self._want_documents.add(target)
        for match in EMBED_RE.finditer(html):
            attrs = extract_attrs(match.group(1))
            if attrs.get("embedtype") == "image" and _int(attrs.get("id")):
                self._want_images.add(_int(attrs.get("id")))

    def _collect_block(self, block, raw) -> None:
        if raw is None:
            return
        if isinstance(block, blocks.StreamBlock | blocks.ListBlock | blocks.StructBlock):
            for child, value in _child_values(block, raw):
                self._collect_block(child, value)
        elif isinstance(block, blocks.RichTextBlock):
            self._collect_html(raw)
        else:
            wanted = self._wanted_for(block)
            if wanted is not None and _int(raw):
                wanted.add(_int(raw))

    def _wanted_for(self, block) -> set[int] | None:
        """Where the id a chooser block holds is collected (None: not an image, document or page)."""
        if isinstance(block, ImageChooserBlock):
            return self._want_images
        if isinstance(block, DocumentChooserBlock):
            return self._want_documents
        if isinstance(block, blocks.PageChooserBlock):
            return self._want_pages
        return None

    def load(self) -> None:
        image_ids = self._want_images - set(self.images)
        if image_ids:
            specs = list(api_setting("RENDITIONS").values())
            images = self.visible_files(get_image_model().objects.filter(pk__in=image_ids))
            for image in images.prefetch_renditions(*specs):
                self.images[image.pk] = image
        document_ids = self._want_documents - set(self.documents)
        if document_ids:
            for document in self.visible_files(get_document_model().objects.filter(pk__in=document_ids)):
                self.documents[document.pk] = document
            self.prefetch_file_audiences(self.documents.values())
        page_ids = self._want_pages - self._loaded_pages
        if page_ids:
            pages = list(self.visible_pages().filter(pk__in=page_ids))
            self.prefetch_audiences(page.pk for page in pages)
            for page in pages:
                url = self.reader_url(page)
                if url:
                    self.page_urls[page.pk] = url
            self._loaded_pages |= page_ids
        self._want_images, self._want_documents, self._want_pages = set(), set(), set()

    def site_root_paths(self):
        if self._root_paths is None:
            self._root_paths = Site.get_site_root_paths()
        return self._root_paths

    @property
    def rule(self) -> visibility.Rule:
        """The visibility rule's conditions, built once for this request."""
        if self._rule is None:
            self._rule = visibility.Rule()
        return self._rule

    def visible_pages(self):
        if self._visible_pages is not None:
            return self._visible_pages()
        return visibility.pages_visible_to(self.user, rule=self.rule)

    # --- files -----------------------------------------------------------------------------------
    def visible_files(self, queryset):
        """The images or documents of ``queryset`` whose effective audience the caller may read."""
        if self.draft:
            explicit = self.audiences & file_audience.EXPLICIT
            return queryset.filter(audience__in=[*explicit, file_audience.FileAudience.FOLLOW])
        # The view's own visible pages when it has them, else the pages of the caller's audiences.
        pages = self._visible_pages() if self._visible_pages is not None else None
        return file_audience.visible_files(queryset, self.audiences, pages=pages, rule=self.rule)

    def prefetch_file_audiences(self, files) -> None:
        """Learn the effective audience of these (visible) files at once; only members need it told
        apart (to everyone else, whatever they can see is public)."""
        if visibility.Audience.MEMBERS.value not in self.audiences:
            return
        todo = [f for f in files if (type(f), f.pk) not in self._file_audiences]
        if todo:
            found = file_audience.effective_audiences(todo, rule=self.rule)
            self._file_audiences.update({key: audience.value for key, audience in found.items()})

    def file_audience(self, file) -> str:
        """The effective audience of a file the caller can see, as the caller sees it: public or members."""
        if visibility.Audience.MEMBERS.value not in self.audiences:
            return visibility.Audience.PUBLIC.value
        if self.draft and file.audience == file_audience.FileAudience.FOLLOW:
            return visibility.Audience.MEMBERS.value  # not yet used by a live page
        self.prefetch_file_audiences([file])
        found = self._file_audiences[(type(file), file.pk)]
        # Internal staff read members-level content outside the CMS, never more.
        return found if found == visibility.Audience.PUBLIC.value else visibility.Audience.MEMBERS.value

    # --- translations ----------------------------------------------------------------------------
    def translations_of(self, page) -> list[dict]:
        """The other-language versions of ``page`` that the caller may read, as small references.

        The translations of every page prepared so far are read together, in one query, the first time
        any of them is asked for (so listings that don't ask for ``translations`` pay nothing). They go
        through the caller's visible pages: a members-only, internal, draft or expired translation is
        never named.
        """
        key = page.translation_key
        if key not in self._translations:
            self._want_translations.add(key)
            keys = self._want_translations
            self._want_translations = set()
            for found in keys:
                self._translations[found] = []
            rows = (
                self.visible_pages()
                .filter(translation_key__in=keys)
                .select_related("locale")
                .order_by("locale__language_code", "pk")
            )
            root_paths = self.site_root_paths()
            for row in rows:
                row._wagtail_cached_site_root_paths = root_paths
                self._translations[row.translation_key].append(row)
            self.prefetch_audiences(row.pk for found in keys for row in self._translations[found])
        return [
            {
                "id": other.pk,
                "locale": other.locale.language_code,
                "title": other.title,
                "html_url": self.reader_url(other),
                "detail_url": self.full_url(reverse("wagtailapi:pages:detail", args=(other.pk,))),
            }
            for other in self._translations[key]
            if other.pk != page.pk
        ]

    # --- where a reader reads a page --------------------------------------------------------------
    def reader_url(self, page) -> str | None:
        """The absolute address where a reader reads ``page`` (the API's ``html_url``), from configured
        base URLs, never from the request or the Site record's hostname: a public page on the static
        site (``SHUYUAN_PUBLISH["BASE_URL"]``, behind the CDN), anything else on the CMS's members'
        pages (``WAGTAILAPI_BASE_URL``, the CMS's own address for members and apps). ``None`` for a page
        outside every site."""
        if not hasattr(page, "_wagtail_cached_site_root_paths"):
            page._wagtail_cached_site_root_paths = self.site_root_paths()
        try:
            parts = page.get_url_parts(request=None)
        except NoReverseMatch:
            return None
        if parts is None:
            return None
        path = parts[2]
        public = self.audience_of(page) == visibility.Audience.PUBLIC.value and not self.draft
        base = publish_setting("BASE_URL") if public else settings.WAGTAILAPI_BASE_URL
        return base.rstrip("/") + path

    # --- audiences of pages ----------------------------------------------------------------------
    def audience_of(self, page) -> str:
        """The effective audience of a page the caller can already see (public or members)."""
        if visibility.Audience.MEMBERS.value not in self.audiences:
            return visibility.Audience.PUBLIC.value
        self.prefetch_audiences([page.pk])
        return (
            visibility.Audience.PUBLIC.value if page.pk in self._public_page_ids else visibility.Audience.MEMBERS.value
        )

    def prefetch_audiences(self, page_ids) -> None:
        """Learn in one query which of these (visible) pages are public; the rest are members-only."""
        if visibility.Audience.MEMBERS.value not in self.audiences:
            return
        todo = set(page_ids) - self._audience_known
        if todo:
            public = Page.objects.filter(self.rule.public(), pk__in=todo).values_list("pk", flat=True)
            self._public_page_ids |= set(public)
            self._audience_known |= todo

    # --- representations -------------------------------------------------------------------------
    def full_url(self, path: str) -> str:
        return get_full_url(self.request, path)

    def image(self, image_id) -> dict | None:
        image = self.images.get(_int(image_id))
        if image is None:
            return None
        return self.image_repr(image)

    def image_repr(self, image) -> dict:
        names = api_setting("RENDITIONS")
        renditions = image.get_renditions(*names.values())
        return {
            "id": image.pk,
            "meta": {
                "type": f"{image._meta.app_label}.{type(image).__name__}",
                "detail_url": self.full_url(reverse("wagtailapi:images:detail", args=(image.pk,))),
            },
            "title": image.title,
            "alt": image.default_alt_text,
            "width": image.width,
            "height": image.height,
            "source": getattr(image, "source", ""),
            "credit": getattr(image, "credit", ""),
            "renditions": {
                name: {
                    "url": self.full_url(renditions[spec].url),
                    "width": renditions[spec].width,
                    "height": renditions[spec].height,
                }
                for name, spec in names.items()
            },
        }

    def document(self, document_id) -> dict | None:
        document = self.documents.get(_int(document_id))
        if document is None:
            return None
        return self.document_repr(document)

    def document_repr(self, document, downloadable: bool = True) -> dict:
        data = {
            "id": document.pk,
            "meta": {
                "type": f"{document._meta.app_label}.{type(document).__name__}",
                "detail_url": self.full_url(reverse("wagtailapi:documents:detail", args=(document.pk,))),
            },
            "title": document.title,
            "file_extension": document.file_extension,
            "file_size": document.file_size,
            "audience": self.file_audience(document),
        }
        data["download_url"] = (
            self.full_url(reverse("wagtailapi:documents:download", args=(document.pk,))) if downloadable else None
        )
        return data

    def rich_text(self, html) -> str:
        if not html:
            return ""
        html = html.source if isinstance(html, RichText) else str(html)

        def link(match):
            attrs = extract_attrs(match.group(1))
            linktype, text = attrs.get("linktype"), match.group(2)
            if linktype is None:
                return match.group(0)
            target = _int(attrs.get("id"))
            if linktype == "page" and target in self.page_urls:
                return f'<a href="{escape(self.page_urls[target])}" data-page-id="{target}">{text}</a>'
            if linktype == "document" and target in self.documents:
                url = self.document_repr(self.documents[target])["download_url"]
                return f'<a href="{escape(url)}" data-document-id="{target}">{text}</a>'
            return text  # a link the caller may not follow: keep the words, drop the target

        def embed(match):
            attrs = extract_attrs(match.group(1))
            if attrs.get("embedtype") == "image":
                image = self.image(attrs.get("id"))
                if image is None:
                    return ""
                medium = image["renditions"]["medium"] if "medium" in image["renditions"] else None
                if medium is None:
                    return ""
                alt = attrs.get("alt") or image["alt"]
                return (
                    f'<img src="{escape(medium["url"])}" width="{medium["width"]}" height="{medium["height"]}"'
                    f' alt="{escape(alt)}" data-image-id="{image["id"]}">'
                )
            if attrs.get("embedtype") == "media" and attrs.get("url"):
                url = escape(attrs["url"])
                return f'<a href="{url}">{url}</a>'
            return ""

        return EMBED_RE.sub(embed, LINK_RE.sub(link, html))

    def stream(self, block, raw):
        """The structured JSON of a raw StreamField value, references resolved."""
        if isinstance(block, blocks.StreamBlock):
            out = []
            for item in raw if isinstance(raw, list) else []:
                if not isinstance(item, dict) or item.get("type") not in block.child_blocks:
                    continue
                out.append(
                    {
                        "type": item["type"],
                        "id": item.get("id"),
                        "value": self.stream(block.child_blocks[item["type"]], item.get("value")),
                    }
                )
            return out
        if isinstance(block, blocks.ListBlock):
            items = raw if isinstance(raw, list) else []
            return [self.stream(block.child_block, _list_item_value(item)) for item in items]
        if isinstance(block, blocks.StructBlock):
            raw = raw if isinstance(raw, dict) else {}
            return {name: self.stream(child, raw.get(name)) for name, child in block.child_blocks.items()}
        if isinstance(block, ImageChooserBlock):
            return self.image(raw)
        if isinstance(block, DocumentChooserBlock):
            return self.document(raw)
        if isinstance(block, blocks.PageChooserBlock):
            target = _int(raw)
            return {"id": target, "url": self.page_urls[target]} if target in self.page_urls else None
        if isinstance(block, blocks.RichTextBlock):
            return self.rich_text(raw)
        if isinstance(block, TableBlock):
            return raw if isinstance(raw, dict) else None
        return raw


def _child_values(block, raw) -> list[tuple[object, object]]:
    """(child block, raw value) of each child in the raw value of a StreamBlock, ListBlock or StructBlock;
    malformed values have no children."""
    if isinstance(block, blocks.StreamBlock):
        items = raw if isinstance(raw, list) else []
        return [
            (block.child_blocks[item["type"]], item.get("value"))
            for item in items
            if isinstance(item, dict) and item.get("type") in block.child_blocks
        ]
    if isinstance(block, blocks.ListBlock):
        return [(block.child_block, _list_item_value(item)) for item in (raw if isinstance(raw, list) else [])]
    if isinstance(raw, dict):  # a StructBlock
        return [(child, raw.get(name)) for name, child in block.child_blocks.items()]
    return []


def _list_item_value(item):
    # ListBlock items are stored as {"type": "item", "value": ..., "id": ...} (or bare values in old data).
    if isinstance(item, dict) and item.get("type") == "item" and "value" in item:
        return item["value"]
    return item


IMAGE_IDS_TTL = 60


def content_version() -> str:
    from .models import ContentVersion

    return ContentVersion.current()


def _next_expiry(version: str) -> float | None:
    """When the next page expires (a timestamp), remembered per content version.

    Expiry is the one change to what a caller may read that happens by the clock, without a save (an
    expired page, or anything below it, drops out of every listing). Expiry dates only change when a
    page is saved, which bumps the version, so this is exact for as long as the version holds.
    """
    key = f"shuyuan-api:next-expiry:{version}"
    cached = cache.get(key)
    now = timezone.now()
    if cached is not None and (cached == 0 or cached > now.timestamp()):
        return cached or None
    moment = (
        Page.objects.filter(expire_at__gt=now).order_by("expire_at").values_list("expire_at", flat=True).first()
    )
    value = moment.timestamp() if moment else 0
    cache.set(key, value, int(value - now.timestamp()) + 1 if value else None)
    return value or None


def cache_timeout(version: str, ttl: int) -> int:
    """How long something computed now under ``version`` may be kept: ``ttl`` seconds, but never
    past the next page expiry (0 when that is less than a second away: don't keep it)."""
    expiry = _next_expiry(version)
    if expiry is None:
        return ttl
    return max(0, min(ttl, int(expiry - timezone.now().timestamp())))


def bump_content_version(**kwargs) -> None:
    """Called on every change that can alter what a caller may list (see ``apps``)."""
    from .models import ContentVersion

    ContentVersion.bump()


def visible_image_id_list(audiences: frozenset[str], version: str | None = None, rule=None) -> list[int]:
    """The ids of the images a caller of these audiences may list (see ``visible_image_ids``),
    remembered per content version and audience for a minute at most.

    The result only changes when pages, restrictions or images change, which bump the version in the
    key, or when a page expires (the lifetime never reaches past the next expiry). The short lifetime
    bounds staleness from reference index updates, which run as background tasks.
    """
    if not api_setting("CACHE_LISTINGS"):
        return visible_image_ids(audiences, rule)
    version = version if version is not None else content_version()
    key = f"shuyuan-api:image-ids:{version}:{','.join(sorted(audiences))}"
    ids = cache.get(key)
    if ids is None:
        ids = visible_image_ids(audiences, rule)
        cache.set(key, ids, cache_timeout(version, IMAGE_IDS_TTL))
    return ids


def visible_image_ids(audiences: frozenset[str], rule=None) -> list[int]:
    """The images a caller of these audiences may list, sorted by id: those whose effective audience
    the caller may read (``media.audience``: explicitly public or members, or following the pages that
    use them and used by a page the caller can see). Images nothing public uses stay inside the CMS.
    ``rule``: the request's ``visibility.Rule``, if it has one."""
    images = file_audience.visible_files(get_image_model().objects.all(), audiences, rule=rule)
    return list(images.order_by("pk").values_list("pk", flat=True))
