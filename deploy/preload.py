"""Loading pages for a build in bulk, and remembering their listings for the rest of the build.

A build renders every page of a chunk, so it loads them the way a listing would: one query per page
type, with the snippets and images they show joined in (``select_related``) and their tags, topics,
attachments and image renditions fetched in one query each (``prefetch_related``), instead of a few
queries per page while its template renders.

Listing pages (columns, the study library, red exhibitions) render many routes (pagination, filters),
and each route asks the page for its items again (``page.articles(user)`` ...), which is one large query
per route. For anonymous visitors the answer cannot change during a build, so the build asks once per
page and keeps the items in memory (``Remembered``); later routes filter and paginate that list. The
page's own methods still decide what is listed, in which order: the build only remembers their answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from modelcluster.fields import ParentalKey
from taggit.managers import TaggableManager
from taggit.models import ItemBase
from wagtail.images.models import AbstractImage
from wagtail.models import Page

from cms import visibility

#: page methods that return a page's listed items for a user
LISTING_METHODS = ("articles", "materials", "exhibitions")
#: page methods without arguments that return the terms its filters offer (querysets, or tuples of them)
TERM_METHODS = ("_terms", "_categories")


# -- bulk loading ----------------------------------------------------------------------------------------
def _image_fks(model) -> list[str]:
    return [
        f.name for f in model._meta.fields
        if f.many_to_one and f.related_model is not None and issubclass(f.related_model, AbstractImage)
    ]


def _lookups(model) -> tuple[list[str], list]:
    """``select_related`` and ``prefetch_related`` arguments for a page model's own relations."""
    select, prefetch = [], []
    for f in model._meta.local_fields:
        if f.many_to_one and f.name != "page_ptr" and not issubclass(f.related_model, Page):
            select.append(f.name)
    prefetch += [f"{name}__renditions" for name in _image_fks(model) if name in select]
    for f in model._meta.local_many_to_many:
        if not isinstance(f, TaggableManager):  # tags: see _prefill_tags
            prefetch.append(f.name)
    for rel in model._meta.related_objects:
        related = rel.related_model
        if (
            isinstance(rel.field, ParentalKey)
            and rel.field.model is related
            and related._meta.app_label != "wagtailcore"
            and not issubclass(related, ItemBase)
            and issubclass(model, rel.field.related_model)
        ):
            fks = [
                f.name for f in related._meta.fields
                if f.many_to_one and f is not rel.field and not issubclass(f.related_model, Page)
            ]
            prefetch.append(Prefetch(rel.get_accessor_name(), queryset=related._default_manager.select_related(*fks)))
    return select, prefetch


def load_specific(rows: Iterable[tuple[int, int]], locales: dict) -> list[Page]:
    """The specific pages for ``(pk, content_type_id)`` rows, in the rows' order, ready to render."""
    rows = list(rows)
    by_type: dict[int, list[int]] = defaultdict(list)
    for pk, ct in rows:
        by_type[ct].append(pk)
    found: dict[int, Page] = {}
    for ct, pks in by_type.items():
        model = ContentType.objects.get_for_id(ct).model_class() or Page
        select, prefetch = _lookups(model)
        qs = model._default_manager.filter(pk__in=pks)
        if select:
            qs = qs.select_related(*select)
        if prefetch:
            qs = qs.prefetch_related(*prefetch)
        loaded = list(qs)
        for f in model._meta.local_many_to_many:
            if isinstance(f, TaggableManager):
                _prefill_tags(loaded, f)
        for page in loaded:
            found[page.pk] = page
    pages = []
    for pk, _ct in rows:
        page = found.get(pk)
        if page is not None:
            page.locale = locales[page.locale_id]
            pages.append(page)
    return pages


def _prefill_tags(pages: list, field) -> None:
    """What ``page.tags.all()`` returns, for many pages in one query, in the same order.

    Django's ``prefetch_related("tags")`` works, but modelcluster makes it build two related managers per
    page; this fills the same prefetch cache that taggit reads, directly.
    """
    if not pages:
        return
    through = field.through
    try:
        link = through._meta.get_field("content_object")
    except FieldDoesNotExist:
        link = None
    if link is None or not link.many_to_one:  # generic tagged items: Django's own prefetch
        prefetch_related_objects(pages, field.name)
        return
    tags: dict[int, list] = defaultdict(list)
    for item in through._default_manager.filter(content_object_id__in=[p.pk for p in pages]).select_related(
        "tag"
    ).order_by("id"):
        tags[item.content_object_id].append(item.tag)
    tag_model = through.tag_model()
    for page in pages:
        qs = tag_model._default_manager.none()
        qs._result_cache = tags.get(page.pk, [])
        qs._prefetch_done = True
        page.__dict__.setdefault("_prefetched_objects_cache", {})[field.name] = qs


# -- remembered listings ---------------------------------------------------------------------------------
class Unsupported(Exception):
    pass


