"""The endpoints: Wagtail's API v2 viewsets made caller-aware, plus download and schema views.

Each viewset asks ``cms.visibility`` for its base queryset, so listings, details, counts, filters
that name a parent (``child_of`` …) and ``find`` all see the same set. Errors always come back as
``{"message": "..."}`` with a 4xx status.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache as memoize
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Prefetch, QuerySet, Window
from django.db.models.sql.where import AND
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.urls import path
from rest_framework.exceptions import APIException, MethodNotAllowed
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView
from taggit.managers import TaggableManager
from wagtail import fields as wagtail_fields
from wagtail.api.v2.pagination import WagtailPagination
from wagtail.api.v2.utils import BadRequestError, page_models_from_string
from wagtail.api.v2.views import BaseAPIViewSet, PagesAPIViewSet
from wagtail.documents.api.v2.views import DocumentsAPIViewSet
from wagtail.images import get_image_model
from wagtail.images.api.v2.views import ImagesAPIViewSet
from wagtail.models import Page

from cms import visibility

from . import fields as api_fields
from .authentication import BearerTokenAuthentication
from .conf import api_setting
from .content import IMAGE_IDS_TTL, Resolver, cache_timeout, content_version, visible_image_id_list
from .filters import (
    CUSTOM_FILTERS,
    AncestorOfFilter,
    ChildOfFilter,
    DescendantOfFilter,
    SafeFieldsFilter,
    SafeLocaleFilter,
    SafeOrderingFilter,
    SafeSearchFilter,
    ShuyuanFilter,
    TranslationOfFilter,
    VisibleSearchFilter,
)
from .throttling import ClientRateThrottle

SCHEMA_PATH = Path(__file__).with_name("openapi.json")
MAX_NUMBER = 2**53  # larger ids and offsets overflow database integers
# Parameters that take a number (free-text ones may be long digit strings: a search, a slug).
INTEGER_PARAMS = frozenset({"limit", "offset", "child_of", "descendant_of", "ancestor_of", "translation_of"})
MAX_OFFSET = 100_000
COUNT_TTL = 60


def check_query_limits(request) -> None:
    limit = api_setting("MAX_PARAM_LENGTH")
    if len(request.META.get("QUERY_STRING", "")) > api_setting("MAX_QUERY_STRING_LENGTH"):
        raise BadRequestError(f"query string is longer than {api_setting('MAX_QUERY_STRING_LENGTH')} characters")
    for name, values in request.GET.lists():
        for value in values:
            if len(value) > limit:
                raise BadRequestError(f"{name} is longer than {limit} characters")
            if "\x00" in value or "\x00" in name:
                raise BadRequestError(f"{name} contains a null character")
        if len(values) > 1:
            raise BadRequestError(f"{name} is given more than once")
        number = values[0].lstrip("-")
        if name in INTEGER_PARAMS and _is_number(number) and int(number) > MAX_NUMBER:
            raise BadRequestError(f"{name} is too large (at most {MAX_NUMBER})")
    offset = request.GET.get("offset", "0")
    if _is_number(offset) and int(offset) > MAX_OFFSET:
        raise BadRequestError(f"offset must be at most {MAX_OFFSET}; narrow the query with filters instead")


def _is_number(value: str) -> bool:
    """ASCII digits only: ``str.isdigit`` is also true of "¹" or "٣", which ``int`` refuses or reads."""
    return value.isascii() and value.isdigit()


def listing_cache_key(view, kind: str, model, ignore=("fields",)) -> str:
    """A cache key for facts about a listing: the caller's audiences (never the user), the query and
    the content version (bumped by any change to content, restrictions, images or documents)."""
    params = sorted((k, v) for k, v in view.request.GET.items() if k not in ignore)
    audiences = ",".join(sorted(view.audiences))
    raw = repr((view.content_version, audiences, model._meta.label, params))
    return f"shuyuan-api:{kind}:" + hashlib.sha256(raw.encode()).hexdigest()


COUNT_IGNORES = ("limit", "offset", "fields", "order")


def window_bounds(request) -> tuple[int, int]:
    """``offset`` and ``limit`` checked exactly as Wagtail's pagination checks them."""
    limit_max = getattr(settings, "WAGTAILAPI_LIMIT_MAX", 20)
    try:
        offset = int(request.GET.get("offset", 0))
        if offset < 0:
            raise ValueError()
    except ValueError as exc:
        raise BadRequestError("offset must be a positive integer") from exc
    try:
        limit = int(request.GET.get("limit", 20 if not limit_max else min(20, limit_max)))
        if limit < 0:
            raise ValueError()
    except ValueError as exc:
        raise BadRequestError("limit must be a positive integer") from exc
    if limit_max and limit > limit_max:
        raise BadRequestError(f"limit cannot be higher than {limit_max}")
    return offset, limit


