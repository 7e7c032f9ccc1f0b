"""Query-parameter filters of the listing endpoints: a malformed value is a 400 that says why; a
well-formed one that names nothing (an unknown id, slug or term) simply matches nothing.

That split is the schema's (``openapi``): a value the schema allows is answered with results, maybe
none, never refused. Wagtail's own filters refuse an unknown parent page, ``child_of`` with
``descendant_of``, random order with an offset, and hand a bad ``search_operator`` to the search
backend, which raises (a 500): the filters here replace them.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from rest_framework.filters import BaseFilterBackend
from taggit.managers import TaggableManager
from wagtail.api.v2.filters import FieldsFilter, OrderingFilter, SearchFilter
from wagtail.api.v2.utils import BadRequestError, parse_boolean
from wagtail.models import Locale

from . import params

# Parameters handled by ShuyuanFilter (not by the generic field filter, even where a model has a
# database field of the same name).
CUSTOM_FILTERS = ("column", "topic", "material_type", "province", "category", "tag", "date_from", "date_to")


class SafeFieldsFilter(FieldsFilter):
    """Wagtail's ``?<field>=<value>`` filter, with values validated by the field itself."""

    def filter_queryset(self, request, queryset, view):
        fields = set(view.get_available_fields(queryset.model, db_fields_only=True))
        fields -= {"locale", *CUSTOM_FILTERS}
        for name, value in request.GET.items():
            if name not in fields:
                continue
            try:
                field = queryset.model._meta.get_field(name)
            except LookupError:
                continue
            if isinstance(field, TaggableManager) or field.many_to_many or field.one_to_many:
                raise BadRequestError(f"cannot filter by '{name}'")
            try:
                if isinstance(field, models.BooleanField):
                    value = parse_boolean(value)
                elif isinstance(field, models.ForeignKey):
                    value = field.target_field.to_python(value)
                else:
                    value = field.to_python(value)
                    if field.choices and value not in {c[0] for c in field.flatchoices}:
                        raise ValidationError("not one of the allowed values")
            except (ValidationError, ValueError, TypeError) as exc:
                reason = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                raise BadRequestError(f"'{value}' is not a valid value for {name} ({reason})") from exc
            queryset = queryset.filter(**{name: value})
        return queryset


SEARCH_OPERATORS = ("and", "or")


def _is_number(value: str) -> bool:
    """ASCII digits only: ``str.isdigit`` is also true of "¹" or "٣", which ``int`` refuses or reads."""
    return value.isascii() and value.isdigit()


def _terms(model, value: str):
    """The terms a value names by id or slug (none if it names nothing: the filter then matches nothing)."""
    return model.objects.filter(pk=int(value)) if _is_number(value) else model.objects.filter(slug=value)


def _date(request, name: str) -> dt.date | None:
    return params.date(name, request.GET[name]) if name in request.GET else None


class ShuyuanFilter(BaseFilterBackend):
    """Filters by what the content is about: column, topic, material type, province, category, tag
    and date range. Each takes an id or a slug (province takes its code)."""

    def filter_queryset(self, request, queryset, view):
        from cms.models import (
            ArticlePage,
            ColumnPage,
            MaterialType,
            RedExhibitionCategory,
            RedExhibitionPage,
            StudyMaterialPage,
            Topic,
        )

        get = request.GET
        if "column" in get:
            value = get["column"]
            columns = view.get_base_queryset().type(ColumnPage)
            columns = columns.filter(pk=int(value)) if _is_number(value) else columns.filter(slug=value)
            columns = list(columns.only("path", "depth"))
            q = Q(pk__in=[])
            for column in columns:
                q |= Q(path__startswith=column.path, depth=column.depth + 1)
            queryset = queryset.filter(q)
        if "topic" in get:
            terms = _terms(Topic, get["topic"])
            queryset = queryset.filter(pk__in=StudyMaterialPage.objects.filter(topics__in=terms).values("pk"))
        if "material_type" in get:
            terms = _terms(MaterialType, get["material_type"])
            queryset = queryset.filter(pk__in=StudyMaterialPage.objects.filter(material_type__in=terms).values("pk"))
        if "province" in get:
            code = params.province(get["province"])
            queryset = queryset.filter(pk__in=RedExhibitionPage.objects.filter(province=code).values("pk"))
        if "category" in get:
            terms = _terms(RedExhibitionCategory, get["category"])
            queryset = queryset.filter(pk__in=RedExhibitionPage.objects.filter(category__in=terms).values("pk"))
        if "tag" in get:
            queryset = queryset.filter(pk__in=ArticlePage.objects.filter(tags__name=get["tag"]).values("pk"))
        date_from, date_to = _date(request, "date_from"), _date(request, "date_to")
        if date_from or date_to:
            if date_from and date_to and date_from > date_to:
                return queryset.none()  # an empty range: nothing is dated inside it

            def between(name):
                q = Q()
                if date_from:
                    q &= Q(**{f"{name}__gte": date_from})
                if date_to:
                    q &= Q(**{f"{name}__lte": date_to})
                return q

            # The date a reader means: an article's date, a material's issue date, else first publication.
            dated = (
                Q(pk__in=ArticlePage.objects.filter(between("date")).values("pk"))
                | Q(pk__in=StudyMaterialPage.objects.filter(between("issue_date")).values("pk"))
                | (
                    ~Q(pk__in=ArticlePage.objects.values("pk"))
                    & ~Q(pk__in=StudyMaterialPage.objects.values("pk"))
                    & between("first_published_at__date")
                )
            )
            queryset = queryset.filter(dated)
        return queryset