class Remembered:
    """A queryset's result kept in memory, with the parts of the QuerySet API listings use.

    ``filter()`` on plain field paths (``province=``, ``category__translation_key=``,
    ``topics__translation_key=``) and ``values_list()`` of plain fields run on the list, keeping its
    order; anything else goes to the database through the original queryset.
    """

    def __init__(self, items: list, queryset: QuerySet) -> None:
        self._items = items
        self._qs = queryset
        self.model = queryset.model
        self._prefetched: set[str] = set()
        self._filtered: dict = {}
        self._indexes: dict[str, dict] = {}

    # sequence
    def __iter__(self):
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __getitem__(self, k):
        return self._items[k]

    def count(self) -> int:
        return len(self._items)

    def exists(self) -> bool:
        return bool(self._items)

    def first(self):
        return self._items[0] if self._items else None

    def all(self):
        return self

    @property
    def ordered(self) -> bool:
        return True

    def __getattr__(self, name):  # anything else: the database, as before
        return getattr(self._qs, name)

    # filtering
    def _path(self, lookup: str):
        """Field names along ``lookup`` and its last field; Unsupported if it ends in a lookup
        (``__in``...) or a relation."""
        model, parts = self.model, lookup.split("__")
        for i, part in enumerate(parts):
            try:
                field = model._meta.get_field(part)
            except FieldDoesNotExist as e:
                raise Unsupported(lookup) from e
            last = i == len(parts) - 1
            if field.is_relation:
                if last or field.related_model is None:
                    raise Unsupported(lookup)
                if field.many_to_many or field.one_to_many:
                    prefix = "__".join(parts[: i + 1])
                    if prefix not in self._prefetched:
                        prefetch_related_objects(self._items, prefix)
                        self._prefetched.add(prefix)
                model = field.related_model
            elif not last:
                raise Unsupported(lookup)
        return parts, field

    def filter(self, *args, **kwargs):
        try:
            if args:
                raise Unsupported("Q objects")
            paths = []
            for lookup, value in kwargs.items():
                parts, field = self._path(lookup)
                value = field.to_python(value)
                if value is None:
                    raise Unsupported("IS NULL")
                hash(value)
                paths.append((lookup, parts, value))
        except (Unsupported, TypeError, ValidationError):
            qs = self._qs.filter(*args, **kwargs)
            return Remembered(list(qs), qs)
        key = tuple(sorted((lookup, value) for lookup, _parts, value in paths))
        result = self._filtered.get(key)
        if result is None:
            items = self._items
            for lookup, parts, value in paths:
                matching = self._index(lookup, parts).get(value, ())
                items = [o for o in items if id(o) in matching]
            result = self._filtered[key] = Remembered(items, self._qs.filter(**kwargs))
        return result

    def _index(self, lookup: str, parts: list[str]) -> dict:
        """value -> ids of the items having it along ``lookup`` (built once per lookup)."""
        index = self._indexes.get(lookup)
        if index is None:
            index = {}
            for obj in self._items:
                for value in _values(obj, parts):
                    index.setdefault(value, set()).add(id(obj))
            self._indexes[lookup] = index
        return index

    def values_list(self, *fields, flat: bool = False):
        names = []
        for name in fields:
            try:
                field = self.model._meta.get_field(name)
            except FieldDoesNotExist:
                return self._qs.values_list(*fields, flat=flat)
            if field.is_relation:
                return self._qs.values_list(*fields, flat=flat)
            names.append(field.attname)
        if flat:
            return [getattr(o, names[0]) for o in self._items]
        return [tuple(getattr(o, n) for n in names) for o in self._items]


def _values(obj, parts: list[str]):
    """Every value found along a field path (several through many-to-many and child relations)."""
    if obj is None:
        return
    cached = getattr(obj, "_prefetched_objects_cache", {}).get(parts[0])
    attr = cached if cached is not None else getattr(obj, parts[0])
    if cached is not None or isinstance(attr, models.Manager) or hasattr(attr, "get_prefetch_querysets"):
        for item in (cached if cached is not None else attr.all()):
            if len(parts) == 1:
                yield item
            else:
                yield from _values(item, parts[1:])
    elif len(parts) == 1:
        yield attr
    else:
        yield from _values(attr, parts[1:])


def remember(result):
    """Evaluate a queryset (or a tuple of them) once; keep it in memory."""
    if isinstance(result, tuple):
        return tuple(remember(r) for r in result)
    if isinstance(result, QuerySet):
        items = list(result)
        images = _image_fks(result.model)
        if images and items:
            prefetch_related_objects(items, *[f"{name}__renditions" for name in images])
        return Remembered(items, result)
    return result


def remember_listings(page: Page) -> None:
    """Make the page's listing and term methods answer from memory for the rest of the build.

    Only anonymous (public) answers are remembered; a member's would go to the database as before.
    """
    for name in LISTING_METHODS:
        method = getattr(page, name, None)
        if callable(method) and name not in page.__dict__:
            page.__dict__[name] = _remembered_listing(method)
    for name in TERM_METHODS:
        method = getattr(page, name, None)
        if callable(method) and name not in page.__dict__:
            page.__dict__[name] = _remembered_terms(method)


def _remembered_listing(method):
    memo = {}

    def listing(user=None):
        if visibility.is_member(user):
            return method(user)
        if "public" not in memo:
            memo["public"] = remember(method(None))
        return memo["public"]

    return listing


def _remembered_terms(method):
    memo = {}

    def terms():
        if "terms" not in memo:
            memo["terms"] = remember(method())
        return memo["terms"]

    return terms