class CachedCountPagination(WagtailPagination):
    """Wagtail's limit/offset pagination, with ``total_count`` remembered per query, audience and
    content version (any edit bumps the version, so counts never outlive an edit)."""

    def paginate_queryset(self, queryset, request, view=None):
        if not isinstance(queryset, QuerySet) or not api_setting("CACHE_LISTINGS"):
            return super().paginate_queryset(queryset, request, view)
        key = listing_cache_key(view, "count", queryset.model, ignore=COUNT_IGNORES)
        count = cache.get(key)
        original_count = queryset.count

        if count is not None:
            queryset.count = lambda: count
        window = super().paginate_queryset(queryset, request, view)
        queryset.count = original_count
        if count is None:
            cache.set(key, self.total_count, cache_timeout(view.content_version, COUNT_TTL))
        return window


class ApiViewMixin:
    """Authentication, throttling, limits and the error format shared by every endpoint."""

    authentication_classes = [BearerTokenAuthentication]
    permission_classes: list = []
    throttle_classes = [ClientRateThrottle]
    renderer_classes = [JSONRenderer]

    def get_renderer_context(self):
        context = super().get_renderer_context()
        context["indent"] = None  # compact JSON for apps on mobile networks
        return context

    # Rendered responses are kept for RESPONSE_CACHE_TTL seconds at most (and never past the next page
    # expiry); an endpoint may cap that further.
    response_ttl_cap: int | None = None

    @property
    def content_version(self) -> str:
        """The content version, read once per request (see ``ContentVersion``)."""
        if not hasattr(self, "_content_version"):
            self._content_version = content_version()
        return self._content_version

    def response_cache_key(self) -> str | None:
        """Where the rendered response of this request is kept, or None if it isn't.

        Keyed by what a response depends on: the content version (any edit to content, restrictions,
        images or documents changes it), the caller's audiences (never the user: nothing in these
        responses is per user), the endpoint and the whole query. Search results (the index follows
        edits in the background) and random order are never kept.
        """
        if not api_setting("CACHE_LISTINGS") or not api_setting("RESPONSE_CACHE_TTL"):
            return None
        get = self.request.GET
        if "search" in get or get.get("order") == "random":
            return None
        raw = repr(
            (
                self.content_version,
                sorted(self.audiences),
                type(self).__name__,
                self.action,
                sorted(self.kwargs.items()),
                sorted(get.lists()),
            )
        )
        return "shuyuan-api:response:" + hashlib.sha256(raw.encode()).hexdigest()

    def cached_response(self, produce):
        """The response ``produce()`` makes, rendered once and reused while its key holds.

        Authentication, throttling and the query checks have run already (``initial``); only the work
        of answering is saved. Errors are never kept.
        """
        key = self.response_cache_key()
        body = cache.get(key) if key else None
        if body is None:
            response = produce()
            if key is None or response.status_code != 200 or not isinstance(response, Response):
                return response
            body = JSONRenderer().render(response.data, "application/json", {"indent": None})
            ttl = api_setting("RESPONSE_CACHE_TTL")
            timeout = cache_timeout(self.content_version, min(ttl, self.response_ttl_cap or ttl))
            if timeout:
                cache.set(key, body, timeout)
        return HttpResponse(body, content_type="application/json")

    def listing_view(self, request):
        return self.cached_response(lambda: super(ApiViewMixin, self).listing_view(request))

    def detail_view(self, request, pk):
        return self.cached_response(lambda: super(ApiViewMixin, self).detail_view(request, pk))

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        method = request.method.lower()
        if method not in self.http_method_names or not hasattr(self, method):
            raise MethodNotAllowed(request.method)  # before the parameters: a wrong method is a 405
        check_query_limits(request)
        if int(kwargs.get("pk") or 0) > MAX_NUMBER:
            raise Http404("not found")

    def handle_exception(self, exc):
        if isinstance(exc, BadRequestError):
            return Response({"message": str(exc)}, status=400)
        response = super().handle_exception(exc)
        data = response.data
        if isinstance(exc, APIException | Http404) and isinstance(data, dict) and "detail" in data:
            response.data = {"message": str(data["detail"])}
        return response

    @property
    def audiences(self) -> frozenset[str]:
        """The caller's audiences, asked of ``cms.visibility`` once per request."""
        if not hasattr(self, "_audiences"):
            self._audiences = visibility.audiences_for(self.request.user)
        return self._audiences

    @property
    def rule(self) -> visibility.Rule:
        """The visibility rule's conditions, built once per request however many querysets they filter
        (the caller's pages, the files those pages use, which visible pages are public)."""
        if not hasattr(self, "_rule"):
            self._rule = visibility.Rule()
        return self._rule

    def visible_pages(self, queryset=None):
        """``visibility.pages_visible_to`` for this caller, without asking about membership again."""
        return (Page.objects.all() if queryset is None else queryset).filter(self.rule.for_audiences(self.audiences))

    @property
    def resolver(self) -> Resolver:
        if not hasattr(self, "_resolver"):
            self._resolver = Resolver(self.request, self.request.user, audiences=self.audiences, rule=self.rule)
        return self._resolver

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["resolver"] = self.resolver
        return context

    def resolve_rich_text_format(self):
        # Rich text always comes out as HTML with resolved links; db formats would expose raw ids.
        raw = self.request.GET.get("rich_text_format")
        if raw not in (None, "html"):
            raise BadRequestError("rich_text_format must be 'html' (the only format this API serves)")
        return "html"


