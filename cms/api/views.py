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

from django.core.cache import cache
from django.db.models import Prefetch, QuerySet
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.urls import path
from rest_framework.exceptions import APIException
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView
from taggit.managers import TaggableManager
from wagtail import fields as wagtail_fields
from wagtail.api.v2.filters import (
    AncestorOfFilter,
    ChildOfFilter,
    DescendantOfFilter,
    OrderingFilter,
    SearchFilter,
    TranslationOfFilter,
)
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
from .content import Resolver, content_version, visible_image_id_list
from .filters import CUSTOM_FILTERS, SafeFieldsFilter, SafeLocaleFilter, ShuyuanFilter, VisibleSearchFilter
from .throttling import ClientRateThrottle

SCHEMA_PATH = Path(__file__).with_name("openapi.json")
MAX_NUMBER = 2**53  # larger ids and offsets overflow database integers
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
        if number.isdigit() and int(number) > MAX_NUMBER:
            raise BadRequestError(f"{name} is too large (at most {MAX_NUMBER})")
    if int(request.GET.get("offset", "0") if request.GET.get("offset", "0").isdigit() else 0) > MAX_OFFSET:
        raise BadRequestError(f"offset must be at most {MAX_OFFSET}; narrow the query with filters instead")


def listing_cache_key(view, kind: str, model, ignore=("fields",)) -> str:
    """A cache key for facts about a listing: the caller's audiences (never the user), the query and
    the content version (bumped by any page, restriction or image change)."""
    params = sorted((k, v) for k, v in view.request.GET.items() if k not in ignore)
    audiences = ",".join(sorted(view.audiences))
    raw = repr((content_version(), audiences, model._meta.label, params))
    return f"shuyuan-api:{kind}:" + hashlib.sha256(raw.encode()).hexdigest()