class SafeLocaleFilter(BaseFilterBackend):
    """``?locale=zh-hant``: a code that isn't a content language is a 400 naming those that are, not a
    404; a content language with no pages yet matches nothing."""

    def filter_queryset(self, request, queryset, view):
        if "locale" in request.GET:
            code = params.locale(request.GET["locale"])
            locale = Locale.objects.filter(language_code=code).first()
            if locale is None:
                return queryset.none()
            child_of = getattr(queryset, "_filtered_by_child_of", None)
            queryset = queryset.filter(locale=locale)
            if child_of:
                queryset._filtered_by_child_of = child_of
        return queryset


class SafeSearchFilter(SearchFilter):
    """Wagtail's ``?search=``, its parameters checked first and run over "the items found so far" as
    an id subquery.

    A blank ``search`` or a ``search_operator`` other than ``and`` / ``or`` is a 400 (Wagtail passes
    the operator to the backend, which raises ``ValueError``: a 500). The search backends accept
    filters only on indexed fields; the visibility rules and our filters use others (``expire_at``, a
    file's audience, sub-queries), so the already-filtered queryset is handed over by id.
    """

    def filter_queryset(self, request, queryset, view):
        operator = request.GET.get("search_operator")
        if operator is not None and operator not in SEARCH_OPERATORS:
            raise BadRequestError(f"search_operator must be one of: {', '.join(SEARCH_OPERATORS)}")
        if "search" in request.GET:
            if not request.GET["search"].strip():
                raise BadRequestError("search must not be empty")
            # Random order can't be asked of a search index: matches then come in the index's order.
            ordering = [field for field in queryset.query.order_by if field != "?"]
            queryset = queryset.model.objects.filter(pk__in=queryset.values("pk")).order_by(*ordering)
        return super().filter_queryset(request, queryset, view)


VisibleSearchFilter = SafeSearchFilter  # the pages endpoint's name for it


class SafeOrderingFilter(OrderingFilter):
    """Wagtail's ``?order=``, except that ``order=random`` takes an ``offset`` (it is ignored: any
    window of a random order is a random sample), as the schema allows both."""

    def filter_queryset(self, request, queryset, view):
        if request.GET.get("order") == "random":
            return queryset.order_by("?")
        return super().filter_queryset(request, queryset, view)


class _PageReferenceFilter(BaseFilterBackend):
    """A filter naming a page by id (``?child_of=12``). The id must be a whole number from 1 (a 400
    otherwise); a page the caller can't see, or that doesn't exist, matches nothing (Wagtail's filters
    answer 400 there, and tell a caller which hidden pages exist by the difference)."""

    param = ""
    accepts_root = False  # ``root``: the site's root page

    def filter_queryset(self, request, queryset, view):
        raw = request.GET.get(self.param)
        if raw is None:
            return queryset
        if self.accepts_root and raw == "root":
            page = view.get_root_page()
        else:
            if not _is_number(raw) or int(raw) < 1:
                raise BadRequestError(f"{self.param} must be a page id (a whole number from 1)")
            page = view.get_base_queryset().filter(pk=int(raw)).first()
            if page is None:
                return queryset.none()
        child_of = getattr(queryset, "_filtered_by_child_of", None)
        queryset = self.apply(queryset, page)
        queryset._filtered_by_child_of = child_of or getattr(queryset, "_filtered_by_child_of", None)
        return queryset

    def apply(self, queryset, page):
        raise NotImplementedError


class ChildOfFilter(_PageReferenceFilter):
    param, accepts_root = "child_of", True

    def apply(self, queryset, page):
        queryset = queryset.child_of(page)
        queryset._filtered_by_child_of = page  # Wagtail's explorer hooks read it
        return queryset


class DescendantOfFilter(_PageReferenceFilter):
    """Combines with ``child_of`` (children of one page that are also below another)."""

    param, accepts_root = "descendant_of", True

    def apply(self, queryset, page):
        return queryset.descendant_of(page)


class AncestorOfFilter(_PageReferenceFilter):
    param = "ancestor_of"

    def apply(self, queryset, page):
        return queryset.ancestor_of(page)


class TranslationOfFilter(_PageReferenceFilter):
    param = "translation_of"

    def apply(self, queryset, page):
        return queryset.translation_of(page)