def _field_override(model, name):
    from cms.models.snippets import _Term

    if name == "audience":
        return api_fields.AudienceField(read_only=True)
    if name == "tags":
        return api_fields.TagListField(read_only=True)
    if name == "attachments":
        return api_fields.AttachmentsField(read_only=True)
    try:
        field = model._meta.get_field(name)
    except Exception:  # noqa: BLE001 - not a model field (a property); Wagtail's default applies
        return None
    if isinstance(field, wagtail_fields.StreamField):
        return api_fields.StreamBodyField(read_only=True)
    if isinstance(field, wagtail_fields.RichTextField):
        return api_fields.RichTextHTMLField(read_only=True)
    related = getattr(field, "related_model", None)
    if field.many_to_one and related is get_image_model():
        return api_fields.ImageRefField(read_only=True)
    if field.many_to_one and related is not None and issubclass(related, _Term):
        return api_fields.TermField(read_only=True)
    if field.many_to_many and related is not None and issubclass(related, _Term):
        return api_fields.TermListField(read_only=True)
    return None


def optimise(queryset):
    """Fetch what serialising a page of results needs up front (constant queries per listing)."""
    from cms.models.snippets import _Term

    model = queryset.model
    queryset = queryset.select_related("locale")
    names = set(PagesViewSet.get_body_fields_names(model))
    terms = [
        f.name
        for f in model._meta.concrete_fields
        if f.many_to_one and f.name in names and f.related_model and issubclass(f.related_model, _Term)
    ]
    if terms:
        queryset = queryset.select_related(*terms)
    # Tags come through their through-model rows (TagListField), not the taggit manager.
    prefetch = [f.name for f in model._meta.many_to_many if f.name in names and not isinstance(f, TaggableManager)]
    if "tags" in names and hasattr(model, "tagged_items"):
        prefetch.append("tagged_items__tag")
    if "attachments" in names:
        prefetch.append(Prefetch("attachments"))
    return queryset.prefetch_related(*prefetch) if prefetch else queryset