class CachedCountPagination(WagtailPagination):
    """Wagtail's limit/offset pagination, with ``total_count`` remembered per query, audience and
    content version (any page change bumps the version, so counts never outlive an edit)."""

    def paginate_queryset(self, queryset, request, view=None):
        if not isinstance(queryset, QuerySet) or not api_setting("CACHE_LISTINGS"):
            return super().paginate_queryset(queryset, request, view)
        key = listing_cache_key(view, "count", queryset.model, ignore=("limit", "offset", "fields", "order"))
        count = cache.get(key)
        original_count = queryset.count

        if count is not None:
            queryset.count = lambda: count
        window = super().paginate_queryset(queryset, request, view)
        queryset.count = original_count
        if count is None:
            cache.set(key, self.total_count, COUNT_TTL)
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

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        check_query_limits(request)
        if int(kwargs.get("pk") or 0) > MAX_NUMBER:
            raise Http404("not found")

    def handle_exception(self, exc):
        if isinstance(exc, BadRequestError):
            return Response({"message": str(exc)}, status=400)
        response = super().handle_exception(exc)
        data = response.data
        if isinstance(exc, APIException) and isinstance(data, dict) and "detail" in data:
            response.data = {"message": str(data["detail"])}
        return response

    @property
    def audiences(self) -> frozenset[str]:
        """The caller's audiences, asked of ``cms.visibility`` once per request."""
        if not hasattr(self, "_audiences"):
            self._audiences = visibility.audiences_for(self.request.user)
        return self._audiences

    def visible_pages(self, queryset=None):
        """``visibility.pages_visible_to`` for this caller, without asking about membership again."""
        if visibility.Audience.MEMBERS.value in self.audiences:
            return visibility.member_pages(queryset)
        return visibility.public_pages(queryset)

    @property
    def resolver(self) -> Resolver:
        if not hasattr(self, "_resolver"):
            self._resolver = Resolver(self.request, self.request.user, audiences=self.audiences)
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
        OrderingFilter,
        TranslationOfFilter,
        SafeLocaleFilter,
        VisibleSearchFilter,  # last: search results can't be filtered further
    ]
    known_query_parameters = (PagesAPIViewSet.known_query_parameters - {"site"}) | frozenset(CUSTOM_FILTERS)

    pagination_class = CachedCountPagination

    @property
    def resolver(self) -> Resolver:
        if not hasattr(self, "_resolver"):
            self._resolver = Resolver(
                self.request, self.request.user, audiences=self.audiences, visible_pages=self.get_base_queryset
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
            # The rule applied to the type's own table: much cheaper than Wagtail's "pk in (visible pages)".
            queryset = self.visible_pages(models[0].objects.all()).filter(depth__gt=1)
            return optimise(queryset)
        queryset = super().get_queryset()
        if queryset.model is Page:
            return queryset.select_related("locale")
        return optimise(queryset)

    @classmethod
    def get_field_serializer_overrides(cls, model):
        overrides = super().get_field_serializer_overrides(model)
        for name in cls.get_body_fields_names(model):
            if name not in overrides:
                override = _field_override(model, name)
                if override is not None:
                    overrides[name] = override
        return overrides

    def paginate_queryset(self, queryset):
        window = super().paginate_queryset(queryset)
        if isinstance(window, QuerySet) and window.model is not Page:
            # Sort and slice on ids only, then fetch the rows (with their large bodies) of that page:
            # sorting thousands of full rows to keep twenty is what made big listings slow. The ids of
            # a window are remembered like counts (same key rules), except for random order.
            cacheable = api_setting("CACHE_LISTINGS") and self.request.GET.get("order") != "random"
            key = listing_cache_key(self, "ids", window.model) if cacheable else None
            ids = cache.get(key) if key else None
            if ids is None:
                ids = list(window.values_list("pk", flat=True))
                if key:
                    cache.set(key, ids, COUNT_TTL)
            # Fetched through the visible queryset again: a remembered id can never bring back a page
            # that has since become hidden.
            rows = {row.pk: row for row in queryset.filter(pk__in=ids).order_by()}
            items = [rows[pk] for pk in ids if pk in rows]
        else:
            items = list(window)
        self.resolver.prepare(items)
        self.resolver.prefetch_audiences(item.pk for item in items)
        return items

    def get_object(self):
        first = not hasattr(self, "_prepared_object")
        obj = super().get_object()
        if first:
            self._prepared_object = obj
            self.resolver.prepare([obj])
        return obj


class ImagesViewSet(ApiViewMixin, ImagesAPIViewSet):
    """Images used by a page the caller can see (see ``content.visible_image_ids``), with renditions."""

    filter_backends = [SafeFieldsFilter, OrderingFilter, SearchFilter]
    body_fields = ImagesAPIViewSet.body_fields + ["alt", "source", "credit", "renditions"]
    listing_default_fields = ImagesAPIViewSet.listing_default_fields + ["width", "height", "renditions"]

    def get_queryset(self):
        specs = list(api_setting("RENDITIONS").values())
        return (
            get_image_model()
            .objects.filter(pk__in=visible_image_id_list(self.request.user, self.audiences))
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
    """Documents whose own audience the caller may read; downloads go through ``download/``."""

    filter_backends = [SafeFieldsFilter, OrderingFilter, SearchFilter]
    body_fields = DocumentsAPIViewSet.body_fields + ["audience", "file_extension", "file_size"]
    listing_default_fields = DocumentsAPIViewSet.listing_default_fields + ["audience", "file_extension"]

    def get_queryset(self):
        return self.model.objects.filter(audience__in=self.audiences).order_by("id").prefetch_related("tags")

    @classmethod
    def get_field_serializer_overrides(cls, model):
        overrides = super().get_field_serializer_overrides(model)
        overrides["download_url"] = api_fields.DocumentDownloadUrlField(read_only=True)
        overrides["tags"] = api_fields.PrefetchedTagsField(read_only=True)
        return overrides

    def download_view(self, request, pk):
        """The file itself, for callers allowed to read it (bearer tokens work here, unlike /documents/)."""
        document = self.get_object()
        try:
            storage_path = document.file.path
        except NotImplementedError:
            return HttpResponseRedirect(document.file.url)  # remote storage: its own (signed) URL
        response = FileResponse(open(storage_path, "rb"), as_attachment=True, filename=document.filename)
        response["Cache-Control"] = "private, no-store" if document.audience != "public" else "public, max-age=3600"
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
