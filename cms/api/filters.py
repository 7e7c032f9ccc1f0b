"""Query-parameter filters of the pages endpoint, each refusing bad input with a 400 that says why."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from rest_framework.filters import BaseFilterBackend
from taggit.managers import TaggableManager
from wagtail.api.v2.filters import FieldsFilter, SearchFilter
from wagtail.api.v2.utils import BadRequestError, parse_boolean
from wagtail.models import Locale

from cms.provinces import Province

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


def _terms(model, value: str, label: str):
    terms = model.objects.filter(pk=int(value)) if value.isdigit() else model.objects.filter(slug=value)
    if not terms.exists():
        raise BadRequestError(f"{label} '{value}' doesn't exist (give its id or slug)")
    return terms


def _date(request, name: str) -> dt.date | None:
    if name not in request.GET:
        return None
    try:
        return dt.date.fromisoformat(request.GET[name])
    except ValueError as exc:
        raise BadRequestError(f"{name} must be a date as YYYY-MM-DD") from exc


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
            columns = columns.filter(pk=int(value)) if value.isdigit() else columns.filter(slug=value)
            columns = list(columns.only("path", "depth"))
            if not columns:
                raise BadRequestError(f"column '{value}' doesn't exist (give a column page id or slug)")
            q = Q(pk__in=[])
            for column in columns:
                q |= Q(path__startswith=column.path, depth=column.depth + 1)
            queryset = queryset.filter(q)
        if "topic" in get:
            terms = _terms(Topic, get["topic"], "topic")
            queryset = queryset.filter(pk__in=StudyMaterialPage.objects.filter(topics__in=terms).values("pk"))
        if "material_type" in get:
            terms = _terms(MaterialType, get["material_type"], "material_type")
            queryset = queryset.filter(pk__in=StudyMaterialPage.objects.filter(material_type__in=terms).values("pk"))
        if "province" in get:
            if get["province"] not in Province.values:
                raise BadRequestError(
                    f"province '{get['province']}' is not a province code; use one of: {', '.join(Province.values)}"
                )
            queryset = queryset.filter(pk__in=RedExhibitionPage.objects.filter(province=get["province"]).values("pk"))
        if "category" in get:
            terms = _terms(RedExhibitionCategory, get["category"], "category")
            queryset = queryset.filter(pk__in=RedExhibitionPage.objects.filter(category__in=terms).values("pk"))
        if "tag" in get:
            queryset = queryset.filter(pk__in=ArticlePage.objects.filter(tags__name=get["tag"]).values("pk"))
        date_from, date_to = _date(request, "date_from"), _date(request, "date_to")
        if date_from or date_to:
            if date_from and date_to and date_from > date_to:
                raise BadRequestError("date_from is later than date_to")

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
    """``?locale=zh-hant``: an unknown language code is a 400 naming the known ones, not a 404."""

    def filter_queryset(self, request, queryset, view):
        if "locale" in request.GET:
            code = request.GET["locale"]
            locale = Locale.objects.filter(language_code=code).first()
            if locale is None:
                known = ", ".join(Locale.objects.order_by("language_code").values_list("language_code", flat=True))
                raise BadRequestError(f"locale '{code}' doesn't exist; use one of: {known}")
            child_of = getattr(queryset, "_filtered_by_child_of", None)
            queryset = queryset.filter(locale=locale)
            if child_of:
                queryset._filtered_by_child_of = child_of
        return queryset


class VisibleSearchFilter(SearchFilter):
    """Wagtail's ``?search=``, run over "the pages found so far" as an id subquery.

    The search backends accept filters only on indexed fields; the visibility rule and our filters use
    others (``expire_at``, sub-queries), so the already-filtered queryset is handed over by id.
    """

    def filter_queryset(self, request, queryset, view):
        if "search" in request.GET:
            if len(request.GET["search"].strip()) == 0:
                raise BadRequestError("search must not be empty")
            ordering = queryset.query.order_by
            queryset = queryset.model.objects.filter(pk__in=queryset.values("pk")).order_by(*ordering)
        return super().filter_queryset(request, queryset, view)