class PagesViewSet(ApiViewMixin, PagesAPIViewSet):
    """Pages the caller may read, every api field of every type, with content-aware filters."""

    filter_backends = [
        SafeFieldsFilter,
        ChildOfFilter,
        AncestorOfFilter,
        DescendantOfFilter,
        ShuyuanFilter,
        SafeOrderingFilter,
        TranslationOfFilter,
        SafeLocaleFilter,
        VisibleSearchFilter,  # last: search results can't be filtered further
    ]
    known_query_parameters = (PagesAPIViewSet.known_query_parameters - {"site"}) | frozenset(CUSTOM_FILTERS)

    pagination_class = CachedCountPagination

    @classmethod
    def get_body_fields(cls, model):
        # Every page type has its translations, after its own fields (in details, and in listings on request).
        return super().get_body_fields(model) + cls._convert_api_fields(["translations"])

    @property
    def resolver(self) -> Resolver:
        if not hasattr(self, "_resolver"):
            self._resolver = Resolver(
                self.request,
                self.request.user,
                audiences=self.audiences,
                visible_pages=self.get_base_queryset,
                rule=self.rule,
            )
        return self._resolver

    def get_serializer_context(self):
        if self.action == "listing_view":
            # Listings don't serialise "parent", so they don't need Wagtail's base queryset in the context.
            return {**BaseAPIViewSet.get_serializer_context(self), "resolver": self.resolver}
        return super().get_serializer_context()

    def get_base_queryset(self):
        if not hasattr(self, "_base_queryset"):
            # depth > 1 leaves out the tree's invisible root node.
            self._base_queryset = self.visible_pages().filter(depth__gt=1)
        return self._base_queryset

    def get_queryset(self):
        # Wagtail asks twice per listing (for the rows and for the serializer's model): build it once.
        if not hasattr(self, "_queryset"):
            self._queryset = self._build_queryset()
        return self._queryset

    def _build_queryset(self):
        try:
            models_type = self.request.GET.get("type")
            models = page_models_from_string(models_type) if models_type else []
        except (LookupError, ValueError) as exc:
            raise BadRequestError("type doesn't exist") from exc
        if len(models) == 1 and models[0] is not Page:
            return optimise(self.visible_pages_of_type(models[0]))
        queryset = super().get_queryset()
        if queryset.model is Page:
            return queryset.select_related("locale")
        return optimise(queryset)

    def visible_pages_of_type(self, model):
        """The caller's visible pages of one type, on the type's own table.

        Much cheaper in SQL than Wagtail's "pk in (visible pages)". The conditions of the rule are the
        ones ``get_base_queryset`` built (building them reads the restrictions and the hidden branches,
        a quarter of a cold listing), reused on the page table joined under its own name; if the rule
        ever needs more than the page table, the rule is simply applied again to the type's table.
        """
        base = self.get_base_queryset().query
        table = Page._meta.db_table
        typed = model.objects.filter(depth__gt=1)  # joins the page table, under its own name
        simple = (
            set(base.alias_map) == {table}
            and not (base.annotations or base.extra or base.group_by or base.distinct or base.combinator)
            and table in typed.query.alias_map
        )
        if not simple:
            return self.visible_pages(model.objects.all()).filter(depth__gt=1)
        typed.query.where.add(base.where.clone(), AND)
        return typed

    @classmethod
    def get_field_serializer_overrides(cls, model):
        overrides = super().get_field_serializer_overrides(model)
        overrides["translations"] = api_fields.TranslationsField(read_only=True)
        overrides["html_url"] = api_fields.ReaderUrlField(read_only=True)
        for name in cls.get_body_fields_names(model):
            if name not in overrides:
                override = _field_override(model, name)
                if override is not None:
                    overrides[name] = override
        return overrides

    def paginate_queryset(self, queryset):
        if not isinstance(queryset, QuerySet):  # search results: Wagtail's pagination
            items = list(super().paginate_queryset(queryset))
        else:
            items = self.window_of(queryset)
        self.resolver.prepare(items)
        self.resolver.prefetch_audiences(item.pk for item in items)
        return items

    def window_of(self, queryset) -> list:
        """The rows of the requested window and the total count, with as little SQL as possible.

        Sort and slice on ids only, then fetch the rows (with their large bodies) of that window:
        sorting thousands of full rows to keep twenty is what made big listings slow. When the count
        isn't known yet, one query gives both the window's ids and the count (a window function), so
        the visibility rule is evaluated over the tree once, not twice. Counts and id windows are
        remembered per query, audience and content version (not for random order).
        """
        offset, limit = window_bounds(self.request)
        paginator = self.paginator
        paginator.view = self
        caching = api_setting("CACHE_LISTINGS")
        count_key = listing_cache_key(self, "count", queryset.model, ignore=COUNT_IGNORES) if caching else None
        ids_key = (
            listing_cache_key(self, "ids", queryset.model)
            if caching and self.request.GET.get("order") != "random"
            else None
        )
        count = cache.get(count_key) if count_key else None
        known_count = count is not None
        ids = cache.get(ids_key) if ids_key else None
        if ids is None:
            if count is None and limit and not queryset.query.distinct:
                rows = list(
                    queryset.annotate(_api_total=Window(Count("pk")))
                    .values_list("pk", "_api_total")[offset : offset + limit]
                )
                ids = [pk for pk, _total in rows]
                if rows:
                    count = rows[0][1]
            else:
                ids = list(queryset.values_list("pk", flat=True)[offset : offset + limit])
            if ids_key:
                cache.set(ids_key, ids, cache_timeout(self.content_version, COUNT_TTL))
        if count is None:
            count = queryset.count()  # limit=0, or an offset past the end
        if count_key and not known_count:
            cache.set(count_key, count, cache_timeout(self.content_version, COUNT_TTL))
        paginator.total_count = count
        if not ids:
            return []
        # Fetched through the visible queryset again: a remembered id can never bring back a page that
        # has since become hidden.
        rows = {row.pk: row for row in queryset.filter(pk__in=ids).order_by()}
        return [rows[pk] for pk in ids if pk in rows]

    def get_object(self):
        first = not hasattr(self, "_prepared_object")
        obj = super().get_object()
        if first:
            self._prepared_object = obj
            self.resolver.prepare([obj])
        return obj


class ImagesViewSet(ApiViewMixin, ImagesAPIViewSet):
    """Images whose effective audience the caller may read (``media.audience``: explicitly public or
    members, or used by a page the caller can see; see ``content.visible_image_ids``), with renditions."""

    filter_backends = [SafeFieldsFilter, SafeOrderingFilter, SafeSearchFilter]
    response_ttl_cap = IMAGE_IDS_TTL  # which images are listed follows the reference index (background tasks)
    body_fields = ImagesAPIViewSet.body_fields + ["alt", "source", "credit", "renditions"]
    listing_default_fields = ImagesAPIViewSet.listing_default_fields + ["width", "height", "renditions"]

    def get_queryset(self):
        # Wagtail asks twice per listing: work out which images are visible once.
        if not hasattr(self, "_queryset"):
            self._queryset = self._build_queryset()
        return self._queryset

    def _build_queryset(self):
        specs = list(api_setting("RENDITIONS").values())
        return (
            get_image_model()
            .objects.filter(pk__in=visible_image_id_list(self.audiences, self.content_version, rule=self.rule))
            .order_by("id")
            .prefetch_renditions(*specs)
            .prefetch_related("tags")
        )

    @classmethod
    def get_field_serializer_overrides(cls, model):
        overrides = super().get_field_serializer_overrides(model)
        overrides["renditions"] = api_fields.ImageRenditionsField(read_only=True)
        overrides["alt"] = api_fields.ImageAltField(read_only=True)
        overrides["download_url"] = api_fields.ImageOriginalUrlField(read_only=True)
        overrides["tags"] = api_fields.PrefetchedTagsField(read_only=True)
        return overrides


class DocumentsViewSet(ApiViewMixin, DocumentsAPIViewSet):
    """Documents whose effective audience the caller may read (``media.audience``: the editor's choice,
    or the pages that use the file); downloads go through ``download/``. ``audience`` is that effective
    audience as the caller sees it: public or members."""

    filter_backends = [SafeFieldsFilter, SafeOrderingFilter, SafeSearchFilter]
    body_fields = DocumentsAPIViewSet.body_fields + ["audience", "file_extension", "file_size"]
    listing_default_fields = DocumentsAPIViewSet.listing_default_fields + ["audience", "file_extension"]

    def get_queryset(self):
        # Wagtail asks twice per listing: build the (sub-query heavy) queryset once.
        if not hasattr(self, "_queryset"):
            documents = self.resolver.visible_files(self.model.objects.all())
            self._queryset = documents.order_by("id").prefetch_related("tags")
        return self._queryset

    def paginate_queryset(self, queryset):
        items = super().paginate_queryset(queryset)
        if items is not None:
            self.resolver.prefetch_file_audiences(items)
        return items

    @classmethod
    def get_field_serializer_overrides(cls, model):
        overrides = super().get_field_serializer_overrides(model)
        overrides["download_url"] = api_fields.DocumentDownloadUrlField(read_only=True)
        overrides["tags"] = api_fields.PrefetchedTagsField(read_only=True)
        overrides["audience"] = api_fields.FileAudienceField(read_only=True)
        return overrides

    def download_view(self, request, pk):
        """The file itself, for callers allowed to read it (bearer tokens work here, unlike /documents/)."""
        document = self.get_object()
        try:
            storage_path = document.file.path
        except NotImplementedError:
            return HttpResponseRedirect(document.file.url)  # remote storage: its own (signed) URL
        response = FileResponse(open(storage_path, "rb"), as_attachment=True, filename=document.filename)
        public = self.resolver.file_audience(document) == visibility.Audience.PUBLIC.value
        response["Cache-Control"] = "public, max-age=3600" if public else "private, no-store"
        return response

    @classmethod
    def get_urlpatterns(cls):
        return super().get_urlpatterns() + [
            path("<int:pk>/download/", cls.as_view({"get": "download_view"}), name="download"),
        ]


@memoize
def committed_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


class SchemaView(ApiViewMixin, APIView):
    """The OpenAPI 3 description of this API (the file kept in the repository)."""

    authentication_classes: list = []

    def get(self, request):
        return Response(committed_schema())
